"""Integrity checks of the development question set against the sample report texts."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path

import pytest
from ci_guard import skip_or_fail

REPO = Path(__file__).resolve().parents[1]
DEVSET = REPO / "evaluation" / "data" / "devset.jsonl"
REPORTS = REPO.parent / "shared" / "reports"

LANGS = frozenset({"zh-Hant", "zh-Hans", "en"})
TYPES = frozenset({"fact", "number", "table", "cross-lingual", "paraphrase", "unanswerable"})
DOCS = frozenset({"113年度中央政府科技研發績效彙編", "智慧國家方案2024年階段成果報告"})
FIELDS = ("id", "question", "lang", "type", "doc", "answers", "evidence", "lines", "split", "condition")
SPLITS = ("tune", "check")
# The one condition a near-miss unanswerable question changes in an answerable fact.
NEAR_MISS_KINDS = frozenset({"agency", "year", "country", "metric", "qualifier", "programme"})
CONDITIONS = NEAR_MISS_KINDS | {"other"}
ID_PATTERN = re.compile(r"dev-\d{3}")
CJK = re.compile(r"[\u3400-\u9fff]")
EVIDENCE_CHARS = (10, 40)  # a distinctive clause, never a copied passage
PARAPHRASE_MAX_OVERLAP = 12  # longest run a paraphrase may share with its evidence lines


@dataclass(frozen=True)
class Question:
    """One devset line, parsed without any project code."""

    id: str
    question: str
    lang: str
    type: str
    doc: str | None
    answers: list[str]
    evidence: list[str]
    lines: list[int] | None
    split: str
    condition: str | None


def split_of(question_id: str) -> str:
    """The split rule, written out again here so the set cannot drift from it: about 60/40."""
    digest = int(hashlib.sha256(question_id.encode("utf-8")).hexdigest(), 16)
    return "tune" if digest % 10 < 6 else "check"


def load_devset() -> list[Question]:
    questions = []
    with DEVSET.open(encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            record = json.loads(raw)
            assert tuple(record) == FIELDS, f"line {number}: fields {tuple(record)}"
            questions.append(Question(**record))
    return questions


QUESTIONS = load_devset()
ANSWERABLE = [q for q in QUESTIONS if q.type != "unanswerable"]
NEAR_MISSES = [q for q in QUESTIONS if q.condition in NEAR_MISS_KINDS]


@cache
def report_lines(doc: str) -> tuple[str, ...]:
    path = REPORTS / f"{doc}.txt"
    if not path.is_file():
        skip_or_fail(f"sample report not available: {path}")
    return tuple(path.read_text(encoding="utf-8").split("\n"))


def cited_text(q: Question) -> str:
    """The report lines that the question's `lines` range points at."""
    assert q.doc is not None and q.lines is not None
    first, last = q.lines
    return "\n".join(report_lines(q.doc)[first - 1 : last])


def test_size_and_unique_ids() -> None:
    ids = [q.id for q in QUESTIONS]
    assert len(QUESTIONS) >= 250
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]
    assert all(ID_PATTERN.fullmatch(i) for i in ids)


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.id)
def test_fields_are_well_typed(q: Question) -> None:
    assert isinstance(q.question, str) and q.question.strip()
    assert q.lang in LANGS
    assert q.type in TYPES
    assert all(isinstance(a, str) and a.strip() for a in q.answers)
    assert all(isinstance(e, str) and e.strip() for e in q.evidence)
    assert q.split in SPLITS
    if q.type == "unanswerable":
        assert q.answers == [] and q.evidence == [] and q.lines is None and q.doc is None
        assert q.condition in CONDITIONS
        return
    assert q.condition is None
    assert q.doc in DOCS
    assert 1 <= len(q.answers) <= 3
    assert 1 <= len(q.evidence) <= 2
    assert isinstance(q.lines, list) and len(q.lines) == 2
    assert all(isinstance(n, int) and not isinstance(n, bool) for n in q.lines)
    assert 1 <= q.lines[0] <= q.lines[1]
    for e in q.evidence:
        assert EVIDENCE_CHARS[0] <= len(e) <= EVIDENCE_CHARS[1], e
        assert "\n" not in e


