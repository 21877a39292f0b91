"""Relevance of passages and correctness of shown answers for one question set.

A passage is relevant to a question when it is one of the question's gold chunks (DRCD), or
otherwise when its text contains one of the question's evidence or answer strings and, if the
question names a report, it comes from that report (the .pdf and .txt of one report share the
file stem and both count). An answer is a hit when its text contains an acceptable answer.
All comparisons go through `evaluation.matching.fold`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import PurePath

from corpus.types import Chunk
from evaluation.matching import contains_any, fold, strip_citation_marks
from evaluation.questions import Question


@lru_cache(maxsize=4096)
def _stem(file_name: str) -> str:
    return PurePath(file_name).stem


class Judge:
    """Caches folded passage texts and question strings across many judgements."""

    def __init__(self) -> None:
        self._chunk_text: dict[str, str] = {}
        self._needles: dict[str, tuple[str, ...]] = {}
        self._answers: dict[str, tuple[str, ...]] = {}

    def _folded_chunk(self, chunk: Chunk) -> str:
        folded = self._chunk_text.get(chunk.chunk_id)
        if folded is None:
            folded = self._chunk_text[chunk.chunk_id] = fold(chunk.text)
        return folded

    def _folded_needles(self, question: Question) -> tuple[str, ...]:
        needles = self._needles.get(question.id)
        if needles is None:
            needles = self._needles[question.id] = tuple(
                n for n in (fold(s) for s in (*question.evidence, *question.answers)) if n
            )
        return needles

    def is_relevant(self, question: Question, chunk: Chunk) -> bool:
        if question.gold_chunk_ids:
            return chunk.chunk_id in question.gold_chunk_ids
        if not question.answerable:
            return False
        if question.doc is not None and _stem(chunk.file_name) != question.doc:
            return False
        return contains_any(self._folded_chunk(chunk), self._folded_needles(question))

    def count_relevant(self, question: Question, chunks: Mapping[str, Chunk]) -> int:
        """Relevant passages among `chunks` (chunk id -> chunk: the whole index, for nDCG's ideal)."""
        if question.gold_chunk_ids:
            return sum(1 for cid in question.gold_chunk_ids if cid in chunks)
        return sum(1 for c in chunks.values() if self.is_relevant(question, c))

    def answer_hit(self, question: Question, shown: str) -> bool:
        """The shown answer contains an acceptable answer string."""
        answers = self._answers.get(question.id)
        if answers is None:
            answers = self._answers[question.id] = tuple(n for n in map(fold, question.answers) if n)
        return contains_any(fold(strip_citation_marks(shown)), answers)
