"""Kill benchmark: SIGKILL `qa ingest` at random moments, then check the index a reader opens.

    .venv/bin/python bench/bench_kill.py [--trials 20] [--seed 7]

Each trial starts from the same index of the fixture reports (tests/fixtures/reports) and runs one
`qa ingest` process: a full build (`--rebuild`), an update that adds a report, or one that changes
a report. Half the trials kill it at a seeded random delay after it starts (mostly while it imports,
reads and loads the model, which dominates on these small reports); the other half wait until its
staging folder appears and kill it a seeded random moment later, while it embeds and writes. After
every kill a fresh Pipeline opens the index: it must answer, and hold either the previous
generation or the complete new one, never a mix. Then a new ingest must complete and leave no
staging folder behind.

tests/test_faults.py runs the short form (4 trials) with the functions defined here.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from index.storage import POINTER, TMP_PREFIX
from qa.config import Config
from qa.errors import QAError
from qa.pipeline import Pipeline, ingest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
BASE_REPORTS = FIXTURES / "reports"
EXTRA_REPORT = FIXTURES / "answer" / "ocean_tech_2024.txt"
CHANGED_REPORT = "harbour-survey.txt"

KINDS = ("full", "add", "change")
# A kill "after start" lands in this window (seconds); the ingest of these small reports takes
# roughly 6-20 s depending on the machine's load, most of it starting Python and loading the model.
START_WINDOW_S = (0.3, 12.0)
STAGING_WINDOW_S = (0.0, 0.4)  # after the staging folder appears: embedding a few chunks, writing
PROCESS_LIMIT_S = 300.0  # an ingest that runs longer than this is stopped and counted as a failure

IndexState = frozenset[tuple[str, str]]  # (file name, content hash) of every indexed report


@dataclass(frozen=True)
class Plan:
    number: int
    kind: str  # "full", "add" or "change"
    trigger: str  # "start": kill `delay` s after the process starts; "staging": after staging appears
    delay: float


@dataclass
class Trial:
    plan: Plan
    killed: bool = False  # the process was still running when the signal went
    while_writing: bool = False  # its staging folder existed at that moment
    published: bool = False  # CURRENT moved before the kill
    usable: bool = False  # a fresh Pipeline opened the index and answered
    consistent: bool = False  # it held the previous generation or the complete new one
    recovered: bool = False  # the next ingest completed and left no staging folder
    detail: str = ""

    @property
    def corrupted(self) -> bool:
        return not (self.usable and self.consistent)


def plans(trials: int, seed: int) -> list[Plan]:
    """Kinds and triggers in turn, delays drawn from a seeded generator (the same run every time)."""
    rng = random.Random(seed)
    out = []
    for n in range(trials):
        trigger = "staging" if n % 2 else "start"
        window = STAGING_WINDOW_S if trigger == "staging" else START_WINDOW_S
        out.append(Plan(n + 1, KINDS[n % len(KINDS)], trigger, round(rng.uniform(*window), 3)))
    return out


def state(config: Config) -> IndexState:
    pipe = Pipeline.open(config)
    try:
        return frozenset((d.file_name, d.content_hash) for d in pipe.documents())
    finally:
        pipe.close()


def answers(config: Config) -> str:
    """'' when a fresh Pipeline over the index answers both checks, else what went wrong."""
    try:
        pipe = Pipeline.open(config)
    except QAError as exc:
        return f"cannot open: {exc}"
    try:
        hits = pipe.search("dissolved oxygen", k=1)
        if not hits or hits[0].chunk.file_name != CHANGED_REPORT:
            return f"search found {[h.chunk.file_name for h in hits]}"
        answer = pipe.ask("潮流機組的平均可用率是多少？")
        if "87.5%" not in answer.text:
            return f"answer lacks 87.5%: {answer.text[:80]!r}"
        return ""
    except Exception as exc:  # any failure of a reader is what this benchmark counts
        return f"{type(exc).__name__}: {exc}"
    finally:
        pipe.close()


def staging_folders(index_dir: Path) -> list[Path]:
    return [p for p in index_dir.glob(f"{TMP_PREFIX}*") if p.is_dir()]


@dataclass
class Workspace:
    """Fixed paths reused by every trial (so unchanged reports keep their indexed path)."""

    root: Path
    base_index: Path

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def index(self) -> Path:
        return self.root / "index"

    @property
    def config(self) -> Config:
        return Config().updated({"index_dir": self.index})


def prepare(root: Path) -> Workspace:
    """Index the base reports once; every trial starts from a copy of this index."""
    reports = root / "reports"
    shutil.copytree(BASE_REPORTS, reports)
    ingest([reports], Config().updated({"index_dir": root / "index"}), progress=False)
    base = root / "base-index"
    shutil.copytree(root / "index", base)
    return Workspace(root, base)


def reset(ws: Workspace, kind: str) -> list[str]:
    """Restore the base reports and index, apply the trial's change; the ingest's extra arguments."""
    shutil.rmtree(ws.reports)
    shutil.copytree(BASE_REPORTS, ws.reports)
    shutil.rmtree(ws.index)
    shutil.copytree(ws.base_index, ws.index)
    if kind == "add":
        shutil.copy2(EXTRA_REPORT, ws.reports / EXTRA_REPORT.name)
    elif kind == "change":
        with open(ws.reports / CHANGED_REPORT, "a", encoding="utf-8") as fh:
            fh.write("\n4. Follow-up\n\nA follow-up survey of the inner basin is planned for 2026.\n")
    return ["--rebuild"] if kind == "full" else []


@contextmanager
def ingest_process(ws: Workspace, extra: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    """`qa ingest` in its own process group; whatever happens, nothing of it outlives the block."""
    env = {**os.environ, "QA_CONFIG": "", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa", "ingest", str(ws.reports), "--index", str(ws.index), "-q", *extra],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def kill_at(proc: subprocess.Popen[bytes], ws: Workspace, plan: Plan) -> tuple[bool, bool]:
    """Wait for the plan's moment and SIGKILL the process group; (killed, staging existed)."""
    started = time.monotonic()
    limit = started + PROCESS_LIMIT_S
    if plan.trigger == "staging":
        while proc.poll() is None and not staging_folders(ws.index) and time.monotonic() < limit:
            time.sleep(0.005)
        moment = time.monotonic() + plan.delay
    else:
        moment = started + plan.delay
    while proc.poll() is None and time.monotonic() < moment:
        time.sleep(0.005)
    if proc.poll() is not None:
        return False, False
    writing = bool(staging_folders(ws.index))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return True, writing


