"""Question sets: the JSONL format, its loader and the verbatim check.

One JSON object per line (blank lines and lines starting with `//` are ignored)::

    {"id": "dev-001",                       # unique within the set
     "question": "113年度政府科技預算為多少？",
     "lang": "zh-Hant",                     # zh-Hant | zh-Hans | en (script of the question)
     "type": "number",                      # fact|number|table|cross-lingual|paraphrase|unanswerable
     "doc": "113年度中央政府科技研發績效彙編",  # report file stem; null = any report / none
     "answers": ["1,517.4億元"],            # acceptable answers, verbatim from the report; [] = unanswerable
     "evidence": ["政府科技預算達1,517.4億元"],  # verbatim evidence strings; [] for unanswerable
     "pages": [12],                         # optional: PDF pages of the evidence
     "lines": [310, 311],                   # optional: first/last line of the evidence in the .txt
     "split": "tune",                       # optional: tune | check, fixed by `split_for_id`
     "condition": null}                     # optional: unanswerable only, the near-miss kind

A question is unanswerable exactly when `answers` is empty. Strings are compared after
`evaluation.matching.fold` (whitespace, width, markup and script insensitive).

`split` lets a set be tuned on one part and checked on the other; `condition` names the one
condition a near-miss unanswerable question changes in a fact the reports do state (another
agency, year, country, metric, qualifier or programme; "other" for anything else).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

from evaluation.matching import fold

Lang = Literal["zh-Hant", "zh-Hans", "en"]
QuestionType = Literal["fact", "number", "table", "cross-lingual", "paraphrase", "unanswerable"]
Split = Literal["tune", "check"]
Condition = Literal["agency", "year", "country", "metric", "qualifier", "programme", "other"]
SplitChoice = Literal["tune", "check", "all"]
LANGS: tuple[str, ...] = get_args(Lang)
QUESTION_TYPES: tuple[str, ...] = get_args(QuestionType)
SPLITS: tuple[str, ...] = get_args(Split)
CONDITIONS: tuple[str, ...] = get_args(Condition)
TUNE_SHARE_TENTHS = 6  # about 60% of the ids fall in "tune", 40% in "check"


class QuestionSetError(ValueError):
    """A question set that cannot be used; the message names the file, line and reason."""


@dataclass(frozen=True)
class Question:
    """One evaluation question with what counts as a correct passage and answer."""

    id: str
    question: str
    lang: Lang
    type: QuestionType
    doc: str | None = None
    answers: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    pages: tuple[int, ...] = ()
    lines: tuple[int, int] | None = None
    # Chunk ids that are relevant by construction (DRCD: the gold paragraph). When set,
    # relevance is membership, not string containment.
    gold_chunk_ids: tuple[str, ...] = ()
    split: Split | None = None  # None: the set is not split (DRCD, older sets)
    condition: Condition | None = None  # near-miss kind of an unanswerable question

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def split_for_id(question_id: str) -> Split:
    """The part a question id belongs to: a hash of the id, never a choice made per question.

    Fixed once, so a question cannot drift between parts as figures are tuned; new questions
    take the split this gives for their id.
    """
    digest = int(hashlib.sha256(question_id.encode("utf-8")).hexdigest(), 16)
    return "tune" if digest % 10 < TUNE_SHARE_TENTHS else "check"


def _str_list(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"'{field}' must be a list of strings")
    return tuple(value)


def question_from_json(obj: Any) -> Question:
    """Build a Question from one decoded JSON object; raises ValueError naming the bad field."""
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    for field in ("id", "question", "lang", "type"):
        if not isinstance(obj.get(field), str) or not obj[field].strip():
            raise ValueError(f"missing or empty string field '{field}'")
    if obj["lang"] not in LANGS:
        raise ValueError(f"'lang' is {obj['lang']!r}, expected one of {', '.join(LANGS)}")
    if obj["type"] not in QUESTION_TYPES:
        raise ValueError(f"'type' is {obj['type']!r}, expected one of {', '.join(QUESTION_TYPES)}")
    doc = obj.get("doc")
    if doc is not None and not isinstance(doc, str):
        raise ValueError("'doc' must be a string or null")
    answers = _str_list(obj.get("answers", []), "answers")
    evidence = _str_list(obj.get("evidence", []), "evidence")
    if (obj["type"] == "unanswerable") != (not answers):
        raise ValueError("'answers' must be empty exactly when 'type' is 'unanswerable'")
    pages = obj.get("pages") or []
    if not isinstance(pages, list) or not all(isinstance(p, int) and p >= 1 for p in pages):
        raise ValueError("'pages' must be a list of positive integers")
    lines = obj.get("lines")
    if lines is not None and not (
        isinstance(lines, list) and len(lines) == 2 and all(isinstance(n, int) and n >= 1 for n in lines)
    ):
        raise ValueError("'lines' must be [first, last] (1-based)")
    split = obj.get("split")
    if split is not None and split not in SPLITS:
        raise ValueError(f"'split' is {split!r}, expected one of {', '.join(SPLITS)} or null")
    condition = obj.get("condition")
    if condition is not None:
        if condition not in CONDITIONS:
            raise ValueError(f"'condition' is {condition!r}, expected one of {', '.join(CONDITIONS)} or null")
        if answers:
            raise ValueError("'condition' is for unanswerable questions only")
    return Question(
        id=obj["id"],
        question=obj["question"],
        lang=cast(Lang, obj["lang"]),
        type=cast(QuestionType, obj["type"]),
        doc=doc,
        answers=answers,
        evidence=evidence,
        pages=tuple(pages),
        lines=(lines[0], lines[1]) if lines else None,
        split=cast(Split | None, split),
        condition=cast(Condition | None, condition),
    )


def load_questions(path: Path | str) -> list[Question]:
    """Read a JSONL question set; raises QuestionSetError naming the file and line on bad input."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"{path}: cannot read question set ({exc})") from None
    questions: list[Question] = []
    seen: set[str] = set()
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            question = question_from_json(json.loads(line))
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{path.name} line {number}: not valid JSON ({exc.msg})") from None
        except ValueError as exc:
            raise QuestionSetError(f"{path.name} line {number}: {exc}") from None
        if question.id in seen:
            raise QuestionSetError(f"{path.name} line {number}: duplicate id {question.id!r}")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise QuestionSetError(f"{path.name}: no questions found")
    return questions


