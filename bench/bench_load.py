"""Load benchmark: concurrent users against a real `qa serve` on 127.0.0.1, through gradio_client.

    .venv/bin/python bench/bench_load.py [--users 20] [--questions 10]

The index holds the fixture reports of tests/fixtures/reports. Every user has its own client
(its own session) and sends a mix of questions in Traditional Chinese, Simplified Chinese and
English, follow-ups with a history, searches, and searches with their CSV/JSON exports. Each reply
is compared with the reply to the same request sent alone beforehand: any difference counts as
cross-talk. Then the same load runs while a separate `qa ingest` process adds a report to the same
index and publishes a new generation; there every reply must still be a valid answer to its own
question, and the benchmark reports whether the running server came to see the new report.

tests/test_load.py runs the short form (4 users x 3 questions) with the functions defined here.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradio_client import Client

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
BASE_REPORTS = FIXTURES / "reports"
# A Traditional Chinese report the base index does not hold: the ingest during load adds it.
EXTRA_REPORT = FIXTURES / "answer" / "ocean_tech_2024.txt"
EXTRA_PROBE = "海氣象觀測站"  # words only the extra report contains

CALL_TIMEOUT_S = 180.0  # one request, queue wait included
SERVER_START_S = 300.0  # process start, model load and warm-up on a busy machine


@dataclass(frozen=True)
class Request:
    """One thing a user does; `expect` is a string every valid answer to it contains."""

    kind: str  # "ask", "search" or "export" (the Search tab's button: results plus export files)
    text: str
    history: tuple[str, ...] = ()
    expect: str = ""

    @property
    def label(self) -> str:
        return "follow-up" if self.history else self.kind


# The answers were checked against the fixture reports; none of them changes when the extra report
# is added, so the same expectations hold before, during and after the ingest.
WORKLOAD: tuple[Request, ...] = (
    Request("ask", "潮流機組的平均可用率是多少？", expect="87.5%"),
    Request("search", "dissolved oxygen"),
    Request("ask", "2024 年度计划总经费是多少？", expect="12.6 億元"),
    Request("export", "潮流發電 可用率"),
    Request("ask", "How many stations did the agency sample?", expect="42"),
    Request("ask", "那 2023 年呢？", history=("潮流機組的平均可用率是多少？",), expect="81.2%"),
    Request("search", "人才培育"),
    Request("ask", "本年度共培訓海洋工程人才多少人？", expect="326"),
    Request("export", "microplastics 2023"),
    Request("ask", "潮流机组的平均可用率是多少？", expect="87.5%"),
    Request(
        "ask",
        "What about 2023?",
        history=("What was the microplastic concentration in 2024?",),
        expect="3.4 particles",
    ),
    Request("search", "波浪机组 颱風"),
    Request("ask", "What was the mean dissolved oxygen?", expect="6.8 mg/L"),
    Request("ask", "2024 年度計畫總經費為多少？", expect="12.6 億元"),
)


@dataclass
class Outcome:
    """What one request returned, reduced to what must not differ between users."""

    user: int
    request: Request
    seconds: float
    started: float
    signature: tuple[Any, ...] | None = None
    error: str | None = None


# ---- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def qa_env() -> dict[str, str]:
    """The environment of every `qa` child: no user qa.toml, nothing fetched from the hub."""
    return {**os.environ, "QA_CONFIG": "", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


@dataclass
class Server:
    """A `qa serve` process in its own process group, logging to a file."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def start_server(index_dir: Path, log: Path) -> Server:
    """Start `qa serve` on a free loopback port; return once it answers HTTP."""
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "qa", "serve", "--index", str(index_dir), "--port", str(port), "-q"],
            cwd=REPO,
            env=qa_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one signal to the group stops it and anything it started
        )
    server = Server(process, f"http://127.0.0.1:{port}/", log)
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"qa serve exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(server.url, timeout=5) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"qa serve did not answer within {SERVER_START_S:.0f} s")