def run_trial(ws: Workspace, plan: Plan, before: IndexState) -> Trial:
    trial = Trial(plan)
    extra = reset(ws, plan.kind)
    pointer = (ws.index / POINTER).read_text(encoding="utf-8")
    with ingest_process(ws, extra) as proc:
        trial.killed, trial.while_writing = kill_at(proc, ws, plan)
    trial.published = (ws.index / POINTER).read_text(encoding="utf-8") != pointer

    # A reader right after the kill: it must answer, from the previous generation or the new one.
    problem = answers(ws.config)
    trial.usable = not problem
    after_kill = state(ws.config) if trial.usable else frozenset()

    # The next writer cleans up after the killed one and finishes the job.
    try:
        ingest([ws.reports], ws.config, rebuild=plan.kind == "full", progress=False)
        complete = state(ws.config)
        applied = complete != before or plan.kind == "full"  # an update really changed the index
        trial.recovered = applied and not staging_folders(ws.index) and not answers(ws.config)
    except Exception as exc:  # counted, not raised: the summary shows every trial
        complete = frozenset()
        problem = problem or f"recovery failed: {type(exc).__name__}: {exc}"
    # Until CURRENT moves the reader sees the previous generation; after, the complete new one.
    trial.consistent = after_kill == (complete if trial.published else before)
    trial.detail = problem
    return trial


def run_trials(ws: Workspace, trial_plans: list[Plan]) -> list[Trial]:
    before = state(Config().updated({"index_dir": ws.base_index}))
    return [run_trial(ws, plan, before) for plan in trial_plans]


def report(trials: list[Trial]) -> str:
    lines = ["trial kind    trigger  delay  killed  writing  published  usable  consistent  recovered"]
    for t in trials:
        p = t.plan
        lines.append(
            f"{p.number:5d} {p.kind:7s} {p.trigger:8s} {p.delay:5.2f}  {t.killed!s:6s}  "
            f"{t.while_writing!s:7s}  {t.published!s:9s}  {t.usable!s:6s}  {t.consistent!s:10s}  "
            f"{t.recovered!s:9s} {t.detail}"
        )
    killed = sum(t.killed for t in trials)
    lines.append(
        f"trials {len(trials)}: killed mid-run {killed} ({sum(t.while_writing for t in trials)} while "
        f"writing), finished before the kill {len(trials) - killed}; corrupted indexes "
        f"{sum(t.corrupted for t in trials)}; previous or new generation answered "
        f"{sum(t.usable for t in trials)}; recoveries {sum(t.recovered for t in trials)}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="qa-bench-kill-"))
    try:
        ws = prepare(root)
        started = time.monotonic()
        trials = run_trials(ws, plans(args.trials, args.seed))
        print(report(trials))
        print(f"{time.monotonic() - started:.0f} s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