def test_split_follows_the_id_rule() -> None:
    # Assigned by the id alone, never by hand: a question cannot be moved to flatter a figure.
    assert [q.id for q in QUESTIONS if q.split != split_of(q.id)] == []
    tune = sum(q.split == "tune" for q in QUESTIONS) / len(QUESTIONS)
    assert 0.5 <= tune <= 0.7, tune


def test_near_misses_cover_every_kind_in_both_splits_and_scripts() -> None:
    assert len(NEAR_MISSES) >= 60
    kinds = Counter(q.condition for q in NEAR_MISSES)
    assert set(kinds) == NEAR_MISS_KINDS and min(kinds.values()) >= 5, kinds
    for split in SPLITS:
        assert {q.condition for q in NEAR_MISSES if q.split == split} == NEAR_MISS_KINDS, split
    assert {q.lang for q in NEAR_MISSES} == LANGS


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.id)
def test_question_script_matches_lang(q: Question) -> None:
    has_cjk = bool(CJK.search(q.question))
    assert has_cjk == (q.lang != "en"), q.question


def test_simplified_questions_are_written_in_simplified() -> None:
    import opencc  # a declared dependency: a missing one must fail, not skip

    to_simplified = opencc.OpenCC("t2s")
    hans = [q for q in QUESTIONS if q.lang == "zh-Hans"]
    assert [q.id for q in hans if to_simplified.convert(q.question) != q.question] == []


def test_coverage_of_scripts_types_and_reports() -> None:
    assert {q.lang for q in QUESTIONS} == LANGS
    assert {q.type for q in QUESTIONS} == TYPES
    assert {q.doc for q in ANSWERABLE} == DOCS
    assert sum(q.type == "unanswerable" for q in QUESTIONS) >= 60
    assert sum(q.type == "table" for q in QUESTIONS) >= 40
    assert sum(q.lang == "en" for q in QUESTIONS) >= 50
    assert sum(q.lang == "zh-Hans" for q in QUESTIONS) >= 40
    assert sum(q.type == "paraphrase" for q in QUESTIONS) >= 15
    assert sum(q.lang == "en" and q.type == "cross-lingual" for q in QUESTIONS) >= 10
    assert sum(q.lang != "en" and q.type == "cross-lingual" for q in QUESTIONS) >= 2


@pytest.mark.parametrize("q", [q for q in QUESTIONS if q.type == "cross-lingual"], ids=lambda q: q.id)
def test_cross_lingual_evidence_is_in_the_other_language(q: Question) -> None:
    # English questions are answered by Chinese text; Chinese ones by the English summary.
    evidence_is_chinese = all(CJK.search(e) for e in q.evidence)
    evidence_is_english = not any(CJK.search(e) for e in q.evidence)
    assert evidence_is_chinese if q.lang == "en" else evidence_is_english


@pytest.mark.parametrize("q", [q for q in QUESTIONS if q.type == "table"], ids=lambda q: q.id)
def test_table_questions_cite_a_table_row(q: Question) -> None:
    assert all("\t" in line for line in cited_text(q).split("\n"))


@pytest.mark.parametrize("q", ANSWERABLE, ids=lambda q: q.id)
def test_answers_and_evidence_occur_verbatim(q: Question) -> None:
    assert q.doc is not None
    lines = report_lines(q.doc)
    assert q.lines is not None and q.lines[1] <= len(lines)
    full_text = "\n".join(lines)
    cited = cited_text(q)
    for answer in q.answers:
        assert answer in full_text, f"answer not in {q.doc}: {answer!r}"
    for evidence in q.evidence:
        assert evidence in cited, f"evidence not in lines {q.lines}: {evidence!r}"
    assert any(answer in cited for answer in q.answers), "no answer inside the cited lines"


@pytest.mark.parametrize("q", [q for q in QUESTIONS if q.type == "paraphrase"], ids=lambda q: q.id)
def test_paraphrases_do_not_copy_the_text(q: Question) -> None:
    cited = cited_text(q)
    match = SequenceMatcher(None, q.question, cited, autojunk=False).find_longest_match(
        0, len(q.question), 0, len(cited)
    )
    overlap = q.question[match.a : match.a + match.size]
    assert len(overlap.strip()) <= PARAPHRASE_MAX_OVERLAP, overlap
