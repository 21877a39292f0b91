"""Metric functions, loaders, judging, floors and the report writer, on hand-made data (no pipeline)."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path

import pytest
from ci_guard import skip_or_fail

from corpus.types import Chunk
from evaluation.calibration import calibrate, format_table
from evaluation.drcd import is_squad_json, load_squad
from evaluation.floors import DEFAULT_FLOORS, FloorsError, check_floors, load_floors, metric_value
from evaluation.judging import Judge
from evaluation.matching import fold
from evaluation.metrics import (
    Breakdowns,
    Outcome,
    RefusalScores,
    answer_scores,
    first_relevant_rank,
    mode_breakdowns,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
)
from evaluation.questions import (
    Question,
    QuestionSetError,
    Split,
    check_verbatim,
    evenly_spaced,
    load_questions,
    question_from_json,
    select_split,
    split_for_id,
)
from evaluation.report import CSV_COLUMNS, write_report
from evaluation.summary import EvalRun, RunInfo, summarize_mode

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "eval"
DRCD = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "drcd" / "DRCD_dev.json"


def _chunk(text: str, file_name: str = "河川監測年報.txt", chunk_id: str = "d:0") -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        doc_id=chunk_id.split(":")[0],
        ordinal=0,
        file_name=file_name,
        title="t",
        text=text,
        char_start=0,
        char_end=len(text),
        section_path=(),
    )


def _outcome(qid: str, mode: str = "hybrid", **kw: object) -> Outcome:
    fields: dict[str, object] = {
        "question_id": qid,
        "question": f"question {qid}",
        "lang": "zh-Hant",
        "type": "fact",
        "answerable": True,
        "mode": mode,
        "rank": None,
        "relevant": (),
        "n_relevant": 1,
        "search_ms": 10.0,
    }
    fields.update(kw)
    return Outcome(**fields)  # type: ignore[arg-type]


# -- ranking metrics ----------------------------------------------------------------------------
def test_rank_recall_and_mrr_on_hand_made_rankings() -> None:
    rankings = [
        (True, False, False),  # rank 1
        (False, False, True),  # rank 3
        (False, False, False),  # none
        (False, True, True),  # rank 2
    ]
    ranks = [first_relevant_rank(r) for r in rankings]
    assert ranks == [1, 3, None, 2]
    assert recall_at_k(ranks, 1) == 0.25
    assert recall_at_k(ranks, 2) == 0.5
    assert recall_at_k(ranks, 3) == 0.75
    assert mrr_at_k(ranks, 10) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    # Beyond the cut-off a hit earns nothing.
    assert mrr_at_k([11, 1], 10) == pytest.approx(0.5)
    assert recall_at_k([], 5) == 0.0 and mrr_at_k([], 10) == 0.0


def test_ndcg_with_one_and_several_relevant_passages() -> None:
    assert ndcg_at_k([True, False], n_relevant=1) == pytest.approx(1.0)
    assert ndcg_at_k([False, False, True], n_relevant=1) == pytest.approx(1 / math.log2(4))
    # Two relevant passages exist; only one retrieved, at rank 1.
    assert ndcg_at_k([True, False, False], n_relevant=2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    # Both retrieved, in the wrong places.
    expected = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k([False, True, True], n_relevant=2) == pytest.approx(expected)
    # Relevant beyond k does not count; nothing relevant gives 0.
    assert ndcg_at_k([False] * 10 + [True], n_relevant=1, k=10) == 0.0
    assert ndcg_at_k([False, False], n_relevant=0) == 0.0


def test_percentile_interpolates() -> None:
    assert percentile([10.0, 20.0, 30.0, 40.0], 50) == pytest.approx(25.0)
    assert percentile([1.0] * 19 + [100.0], 95) == pytest.approx(5.95)
    assert percentile([], 95) == 0.0


# -- answer metrics -----------------------------------------------------------------------------
def test_answer_scores_count_hits_citations_and_refusals() -> None:
    outcomes = [
        _outcome("a", asked=True, answer_hit=True, citations=2, relevant_citations=2, confidence=0.9),
        _outcome("b", asked=True, answer_hit=False, citations=2, relevant_citations=1, confidence=0.6),
        _outcome("c", asked=True, abstained=True, confidence=0.1),  # answerable, wrongly refused
        _outcome("d", asked=True, answerable=False, type="unanswerable", abstained=True, confidence=0.2),
        _outcome("e", asked=True, answerable=False, type="unanswerable", citations=1, confidence=0.7),
        _outcome("f", asked=False),  # searched only: not part of the answer figures
    ]
    scores = answer_scores(outcomes)
    assert (scores.n_answerable, scores.n_unanswerable) == (3, 2)
    assert scores.answer_hit == pytest.approx(1 / 3)
    # Citations of answered answerable questions only: 3 relevant of 4.
    assert scores.citation_precision == pytest.approx(0.75) and scores.n_citations == 4
    assert scores.unanswerable_refused == pytest.approx(0.5)
    assert scores.answerable_refused == pytest.approx(1 / 3)
    assert scores.accuracy == pytest.approx(2 / 5)
    assert [o.verdict for o in outcomes] == [
        "hit",
        "miss",
        "wrongly-refused",
        "correctly-refused",
        "wrongly-answered",
        "",
    ]


def test_answer_scores_errors_are_misses() -> None:
    scores = answer_scores([_outcome("a", asked=True, answer_hit=True, error="bad question")])
    assert scores.answer_hit == 0.0 and scores.errors == 1
    empty = answer_scores([])
    assert empty.answer_hit is None and empty.citation_precision is None


def test_breakdowns_by_split_and_near_miss_kind() -> None:
    unanswerable = {"answerable": False, "type": "unanswerable", "n_relevant": 0, "asked": True}
    outcomes = [
        _outcome("a", split="tune", rank=1, relevant=(True,), asked=True, answer_hit=True),
        _outcome("b", split="check", asked=True),  # answered, but not with an acceptable answer
        _outcome("u1", split="tune", condition="year", abstained=True, **unanswerable),
        _outcome("u2", split="check", condition="year", **unanswerable),  # wrongly answered
        _outcome("u3", split="check", condition="agency", abstained=True, **unanswerable),
        _outcome("u4", split="check", condition="agency", abstained=True, error="boom", **unanswerable),
        _outcome("u5", split="check", abstained=True, **unanswerable),  # a set may leave one unlabelled
        _outcome("a", "bm25", split="tune", rank=1, relevant=(True,)),  # another mode: not counted
    ]
    parts = mode_breakdowns(outcomes, "hybrid", (1, 5))
    assert sorted(parts.retrieval_by_split) == ["check", "tune"]
    assert parts.retrieval_by_split["tune"].recall == {1: 1.0, 5: 1.0}
    assert parts.retrieval_by_split["check"].n == 1 and parts.retrieval_by_split["check"].recall[5] == 0.0
    tune, check = parts.answers_by_split["tune"], parts.answers_by_split["check"]
    assert (tune.n_answerable, tune.n_unanswerable, tune.accuracy) == (1, 1, 1.0)
    assert (check.n_answerable, check.n_unanswerable) == (1, 4)
    assert check.unanswerable_refused == pytest.approx(2 / 4)  # the error is no refusal
    assert parts.refusal_by_condition == {
        "agency": RefusalScores(n=2, refused=1, refusal_rate=0.5, errors=1),
        "unlabelled": RefusalScores(n=1, refused=1, refusal_rate=1.0, errors=0),
        "year": RefusalScores(n=2, refused=1, refusal_rate=0.5, errors=0),
    }
    # A set with neither splits nor condition labels (DRCD, older sets) has nothing to break down.
    plain = [_outcome("x", asked=True, answer_hit=True), _outcome("y", "hybrid", **unanswerable)]
    assert mode_breakdowns(plain, "hybrid", (1,)) == Breakdowns({}, {}, {})


# -- calibration --------------------------------------------------------------------------------
def test_calibration_table_and_suggested_threshold() -> None:
    answerable = [0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35, 0.2]
    unanswerable = [0.1, 0.25, 0.3, 0.5, 0.05]
    cal = calibrate(answerable, unanswerable, max_answerable_refused=0.1)
    by_t = {round(r.threshold, 2): r for r in cal.rows}
    assert by_t[0.0].answerable_refused == 0.0 and by_t[0.0].unanswerable_answered == 1.0
    assert by_t[0.3].answerable_refused == pytest.approx(0.1)
    assert by_t[0.3].unanswerable_answered == pytest.approx(0.4)  # 0.3 and 0.5 still answered
    # At most one answerable (0.2) may be refused: the best is refusing below 0.35, which drops
    # 0.1, 0.25, 0.3 and 0.05; the suggestion sits midway between 0.3 and 0.35.
    assert cal.suggested is not None
    assert cal.suggested.threshold == pytest.approx(0.325)
    assert cal.suggested.answerable_refused == pytest.approx(0.1)
    assert cal.suggested.unanswerable_answered == pytest.approx(0.2)
    text = format_table(cal)
    assert "suggested threshold 0.3250" in text and "0.30" in text


def test_calibration_needs_both_kinds() -> None:
    assert calibrate([0.5, 0.6], []).suggested is None
    assert "no suggestion" in format_table(calibrate([0.5], []))


# -- matching and judging -----------------------------------------------------------------------
def test_fold_ignores_whitespace_width_markup_and_script() -> None:
    assert fold("經費為\n 3.75 億元") == fold("经费为3.75亿元")
    assert fold("ＮＴ\\$１２") == fold("NT$12")
    assert fold("**重點**計畫") == fold("重點計畫")
    assert fold("使用普及率 ^[2]\t80%") == fold("使用普及率\n80%")
    assert fold("Buoys") == "buoys"


def test_judge_relevance_respects_the_named_report() -> None:
    q = Question(
        id="q",
        question="?",
        lang="zh-Hant",
        type="number",
        doc="河川監測年報",
        answers=("3.75億元",),
        evidence=("監測經費為 3.75億元",),
    )
    judge = Judge()
    wrapped = "本年度河川監測經\n費為3.75 億元，較前一年度成長。"
    assert judge.is_relevant(q, _chunk(wrapped))
    assert judge.is_relevant(q, _chunk(wrapped, file_name="河川監測年報.pdf", chunk_id="p:0"))
    assert not judge.is_relevant(q, _chunk(wrapped, file_name="森林碳匯報告.txt", chunk_id="f:0"))
    assert not judge.is_relevant(q, _chunk("無關的段落", chunk_id="x:0"))
    chunks = {c.chunk_id: c for c in (_chunk(wrapped), _chunk("無關", chunk_id="x:0"))}
    assert judge.count_relevant(q, chunks) == 1
    assert judge.answer_hit(q, "经费为 3.75 亿[1]元")  # Simplified, spaced, a citation mark inside
    assert not judge.answer_hit(q, "經費為 3.7億元")


def test_judge_uses_gold_chunks_when_given() -> None:
    q = Question(
        id="g", question="?", lang="zh-Hant", type="fact", answers=("鑄鐵",), gold_chunk_ids=("a:0",)
    )
    judge = Judge()
    assert judge.is_relevant(q, _chunk("鑄鐵", chunk_id="a:0"))
    assert not judge.is_relevant(q, _chunk("鑄鐵", chunk_id="b:0"))  # holds the answer, not the gold
    assert judge.count_relevant(q, {"b:0": _chunk("x", chunk_id="b:0")}) == 0


# -- question sets ------------------------------------------------------------------------------
def test_load_questions_reads_the_fixture_set() -> None:
    questions = load_questions(FIXTURES / "tiny_set.jsonl")
    assert [q.id for q in questions] == ["t-01", "t-02", "t-03", "t-04", "t-05", "t-06"]
    first, last = questions[0], questions[-1]
    assert first.answers == ("3.75億元",) and first.lines == (5, 5) and first.answerable
    assert last.type == "unanswerable" and not last.answerable and last.doc is None
    assert {q.lang for q in questions} == {"zh-Hant", "zh-Hans", "en"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "x", "question": "q", "lang": "fr", "type": "fact", "answers": ["a"]}', "'lang' is 'fr'"),
        ('{"id": "x", "lang": "en", "type": "fact", "answers": ["a"]}', "'question'"),
        ('{"id": "x", "question": "q", "lang": "en", "type": "fact", "answers": []}', "exactly when"),
        ('{"id": "x", "question": "q", "lang": "en", "type": "fact", "answers": "a"}', "list of strings"),
        (
            '{"id": "x", "question": "q", "lang": "en", "type": "fact", "answers": ["a"], "lines": [0, 1]}',
            "lines",
        ),
        ('{"id": "x", "question": "q",', "not valid JSON"),
    ],
)
def test_load_questions_names_line_and_reason(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    good = '{"id": "ok", "question": "q", "lang": "en", "type": "fact", "answers": ["a"]}'
    path.write_text(good + "\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(QuestionSetError, match=message) as info:
        load_questions(path)
    assert str(info.value).startswith("bad.jsonl line 3:")


def test_load_questions_rejects_duplicates_and_empty_files(tmp_path: Path) -> None:
    line = '{"id": "x", "question": "q", "lang": "en", "type": "fact", "answers": ["a"]}\n'
    (tmp_path / "dup.jsonl").write_text(line * 2, encoding="utf-8")
    with pytest.raises(QuestionSetError, match="duplicate id 'x'"):
        load_questions(tmp_path / "dup.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(QuestionSetError, match="no questions"):
        load_questions(tmp_path / "empty.jsonl")
    with pytest.raises(QuestionSetError, match="cannot read"):
        load_questions(tmp_path / "missing.jsonl")


def test_split_and_condition_are_read_and_checked() -> None:
    base = {"id": "dev-001", "question": "q", "lang": "en", "type": "unanswerable", "answers": []}
    q = question_from_json({**base, "split": "check", "condition": "year"})
    assert (q.split, q.condition) == ("check", "year")
    assert question_from_json(base).split is None and question_from_json(base).condition is None
    answerable = {**base, "type": "fact", "answers": ["a"], "split": "tune", "condition": None}
    assert question_from_json(answerable).split == "tune"
    with pytest.raises(ValueError, match="'split' is 'dev'"):
        question_from_json({**base, "split": "dev"})
    with pytest.raises(ValueError, match="'condition' is 'colour'"):
        question_from_json({**base, "condition": "colour"})
    with pytest.raises(ValueError, match="unanswerable questions only"):
        question_from_json({**answerable, "condition": "year"})
    # DRCD questions are built directly and carry neither.
    assert Question(id="d", question="q", lang="zh-Hant", type="fact").split is None


def test_split_rule_is_a_fixed_hash_of_the_id() -> None:
    ids = [f"dev-{n:03d}" for n in range(1, 401)]
    splits = [split_for_id(i) for i in ids]
    assert splits == [split_for_id(i) for i in ids]  # no state, no randomness
    assert set(splits) == {"tune", "check"}
    assert 0.5 <= splits.count("tune") / len(ids) <= 0.7
    # Pinned: changing the rule would silently move committed questions between the parts.
    assert [split_for_id(f"dev-{n:03d}") for n in range(1, 6)] == ["check", "check", "tune", "tune", "tune"]


def test_select_split_keeps_one_part_and_refuses_unsplit_sets() -> None:
    def q(i: str, split: Split | None) -> Question:
        return Question(id=i, question="q", lang="en", type="fact", answers=("a",), split=split)

    items = [q("1", "tune"), q("2", "check"), q("3", "tune")]
    assert [x.id for x in select_split(items, "tune")] == ["1", "3"]
    assert [x.id for x in select_split(items, "check")] == ["2"]
    assert select_split(items, "all") == items
    with pytest.raises(QuestionSetError, match=r"tiny\.jsonl: the set has no 'split' field"):
        select_split([q("1", None)], "check", set_name="tiny.jsonl")
    with pytest.raises(QuestionSetError, match="no questions in split 'check'"):
        select_split([q("1", "tune")], "check")
    assert select_split([q("1", None)], "all") == [q("1", None)]


def test_check_verbatim_finds_strings_not_in_the_corpus() -> None:
    questions = load_questions(FIXTURES / "tiny_set.jsonl")
    texts = {p.stem: p.read_text(encoding="utf-8") for p in (FIXTURES / "reports").iterdir()}
    assert check_verbatim(questions, texts) == []
    broken = [
        Question(id="b1", question="?", lang="en", type="fact", doc="森林碳匯報告", answers=("3.75億元",)),
        Question(id="b2", question="?", lang="en", type="fact", doc="不存在的報告", answers=("x",)),
        Question(
            id="b3", question="?", lang="en", type="fact", answers=("2,480公頃",), evidence=("沒有這句",)
        ),
    ]
    problems = check_verbatim(broken, texts)
    assert problems == [
        "b1: answer '3.75億元' not found in 森林碳匯報告",  # in a report, but not the one named
        "b2: report '不存在的報告' is not in the corpus",
        "b3: evidence '沒有這句' not found in any report",
    ]


def test_evenly_spaced_slice_is_fixed_and_spread() -> None:
    items = [Question(id=str(i), question="q", lang="en", type="fact", answers=("a",)) for i in range(10)]
    assert [q.id for q in evenly_spaced(items, 4)] == ["0", "2", "5", "7"]
    assert evenly_spaced(items, None) == items and evenly_spaced(items, 50) == items


# -- SQuAD-style sets ---------------------------------------------------------------------------
def test_load_squad_builds_one_document_and_chunk_per_paragraph() -> None:
    squad = load_squad(FIXTURES / "tiny_squad.json")
    assert len(squad.paragraphs) == 5 and len(squad.questions) == 5
    docs, chunks = squad.documents(), squad.chunks()
    for doc, chunk in zip(docs, chunks, strict=True):
        assert chunk.doc_id == doc.doc_id and chunk.chunk_id == f"{doc.doc_id}:0"
        assert chunk.text == doc.text[chunk.char_start : chunk.char_end]
        assert chunk.section_path == (doc.title,)
    first = squad.questions[0]
    assert first.answers == ("1898年",)  # duplicate annotations collapse
    assert first.type == "number" and squad.questions[1].type == "fact"
    assert first.gold_chunk_ids == (chunks[0].chunk_id,)
    assert len({c.doc_id for c in chunks}) == 5


def test_load_squad_slice_keeps_gold_then_siblings() -> None:
    squad = load_squad(FIXTURES / "tiny_squad.json", limit=2, max_paragraphs=3)
    assert [q.id for q in squad.questions] == ["1-1-1", "1-2-1"]
    # Gold 1-1 and 1-2, then a paragraph of another article (no siblings left in article 1).
    ids = [p.paragraph_id for p in squad.paragraphs]
    assert ids[:2] == ["1-1", "1-2"] and len(ids) == 3
    squad = load_squad(FIXTURES / "tiny_squad.json", limit=1, max_paragraphs=2)
    assert [p.paragraph_id for p in squad.paragraphs] == ["1-1", "1-2"]  # the sibling first
    assert squad.fingerprint() != load_squad(FIXTURES / "tiny_squad.json").fingerprint()


def test_squad_detection_and_bad_files(tmp_path: Path) -> None:
    assert is_squad_json(FIXTURES / "tiny_squad.json")
    assert not is_squad_json(FIXTURES / "tiny_set.jsonl")
    (tmp_path / "broken.json").write_text('{"data": [', encoding="utf-8")
    with pytest.raises(QuestionSetError, match=r"broken\.json: not a readable"):
        load_squad(tmp_path / "broken.json")
    (tmp_path / "odd.json").write_text('{"data": [{"paragraphs": [{"qas": []}]}]}', encoding="utf-8")
    with pytest.raises(QuestionSetError, match=r"odd\.json: unexpected SQuAD structure"):
        load_squad(tmp_path / "odd.json")


def test_drcd_dev_loads_whole_and_as_the_ci_slice() -> None:
    if not DRCD.is_file():
        skip_or_fail(f"the shared DRCD file is not present at {DRCD}")
    full = load_squad(DRCD)
    assert len(full.paragraphs) == 1000 and len(full.questions) == 3524
    ci = load_squad(DRCD, limit=200, max_paragraphs=300)
    assert len(ci.questions) == 200 and len(ci.paragraphs) == 300
    indexed = {p.chunk_id for p in ci.paragraphs}
    assert all(q.gold_chunk_ids[0] in indexed for q in ci.questions)
    assert len({q.id.split("-")[0] for q in ci.questions}) > 50  # spread over many articles


# -- summaries, floors and the report -----------------------------------------------------------
def _run() -> EvalRun:
    outcomes: list[Outcome] = []
    for i, (rank, lang) in enumerate([(1, "zh-Hant"), (2, "en"), (None, "en"), (6, "zh-Hans")]):
        relevant = tuple(r == rank for r in range(1, 11))
        for mode in ("bm25", "hybrid"):
            asked = mode == "hybrid"
            outcomes.append(
                _outcome(
                    f"q{i}",
                    mode,
                    lang=lang,
                    rank=rank,
                    relevant=relevant,
                    search_ms=5.0 + i,
                    asked=asked,
                    answer_hit=asked and rank is not None and rank <= 2,
                    shown_answer="答案 | 3.75億元 [1]" if asked else "",
                    citations=1 if asked else 0,
                    relevant_citations=1 if asked and rank == 1 else 0,
                    confidence=0.9 - 0.1 * i if asked else None,
                    ask_ms=50.0 if asked else None,
                )
            )
    outcomes.append(
        _outcome(
            "u",
            "hybrid",
            answerable=False,
            type="unanswerable",
            n_relevant=0,
            asked=True,
            abstained=True,
            confidence=0.1,
            ask_ms=40.0,
        )
    )
    outcomes.append(_outcome("u", "bm25", answerable=False, type="unanswerable", n_relevant=0))
    ks = (1, 5, 10)
    info = RunInfo(
        set_name="tiny",
        set_path="tiny.jsonl",
        set_kind="jsonl",
        n_questions=5,
        n_answerable=4,
        n_unanswerable=1,
        index_dir="idx",
        n_documents=2,
        n_passages=9,
        modes=("bm25", "hybrid"),
        answer_modes=("hybrid",),
        ks=ks,
        search_depth=10,
        started_at="2026-01-01T00:00:00+00:00",
        seconds=1.0,
    )
    modes = [summarize_mode(m, outcomes, ks) for m in ("bm25", "hybrid")]
    return EvalRun(info=info, modes=modes, outcomes=outcomes, unreachable=["q2"])


def test_summaries_split_by_language_and_exclude_unanswerable_from_ranking() -> None:
    run = _run()
    hybrid = run.mode("hybrid")
    assert hybrid.retrieval.n == 4
    assert hybrid.retrieval.recall == {1: 0.25, 5: 0.5, 10: 0.75}
    assert hybrid.retrieval.mrr_at_10 == pytest.approx((1 + 0.5 + 0 + 1 / 6) / 4)
    assert hybrid.retrieval_by_lang["en"].recall[5] == 0.5
    assert "unanswerable" not in hybrid.retrieval_by_type
    assert hybrid.answers is not None and hybrid.answers.answer_hit == 0.5
    assert hybrid.answers.unanswerable_refused == 1.0
    assert run.mode("bm25").answers is None
    with pytest.raises(KeyError, match="dense"):
        run.mode("dense")


def _split_run() -> EvalRun:
    """The tiny run as a split set: two tune and three check questions, the unanswerable one a near-miss."""
    run = _run()
    splits = {"q0": "tune", "q1": "check", "q2": "tune", "q3": "check", "u": "check"}
    run.outcomes = [
        dataclasses.replace(o, split=splits[o.question_id], condition="country" if not o.answerable else None)
        for o in run.outcomes
    ]
    return run


def test_report_breaks_down_by_split_and_near_miss_kind(tmp_path: Path) -> None:
    write_report(_split_run(), tmp_path, plots=False)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "- Split: tune 2, check 3" in md
    # Recall@5 by split: tune holds ranks 1 and none, check ranks 2 and 6.
    assert "### Recall@5 by split" in md and "| hybrid | 0.500 (2) | 0.500 (2) |" in md
    assert "### Answers by split (hybrid)" in md
    assert "| check | 2 | 0.500 | 0.000 (2) | 1 | 1.000 | 0.000 | 0.667 | 0 |" in md
    assert "### Refusal by near-miss kind (hybrid)" in md
    assert "| country | 1 | 1 | 1.000 | 0 |" in md

    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["split"] == {"tune": 2, "check": 3}
    hybrid = results["modes"]["hybrid"]
    assert hybrid["refusal_by_condition"] == {
        "country": {"n": 1, "refused": 1, "refusal_rate": 1.0, "errors": 0}
    }
    assert hybrid["answers_by_split"]["tune"]["answer_hit"] == 0.5  # q0 hit, q2 missed
    assert hybrid["retrieval_by_split"]["check"]["recall"]["5"] == 0.5
    assert (
        results["modes"]["bm25"]["answers_by_split"] == {}
        and results["modes"]["bm25"]["refusal_by_condition"] == {}
    )

    with (tmp_path / "per_question.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["id"], r["split"], r["condition"]) for r in rows if r["mode"] == "hybrid"} == {
        ("q0", "tune", ""),
        ("q1", "check", ""),
        ("q2", "tune", ""),
        ("q3", "check", ""),
        ("u", "check", "country"),
    }


def test_report_of_an_unsplit_set_has_no_split_sections(tmp_path: Path) -> None:
    write_report(_run(), tmp_path, plots=False)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "Split:" not in md and "by split" not in md and "near-miss kind" not in md
    assert json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["split"] == {}


def test_floors_pass_fail_and_ceilings(tmp_path: Path) -> None:
    run = _run()
    hybrid = run.mode("hybrid")
    assert metric_value(hybrid, "recall@5") == 0.5
    assert metric_value(hybrid, "recall@5[en]") == 0.5
    assert metric_value(hybrid, "answer_hit[zh-Hant]") == 1.0
    assert metric_value(hybrid, "recall@20") is None  # not a measured cut-off
    floors = tmp_path / "floors.toml"
    floors.write_text(
        "[tiny.hybrid]\n"
        '"recall@5" = 0.5\n'
        '"mrr@10" = 0.9\n'
        "answerable_refused = 0.0\n"
        "[tiny.bm25]\n"
        '"recall@1" = 0.25\n'
        "[tiny.dense]\n"
        '"recall@1" = 0.1\n',
        encoding="utf-8",
    )
    failures = check_floors(run, load_floors("tiny", floors))
    assert len(failures) == 2
    assert failures[0].startswith("hybrid mrr@10 = 0.4167 is below the floor 0.9000")
    assert failures[1].startswith("dense: mode not evaluated")
    with pytest.raises(FloorsError, match="no floors for 'other'"):
        load_floors("other", floors)
    with pytest.raises(FloorsError, match="unknown metric"):
        metric_value(hybrid, "precision")


def test_committed_floors_parse_and_name_known_metrics() -> None:
    for name in ("drcd-slice", "devset"):
        floors = load_floors(name, DEFAULT_FLOORS)
        assert "hybrid" in floors
        for metrics in floors.values():
            for metric, value in metrics.items():
                assert 0.0 <= value <= 1.0, metric
                metric_value(_run().mode("hybrid"), metric)  # raises on an unknown name


def test_write_report_writes_every_artifact(tmp_path: Path) -> None:
    run = _run()
    paths = write_report(run, tmp_path / "out")
    names = sorted(p.name for p in paths)
    assert names == sorted(
        [
            "report.md",
            "results.json",
            "per_question.csv",
            "recall_at_k.png",
            "answer_accuracy.png",
            "latency.png",
        ]
    )
    for png in (p for p in paths if p.suffix == ".png"):
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000

    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["modes"]["hybrid"]["retrieval"]["recall"]["5"] == 0.5
    assert results["modes"]["hybrid"]["answers"]["answer_hit"] == 0.5
    assert results["modes"]["bm25"]["answers"] is None
    assert results["unreachable"] == ["q2"]

    with (tmp_path / "out" / "per_question.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == len(run.outcomes)
    hybrid_q1 = next(r for r in rows if r["id"] == "q1" and r["mode"] == "hybrid")
    assert hybrid_q1["rank"] == "2" and hybrid_q1["verdict"] == "hit"
    assert hybrid_q1["shown_answer"] == "答案 | 3.75億元 [1]"

    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "| hybrid | 4 | 0.250 | 0.500 | 0.750 | 0.417 |" in md
    assert "| bm25 | 4 | 0.250 | 0.500 | 0.750 | 0.417 |" in md
    assert "### Recall@5 by language" in md
    assert "### Abstention trade-off (hybrid)" in md
    assert "答案 \\| 3.75億元" in md  # a pipe in an answer cannot break the table
    assert "![Recall@k per mode](recall_at_k.png)" in md
    assert "no relevant passage anywhere in the index" in md