# ---- one user -----------------------------------------------------------------------------------


def connect(url: str, downloads: Path) -> Client:
    """A client with its own session; the Search tab's event is made callable (see `_export`)."""
    client = Client(url, verbose=False, analytics_enabled=False, download_files=str(downloads))
    for endpoint in client.endpoints.values():
        if endpoint.api_name == "/on_search":
            # The Search button's event is not a public API (the browser calls it by its index);
            # gradio_client refuses such events unless told otherwise, so tell it.
            endpoint.is_valid = True
    return client


def _search_fn(client: Client) -> int:
    return next(e.fn_index for e in client.endpoints.values() if e.api_name == "/on_search")


def _ask(client: Client, request: Request) -> tuple[Any, ...]:
    kwargs: dict[str, Any] = {"question": request.text, "api_name": "/ask"}
    if request.history:
        kwargs["history"] = list(request.history)
    result = client.submit(**kwargs).result(timeout=CALL_TIMEOUT_S)
    if "error" in result:
        raise RuntimeError(f"error payload: {result['error']}")
    citations = tuple((c["chunk_id"], c["quote"]) for c in result["citations"])
    return (result["question"], result["text"], result["abstained"], citations)


def _search(client: Client, request: Request) -> tuple[Any, ...]:
    result = client.submit(query=request.text, k=5, api_name="/search").result(timeout=CALL_TIMEOUT_S)
    if "error" in result:
        raise RuntimeError(f"error payload: {result['error']}")
    rows = result["results"]
    return (result["query"], tuple(r["chunk_id"] for r in rows), tuple(round(r["score"], 4) for r in rows))


def _export(client: Client, request: Request) -> tuple[Any, ...]:
    """What a researcher's Search button does: ranked passages plus CSV and JSON files to download."""
    job = client.submit(request.text, [], "", "", 5, "hybrid", fn_index=_search_fn(client))
    _html, csv_button, json_button, _bib = job.result(timeout=CALL_TIMEOUT_S)
    if not (csv_button.get("visible") and json_button.get("visible")):
        raise RuntimeError("the search offered no export files")
    exported = json.loads(Path(json_button["value"]).read_text(encoding="utf-8"))
    with open(csv_button["value"], encoding="utf-8-sig", newline="") as fh:
        csv_ids = tuple(row["chunk_id"] for row in csv.DictReader(fh))
    json_ids = tuple(r["chunk_id"] for r in exported["results"])
    if csv_ids != json_ids:
        raise RuntimeError(f"CSV and JSON exports of one search differ: {csv_ids} vs {json_ids}")
    scores = tuple(round(r["score"], 4) for r in exported["results"])
    return (exported["query"], json_ids, scores)


CALLS: dict[str, Callable[[Client, Request], tuple[Any, ...]]] = {
    "ask": _ask,
    "search": _search,
    "export": _export,
}


def call(client: Client, user: int, request: Request) -> Outcome:
    """Send one request; any exception or error payload becomes the outcome's error."""
    started = time.monotonic()
    try:
        signature = CALLS[request.kind](client, request)
        return Outcome(user, request, time.monotonic() - started, started, signature=signature)
    except Exception as exc:  # counted and shown, never raised: one failure must not hide the others
        return Outcome(
            user, request, time.monotonic() - started, started, error=f"{type(exc).__name__}: {exc}"
        )


def plan(user: int, questions: int) -> list[Request]:
    """The user's requests: the workload in turn, so users at the same step send different things."""
    return [WORKLOAD[(user * questions + i) % len(WORKLOAD)] for i in range(questions)]


