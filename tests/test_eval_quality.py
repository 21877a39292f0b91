"""The CI evaluation: a fixed DRCD slice and the development set must stay above evaluation/floors.toml.

Reports are written to $QA_EVAL_OUT/<set> when that variable is set (to keep them as CI
artifacts), else to a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evaluation.runner import EvalOptions, run_eval
from evaluation.summary import EvalRun
from qa.config import Config

pytestmark = pytest.mark.eval

REPO = Path(__file__).resolve().parents[1]
DEVSET = REPO / "evaluation" / "data" / "devset.jsonl"
# The CI slice: 200 evenly spaced questions, their gold paragraphs and 100 same-article distractors;
# every question is searched in all modes, 100 of them are also answered (answering costs the most).
DRCD_SLICE = EvalOptions(limit=200, paragraphs=300, answer_limit=100, progress=False)


def _out(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    root = os.environ.get("QA_EVAL_OUT")
    return Path(root) / name if root else tmp_path_factory.mktemp(name)


def _summary(run: EvalRun) -> str:
    lines = []
    for m in run.modes:
        r = m.retrieval
        recall = " ".join(f"R@{k}={v:.3f}" for k, v in r.recall.items())
        hit = f" hit={m.answers.answer_hit:.3f}" if m.answers and m.answers.answer_hit is not None else ""
        lines.append(f"{m.mode}: {recall} MRR@10={r.mrr_at_10:.3f}{hit}")
    return "\n".join(lines)


def test_drcd_slice_meets_floors(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    out = _out(tmp_path_factory, "drcd-slice")
    config = Config().updated({"index_dir": out / "index"})
    drcd = shared_dir / "datasets" / "drcd" / "DRCD_dev.json"
    run = run_eval(drcd, config, out_dir=out, options=DRCD_SLICE, floors="drcd-slice")
    assert run.info.n_questions == 200 and run.info.n_passages == 300
    assert not run.floor_failures, "\n".join([*run.floor_failures, _summary(run), f"report: {out}"])


def test_devset_meets_floors(sample_reports: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    if not DEVSET.is_file():
        pytest.fail(f"{DEVSET} is missing")
    out = _out(tmp_path_factory, "devset")
    config = Config().updated({"index_dir": out / "index"})
    # The .txt renderings only: the PDFs carry the same text, and the set's line numbers refer to the .txt.
    corpus = sorted(sample_reports.glob("*.txt"))
    run = run_eval(
        DEVSET, config, out_dir=out, options=EvalOptions(progress=False), corpus=corpus, floors="devset"
    )
    assert run.verbatim_problems == [], "\n".join(run.verbatim_problems)
    assert not run.floor_failures, "\n".join([*run.floor_failures, _summary(run), f"report: {out}"])
