"""`qa eval` end to end on tiny sets, with real indexes built by the product's own pipeline."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest

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
    # The reliability plot and table: every asked question lands in one confidence bin.
    assert (tmp_path / "out" / "reliability.png").is_file()
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "### Reliability (hybrid)" in report and "![Reliability" in report
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    hybrid = results["modes"]["hybrid"]
    assert sum(b["n"] for b in hybrid["reliability"]) == 6

    assert qa_main(["eval", *common, "--modes", "bm25", "--floors", "unmet", "--no-plots"]) == 1
    assert "is below the floor 1.0100" in capsys.readouterr().out


# A split set over the same two fixture reports: two tune and two check questions, one of each
# part a near-miss that changes one condition of a stated fact.
SPLIT_SET = [
    {"id": "s-01", "question": "河川監測經費是多少？", "lang": "zh-Hant", "type": "number",
     "doc": "河川監測年報", "answers": ["3.75億元"], "evidence": ["河川監測經費為 3.75億元"],
     "lines": [5, 5], "split": "tune", "condition": None},
    {"id": "s-02", "question": "本年度新植造林面積有多大？", "lang": "zh-Hant", "type": "fact",
     "doc": "森林碳匯報告", "answers": ["2,480 公頃"], "evidence": ["新植造林面積達 2,480 公頃"],
     "lines": [5, 5], "split": "check", "condition": None},
    {"id": "s-03", "question": "2019 年新設了幾座自動水質監測站？", "lang": "zh-Hant",
     "type": "unanswerable", "doc": None, "answers": [], "evidence": [], "split": "check",
     "condition": "year"},
    {"id": "s-04", "question": "What was the budget of the forest fire monitoring programme?",
     "lang": "en", "type": "unanswerable", "doc": None, "answers": [], "evidence": [],
     "split": "tune", "condition": "programme"},
]  # fmt: skip


@pytest.fixture(scope="module")
def split_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("split-set") / "split_set.jsonl"
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in SPLIT_SET), encoding="utf-8")
    return path


def test_split_option_runs_one_part_and_reports_refusals_by_kind(
    tiny_run, split_set: Path, tmp_path: Path
) -> None:
    _, tiny_out = tiny_run
    options = dataclasses.replace(OPTIONS, modes=("bm25", "hybrid"), split="check")
    run = run_eval(
        split_set, _config(tiny_out / "index"), out_dir=tmp_path, options=options,
        index_dir=tiny_out / "index", plots=False,
    )  # fmt: skip
    assert run.info.n_questions == 2 and run.info.n_unanswerable == 1
    assert {(o.question_id, o.split) for o in run.outcomes} == {("s-02", "check"), ("s-03", "check")}
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["split"] == {"check": 2}
    hybrid = results["modes"]["hybrid"]
    assert set(hybrid["answers_by_split"]) == {"check"} and set(hybrid["retrieval_by_split"]) == {"check"}
    assert set(hybrid["refusal_by_condition"]) == {"year"}
    assert hybrid["refusal_by_condition"]["year"]["n"] == 1
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "- Split: check only" in md and "### Refusal by near-miss kind (hybrid)" in md
    rows = _rows(tmp_path)
    assert {(r["id"], r["split"], r["condition"]) for r in rows} == {
        ("s-02", "check", ""),
        ("s-03", "check", "year"),
    }

    every = dataclasses.replace(options, modes=("bm25",), answer_modes=(), split="all")
    whole = run_eval(
        split_set, _config(tiny_out / "index"), out_dir=tmp_path / "all", options=every,
        index_dir=tiny_out / "index", plots=False,
    )  # fmt: skip
    assert whole.info.n_questions == 4


def test_qa_eval_split_flag(
    tiny_run, split_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, tiny_out = tiny_run
    common = ["--index", str(tiny_out / "index"), "--out", str(tmp_path), "--k", "1,5", "-q", "--no-plots"]
    assert qa_main(["eval", str(split_set), *common, "--modes", "bm25", "--split", "tune"]) == 0
    assert "split_set (tune only): 2 questions" in capsys.readouterr().out
    # Sets without a split field cannot be limited to a part.
    assert qa_main(["eval", str(TINY_SET), *common, "--modes", "bm25", "--split", "check"]) == 2
    assert "tiny_set.jsonl: the set has no 'split' field" in capsys.readouterr().err
    # SQuAD-style sets split by article: articles 1 and 2 hash to the check half, 3 to the other.
    out = ["--out", str(tmp_path / "squad"), "--k", "1,5", "-q", "--no-plots", "--modes", "bm25"]
    assert qa_main(["eval", str(TINY_SQUAD), *out, "--split", "check"]) == 0
    check = capsys.readouterr().out
    assert qa_main(["eval", str(TINY_SQUAD), *out, "--split", "tune"]) == 0
    tune = capsys.readouterr().out
    assert qa_main(["eval", str(TINY_SQUAD), *out]) == 0
    whole = capsys.readouterr().out

    def count(printed: str) -> int:
        return int(printed.split(" questions")[0].rsplit(" ", 1)[-1])

    assert count(check) > 0 and count(tune) > 0 and count(check) + count(tune) == count(whole)
    with pytest.raises(SystemExit) as info:  # argparse rejects an unknown part itself
        qa_main(["eval", str(split_set), *common, "--split", "dev"])
    assert info.value.code == 2 and "invalid choice: 'dev'" in capsys.readouterr().err


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