def run_users(
    url: str,
    users: int,
    questions: int,
    downloads: Path,
    *,
    keep_going: Callable[[], bool] = lambda: False,
    max_questions: int | None = None,
    budget_s: float = 900.0,
) -> list[Outcome]:
    """Run `users` threads; each sends `questions` requests, more while `keep_going()` holds.

    Bounded both ways: at most `max_questions` per user, and nothing is sent after `budget_s`.
    """
    cap = max(questions, max_questions or questions)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    clients = [connect(url, downloads / f"user-{u}") for u in range(users)]
    start = threading.Barrier(users)
    deadline = time.monotonic() + budget_s

    def user_loop(user: int) -> None:
        requests = plan(user, cap)
        start.wait()  # everyone begins at once
        for step, request in enumerate(requests):
            if step >= questions and not keep_going():
                break
            if time.monotonic() > deadline:
                outcome = Outcome(user, request, 0.0, time.monotonic(), error="not sent: time budget spent")
            else:
                outcome = call(clients[user], user, request)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=user_loop, args=(u,), daemon=True) for u in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(budget_s + CALL_TIMEOUT_S * 2)
    for client in clients:
        client.close()
    return outcomes


# ---- checks -------------------------------------------------------------------------------------


def sequential_baseline(url: str, downloads: Path) -> dict[Request, tuple[Any, ...]]:
    """Every request of the workload sent once, alone, by one client: the reference replies."""
    client = connect(url, downloads / "baseline")
    try:
        replies: dict[Request, tuple[Any, ...]] = {}
        for request in WORKLOAD:
            outcome = call(client, -1, request)
            if outcome.error or outcome.signature is None:
                raise RuntimeError(f"sequential {request.kind} {request.text!r} failed: {outcome.error}")
            replies[request] = outcome.signature
        return replies
    finally:
        client.close()


def problems(outcome: Outcome, baseline: dict[Request, tuple[Any, ...]], exact: bool) -> list[str]:
    """What is wrong with one reply: an error, an answer to another question, or an invalid answer.

    exact=True compares with the sequential reply to the same request (steady load). exact=False is
    for the load during an ingest, where a server that picks up the new generation may rank
    differently: the reply must still echo its own question, hold the expected figure (answers) and
    put the same passage first (searches).
    """
    request = outcome.request
    if outcome.error or outcome.signature is None:
        return [f"error: {outcome.error}"]
    found: list[str] = []
    sig = outcome.signature
    if sig[0] != request.text:
        found.append(f"cross-talk: sent {request.text!r}, the reply is for {sig[0]!r}")
    reference = baseline[request]
    if exact and sig != reference:
        others = [r.text for r, s in baseline.items() if s == sig and r != request]
        found.append(
            f"cross-talk: reply to {request.text!r} differs from the sequential one"
            + (f" and equals the reply to {others[0]!r}" if others else "")
        )
    if request.kind == "ask" and request.expect not in sig[1]:
        found.append(f"invalid: answer to {request.text!r} lacks {request.expect!r}: {sig[1][:120]!r}")
    if request.kind != "ask" and (not sig[1] or sig[1][0] != reference[1][0]):
        found.append(f"invalid: {request.text!r} no longer puts {reference[1][0]} first: {sig[1][:3]}")
    return found


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


@dataclass
class Summary:
    calls: int
    errors: list[str] = field(default_factory=list)
    crosstalk: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)


def summarize(outcomes: Sequence[Outcome], baseline: dict[Request, tuple[Any, ...]], exact: bool) -> Summary:
    summary = Summary(calls=len(outcomes))
    bins = {"error": summary.errors, "cross-talk": summary.crosstalk, "invalid": summary.invalid}
    for outcome in outcomes:
        label = outcome.request.label
        summary.kinds[label] = summary.kinds.get(label, 0) + 1
        for problem in problems(outcome, baseline, exact):
            kind, _, text = problem.partition(": ")
            bins[kind].append(f"user {outcome.user}: {text}")
    timed = [o.seconds * 1000 for o in outcomes if o.error is None]
    summary.p50_ms, summary.p95_ms = percentile(timed, 50), percentile(timed, 95)
    return summary


# ---- ingest during load -------------------------------------------------------------------------