def check_verbatim(questions: Iterable[Question], corpus_texts: Mapping[str, str]) -> list[str]:
    """Answer and evidence strings that do not occur in the corpus, one problem per line.

    `corpus_texts` maps a report file stem to its text. A question with `doc` is checked
    against that report only; without `doc`, against any report. Whitespace is ignored, since
    PDF text wraps lines.
    """
    folded = {stem: fold(text) for stem, text in corpus_texts.items()}
    problems: list[str] = []
    for q in questions:
        if q.doc is not None and q.doc not in folded:
            problems.append(f"{q.id}: report {q.doc!r} is not in the corpus")
            continue
        haystacks = [folded[q.doc]] if q.doc is not None else list(folded.values())
        for kind, strings in (("answer", q.answers), ("evidence", q.evidence)):
            for s in strings:
                needle = fold(s)
                if not needle or not any(needle in h for h in haystacks):
                    where = q.doc if q.doc is not None else "any report"
                    problems.append(f"{q.id}: {kind} {s!r} not found in {where}")
    return problems


def select_split(questions: list[Question], split: SplitChoice, *, set_name: str = "set") -> list[Question]:
    """The questions of one part ("all": every one); QuestionSetError when the set is not split."""
    if split == "all":
        return list(questions)
    if split not in SPLITS:
        raise QuestionSetError(f"unknown split {split!r}; choose tune, check or all")
    if not any(q.split is not None for q in questions):
        raise QuestionSetError(f"{set_name}: the set has no 'split' field, so --split {split} cannot be used")
    chosen = [q for q in questions if q.split == split]
    if not chosen:
        raise QuestionSetError(f"{set_name}: no questions in split {split!r}")
    return chosen


def evenly_spaced(items: list[Question], limit: int | None) -> list[Question]:
    """A fixed slice of `limit` questions spread over the whole set (all of it when None)."""
    if limit is None or limit >= len(items):
        return list(items)
    if limit <= 0:
        return []
    return [items[i * len(items) // limit] for i in range(limit)]
