"""Load: concurrent users against a real `qa serve`, steady and while `qa ingest` publishes.

The short form of bench/bench_load.py: 4 users x 3 requests each (questions in three scripts,
follow-ups with a history, searches, searches with their exports), every reply compared with the
reply to the same request sent alone. Latency is printed, never asserted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, load_script

from index.storage import POINTER

pytestmark = pytest.mark.slow  # a server process with the embedding model, and an ingest beside it

bench_load = load_script(REPO / "bench" / "bench_load.py", "bench_load")

USERS = 4
QUESTIONS = 3


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("load")


@pytest.fixture(scope="module")
def index_dir(workdir: Path, default_embedder) -> Path:
    """This module's own index (the ingest test adds a report to it)."""
    return bench_load.build_index(workdir)


@pytest.fixture(scope="module")
def server(index_dir: Path, workdir: Path) -> Iterator[Any]:
    running = bench_load.start_server(index_dir, workdir / "serve.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def baseline(server: Any, workdir: Path) -> dict[Any, tuple[Any, ...]]:
    """The reply to every request of the workload, sent one at a time before any load."""
    replies = bench_load.sequential_baseline(server.url, workdir / "downloads")
    summary = bench_load.summarize(
        [bench_load.Outcome(-1, r, 0.0, 0.0, signature=s) for r, s in replies.items()], replies, exact=True
    )
    assert not summary.invalid, summary.invalid  # the expectations hold without any load
    return replies


def _report(title: str, summary: Any) -> str:
    return (
        f"{title}: {USERS} users x {QUESTIONS} requests, {summary.calls} calls {summary.kinds}; errors "
        f"{len(summary.errors)}, cross-talk {len(summary.crosstalk)}, invalid {len(summary.invalid)}; "
        f"p50 {summary.p50_ms:.0f} ms, p95 {summary.p95_ms:.0f} ms"
    )


def test_concurrent_users_get_their_own_answers(server: Any, baseline: dict, workdir: Path) -> None:
    outcomes = bench_load.run_users(server.url, USERS, QUESTIONS, workdir / "downloads", budget_s=600)
    summary = bench_load.summarize(outcomes, baseline, exact=True)
    print(_report("steady", summary))
    assert len(outcomes) == USERS * QUESTIONS
    assert summary.errors == []
    assert summary.crosstalk == []
    assert summary.invalid == []
    assert set(summary.kinds) == {"ask", "follow-up", "search", "export"}  # the whole mix ran


def test_ingest_under_load_publishes_without_errors(
    server: Any, baseline: dict, index_dir: Path, workdir: Path
) -> None:
    pointer = (index_dir / POINTER).read_text(encoding="utf-8")
    run = bench_load.load_during_ingest(server.url, index_dir, USERS, QUESTIONS, workdir, budget_s=600)
    summary = bench_load.summarize(run.outcomes, baseline, exact=False)
    visible = bench_load.new_report_visible(server.url, workdir / "downloads")
    print(_report("during ingest", summary), f"; overlapped {run.overlapped}; new report visible: {visible}")

    assert run.returncode == 0, (workdir / "ingest.log").read_text(encoding="utf-8")
    assert (index_dir / POINTER).read_text(encoding="utf-8") != pointer  # a new generation went live
    assert run.overlapped > 0  # requests were in flight while the ingest ran
    assert summary.errors == []
    assert summary.crosstalk == []
    assert summary.invalid == []