def start_ingest(report: Path, index_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    """`qa ingest` of one report into the served index, as its own process."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "qa", "ingest", str(report), "--index", str(index_dir), "-q"],
            cwd=REPO,
            env=qa_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@dataclass
class IngestRun:
    """An ingest that ran under load: its exit code and how many requests it overlapped."""

    returncode: int | None
    seconds: float
    overlapped: int
    outcomes: list[Outcome]


def load_during_ingest(
    url: str, index_dir: Path, users: int, questions: int, workdir: Path, budget_s: float = 900.0
) -> IngestRun:
    """Keep `users` busy (at least `questions` requests each) until `qa ingest` has published."""
    ingest = start_ingest(EXTRA_REPORT, index_dir, workdir / "ingest.log")
    began = time.monotonic()
    finished: list[float] = []

    def watch() -> None:  # the moment the ingest ends, to count the requests it overlapped
        try:
            ingest.wait(timeout=budget_s)
        finally:
            finished.append(time.monotonic())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        outcomes = run_users(
            url,
            users,
            questions,
            workdir / "downloads",
            keep_going=lambda: ingest.poll() is None,
            max_questions=questions * 50,
            budget_s=budget_s,
        )
    finally:
        watcher.join(budget_s)
        if ingest.poll() is None:  # out of budget: stop it rather than leave it running
            os.killpg(ingest.pid, signal.SIGKILL)
            ingest.wait()
    end = finished[0] if finished else time.monotonic()
    overlapped = sum(o.started < end for o in outcomes)
    return IngestRun(ingest.returncode, end - began, overlapped, outcomes)


def new_report_visible(url: str, downloads: Path) -> bool:
    """Does the running server find the report the ingest added?"""
    client = connect(url, downloads / "probe")
    try:
        found = client.predict(query=EXTRA_PROBE, k=3, api_name="/search")
        return any(r["file_name"] == EXTRA_REPORT.name for r in found.get("results", []))
    finally:
        client.close()


def build_index(workdir: Path) -> Path:
    """A fresh index of the base fixture reports under `workdir` (model loaded in this process)."""
    from qa.config import Config
    from qa.pipeline import ingest

    reports = workdir / "reports"
    shutil.copytree(BASE_REPORTS, reports)
    index_dir = workdir / "index"
    ingest([reports], Config().updated({"index_dir": index_dir}), progress=False)
    return index_dir


def _print_summary(title: str, summary: Summary) -> None:
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(summary.kinds.items()))
    print(f"{title}: {summary.calls} calls ({kinds})")
    print(
        f"  errors {len(summary.errors)}, cross-talk found {len(summary.crosstalk)}, "
        f"invalid answers {len(summary.invalid)}, latency p50 {summary.p50_ms:.0f} ms, "
        f"p95 {summary.p95_ms:.0f} ms"
    )
    for line in (summary.errors + summary.crosstalk + summary.invalid)[:10]:
        print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10, help="requests per user")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="qa-bench-load-"))
    server: Server | None = None
    try:
        index_dir = build_index(workdir)
        server = start_server(index_dir, workdir / "serve.log")
        downloads = workdir / "downloads"
        baseline = sequential_baseline(server.url, downloads)
        print(f"users x questions: {args.users} x {args.questions}")

        began = time.monotonic()
        outcomes = run_users(server.url, args.users, args.questions, downloads)
        wall = time.monotonic() - began
        _print_summary("steady load", summarize(outcomes, baseline, exact=True))
        print(f"  wall {wall:.1f} s, {len(outcomes) / wall:.1f} requests/s")

        run = load_during_ingest(server.url, index_dir, args.users, args.questions, workdir)
        _print_summary("during ingest", summarize(run.outcomes, baseline, exact=False))
        visible = "yes" if new_report_visible(server.url, downloads) else "no"
        print(
            f"  qa ingest exit code {run.returncode} after {run.seconds:.1f} s; {run.overlapped} requests "
            f"started while it ran; new report visible to the running server: {visible}"
        )
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
