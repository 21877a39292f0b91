"""`qa eval` end to end on tiny sets, with real indexes built by the product's own pipeline."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest

pytest.importorskip("qa.pipeline", reason="the pipeline is not available yet")

from evaluation.runner import EvalOptions, run_eval
from qa.cli import main as qa_main
from qa.config import Config
from qa.pipeline import Pipeline

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "eval"
TINY_SET = FIXTURES / "tiny_set.jsonl"
TINY_SQUAD = FIXTURES / "tiny_squad.json"
OPTIONS = EvalOptions(ks=(1, 5), progress=False)


def _config(index_dir: Path) -> Config:
    return Config().updated({"index_dir": index_dir})


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _rows(out_dir: Path) -> list[dict[str, str]]:
    with (out_dir / "per_question.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("tiny-eval")
    run = run_eval(
        TINY_SET,
        _config(out / "unused"),
        out_dir=out,
        options=OPTIONS,
        corpus=[FIXTURES / "reports"],
        plots=False,
    )
    return run, out


def test_jsonl_set_runs_every_question_in_every_mode(tiny_run) -> None:
    run, out = tiny_run
    assert run.info.index_dir == str(out / "index")
    assert run.info.n_documents == 2 and run.info.n_passages >= 2
    assert run.verbatim_problems == [] and run.unreachable == []
    rows = _rows(out)
    assert len(rows) == 6 * 3
    assert {r["mode"] for r in rows} == {"bm25", "dense", "hybrid"}
    asked = [r for r in rows if r["verdict"]]
    assert {r["mode"] for r in asked} == {"hybrid"} and len(asked) == 6
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert set(results["modes"]) == {"bm25", "dense", "hybrid"}
    assert results["modes"]["hybrid"]["answers"]["n_unanswerable"] == 1
    assert "| hybrid | 5 |" in (out / "report.md").read_text(encoding="utf-8")


def test_ranks_and_answers_match_what_search_and_ask_return(tiny_run) -> None:
    """Recompute the per-question table from the pipeline, with plain whitespace-free matching."""
    run, out = tiny_run
    evidence = {
        q["id"]: q["evidence"] for q in map(json.loads, TINY_SET.read_text(encoding="utf-8").splitlines())
    }
    pipe = Pipeline.open(_config(out / "index"))
    try:
        for row in _rows(out):
            if row["mode"] == "dense":
                continue  # hybrid covers the embedding path; keep the test short
            hits = pipe.search(row["question"], k=run.info.search_depth, mode=row["mode"])
            ranks = [
                position
                for position, h in enumerate(hits, start=1)
                if any(_squeeze(e) in _squeeze(h.chunk.text) for e in evidence[row["id"]])
            ]
            assert row["rank"] == (str(ranks[0]) if ranks else ""), row
            if row["mode"] == "hybrid" and row["id"] in ("t-01", "t-06"):
                answer = pipe.ask(row["question"], mode="hybrid")
                assert answer.text in row["shown_answer"]
                assert row["abstained"] == str(int(answer.abstained))
    finally:
        pipe.close()


def test_squad_set_indexes_its_paragraphs_and_reuses_the_index(tmp_path: Path) -> None:
    config = _config(tmp_path / "unused")
    retrieval_only = EvalOptions(modes=("bm25", "hybrid"), answer_modes=(), ks=(1, 5), progress=False)
    first = run_eval(TINY_SQUAD, config, out_dir=tmp_path, options=retrieval_only, plots=False)
    assert first.info.set_kind == "squad" and first.info.n_passages == 5
    assert first.info.index_seconds is not None
    hybrid = first.mode("hybrid")
    assert hybrid.retrieval.n == 5 and hybrid.answers is None
    # Five distinct short paragraphs: the gold one must come first for most questions.
    assert hybrid.retrieval.recall[5] == 1.0 and hybrid.retrieval.recall[1] >= 0.6
    bm25_only = dataclasses.replace(retrieval_only, modes=("bm25",))
    again = run_eval(TINY_SQUAD, config, out_dir=tmp_path, options=bm25_only, plots=False)
    assert again.info.index_seconds is None  # the cached paragraph index was reused
    assert again.mode("bm25").retrieval == first.mode("bm25").retrieval
    sliced = run_eval(
        TINY_SQUAD,
        config,
        out_dir=tmp_path,
        options=dataclasses.replace(bm25_only, limit=2, paragraphs=3),
        plots=False,
    )
    assert sliced.info.index_seconds is not None and sliced.info.n_passages == 3
    assert sliced.info.n_questions == 2


def test_qa_eval_command_prints_calibration_and_enforces_floors(
    tiny_run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, tiny_out = tiny_run
    floors = tmp_path / "floors.toml"
    floors.write_text('[met.hybrid]\n"recall@5" = 0.5\n[unmet.bm25]\n"mrr@10" = 1.01\n', encoding="utf-8")
    common = [str(TINY_SET), "--index", str(tiny_out / "index"), "--out", str(tmp_path / "out")]
    common += ["--k", "1,5", "-q", "--floors-file", str(floors)]
    assert qa_main(["eval", *common, "--modes", "hybrid", "--floors", "met", "--calibrate"]) == 0
    printed = capsys.readouterr().out
    assert "floors met: all met" in printed
    assert "abstention trade-off (5 answerable, 1 unanswerable" in printed
    assert "suggested threshold" in printed and "abstain_below" in printed
    for name in ("report.md", "results.json", "per_question.csv", "recall_at_k.png", "latency.png"):
        assert (tmp_path / "out" / name).is_file(), name

    assert qa_main(["eval", *common, "--modes", "bm25", "--floors", "unmet", "--no-plots"]) == 1
    assert "is below the floor 1.0100" in capsys.readouterr().out


def test_qa_eval_command_reports_bad_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "x", "question": "q", "lang": "de", "type": "fact", "answers": ["a"]}\n', encoding="utf-8"
    )
    assert qa_main(["eval", str(bad), "--index", str(tmp_path / "none"), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qa: bad.jsonl line 1: 'lang' is 'de'") and "\n" not in err
    assert qa_main(["eval", str(tmp_path / "missing.jsonl"), "-q"]) == 2
    assert "no such question set" in capsys.readouterr().err
