"""Metric functions and per-question outcomes, free of any pipeline dependency.

Ranks are 1-based; `None` means no relevant passage was retrieved. Recall@k is the share of
answerable questions with at least one relevant passage in the top k (the usual open-domain QA
reading). nDCG uses binary relevance; its ideal ranking puts all of the question's relevant
passages in the index (capped at k) first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def first_relevant_rank(relevant: Sequence[bool]) -> int | None:
    """1-based position of the first relevant passage, or None."""
    for position, flag in enumerate(relevant, start=1):
        if flag:
            return position
    return None


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose first relevant passage is within the top k."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr_at_k(ranks: Sequence[int | None], k: int = 10) -> float:
    """Mean reciprocal rank of the first relevant passage, 0 beyond k."""
    if not ranks:
        return 0.0
    return sum(1.0 / r for r in ranks if r is not None and r <= k) / len(ranks)


def ndcg_at_k(relevant: Sequence[bool], n_relevant: int, k: int = 10) -> float:
    """Binary-relevance nDCG@k of one ranking; `n_relevant` counts relevant passages in the index."""
    ideal_count = min(max(n_relevant, sum(relevant[:k])), k)
    if ideal_count == 0:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, flag in enumerate(relevant[:k], start=1) if flag)
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, ideal_count + 1))
    return dcg / idcg


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (0-100) of `values`; 0.0 when empty."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else 0.0


def share(flags: Iterable[bool]) -> float | None:
    """Fraction of true flags, None when there are none to count."""
    items = list(flags)
    return sum(items) / len(items) if items else None


@dataclass(frozen=True)
class Outcome:
    """One question run in one retrieval mode (and answered in it, when `asked`)."""

    question_id: str
    question: str
    lang: str
    type: str
    answerable: bool
    mode: str
    rank: int | None  # first relevant passage among the retrieved ones
    relevant: tuple[bool, ...]  # relevance of each retrieved passage, best first
    n_relevant: int  # relevant passages in the whole index
    search_ms: float
    asked: bool = False
    shown_answer: str = ""
    abstained: bool = False
    answer_hit: bool = False  # shown answer contains an acceptable answer (answerable only)
    confidence: float | None = None
    citations: int = 0
    relevant_citations: int = 0
    ask_ms: float | None = None
    error: str | None = None
    split: str | None = None  # tune | check; None when the set is not split
    condition: str | None = None  # near-miss kind of an unanswerable question
    # Whether the answer at this confidence is right, shown or withheld (None: not asked or failed);
    # unanswerable questions have no right answer. Read by the reliability table.
    right_if_answered: bool | None = None

    @property
    def correct(self) -> bool:
        """Answer accuracy: answerable questions answered with a hit, unanswerable ones refused."""
        if not self.asked or self.error:
            return False
        return self.answer_hit if self.answerable else self.abstained

    @property
    def verdict(self) -> str:
        """One word for the per-question table."""
        if self.error:
            return "error"
        if not self.asked:
            return ""
        if self.answerable:
            return "wrongly-refused" if self.abstained else ("hit" if self.answer_hit else "miss")
        return "correctly-refused" if self.abstained else "wrongly-answered"


@dataclass(frozen=True)
class RetrievalScores:
    """Ranking quality over answerable questions."""

    n: int
    recall: dict[int, float]
    mrr_at_10: float
    ndcg_at_10: float


def retrieval_scores(outcomes: Sequence[Outcome], ks: Sequence[int]) -> RetrievalScores:
    answerable = [o for o in outcomes if o.answerable]
    ranks = [o.rank for o in answerable]
    ndcgs = [ndcg_at_k(o.relevant, o.n_relevant, 10) for o in answerable]
    return RetrievalScores(
        n=len(answerable),
        recall={k: recall_at_k(ranks, k) for k in ks},
        mrr_at_10=mrr_at_k(ranks, 10),
        ndcg_at_10=sum(ndcgs) / len(ndcgs) if ndcgs else 0.0,
    )


@dataclass(frozen=True)
class AnswerScores:
    """Answer quality of the questions that were asked; None where nothing was there to count."""

    n_answerable: int
    n_unanswerable: int
    answer_hit: float | None  # answerable questions whose shown answer holds an acceptable answer
    citation_precision: float | None  # shown citations (answerable, answered) whose passage is relevant
    n_citations: int
    unanswerable_refused: float | None
    answerable_refused: float | None  # wrongly refused
    accuracy: float | None  # hit for answerable, refusal for unanswerable
    errors: int


def answer_scores(outcomes: Sequence[Outcome]) -> AnswerScores:
    asked = [o for o in outcomes if o.asked]
    answerable = [o for o in asked if o.answerable]
    unanswerable = [o for o in asked if not o.answerable]
    cited = [o for o in answerable if not o.abstained and not o.error]
    n_citations = sum(o.citations for o in cited)
    return AnswerScores(
        n_answerable=len(answerable),
        n_unanswerable=len(unanswerable),
        answer_hit=share(o.answer_hit and not o.abstained and not o.error for o in answerable),
        citation_precision=(sum(o.relevant_citations for o in cited) / n_citations if n_citations else None),
        n_citations=n_citations,
        unanswerable_refused=share(o.abstained and not o.error for o in unanswerable),
        answerable_refused=share(o.abstained and not o.error for o in answerable),
        accuracy=share(o.correct for o in asked),
        errors=sum(1 for o in asked if o.error),
    )


@dataclass(frozen=True)
class LatencyScores:
    """Wall-clock milliseconds of one kind of call."""

    n: int
    p50_ms: float
    p95_ms: float
    mean_ms: float


def latency_scores(values_ms: Sequence[float]) -> LatencyScores:
    return LatencyScores(
        n=len(values_ms),
        p50_ms=percentile(values_ms, 50),
        p95_ms=percentile(values_ms, 95),
        mean_ms=float(np.mean(values_ms)) if len(values_ms) else 0.0,
    )


def grouped(
    outcomes: Sequence[Outcome], key: Callable[[Outcome], str], score: Callable[[list[Outcome]], T]
) -> dict[str, T]:
    """Score each group of outcomes sharing a key (language, question type), in sorted key order."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(key(o), []).append(o)
    return {name: score(groups[name]) for name in sorted(groups)}


@dataclass(frozen=True)
class RefusalScores:
    """How often asked unanswerable questions were refused (errors count as not refused)."""

    n: int
    refused: int
    refusal_rate: float | None
    errors: int


def refusal_scores(outcomes: Sequence[Outcome]) -> RefusalScores:
    """Refusals among the asked unanswerable outcomes (answerable ones are ignored)."""
    asked = [o for o in outcomes if o.asked and not o.answerable]
    refused = sum(1 for o in asked if o.abstained and not o.error)
    return RefusalScores(
        n=len(asked),
        refused=refused,
        refusal_rate=refused / len(asked) if asked else None,
        errors=sum(1 for o in asked if o.error),
    )


UNLABELLED = "unlabelled"  # unanswerable questions whose set names no condition kind


@dataclass(frozen=True)
class Breakdowns:
    """One mode's figures by split (tune / check) and refusals by near-miss kind.

    Empty dicts when the set carries no split or no condition, so other sets report as before.
    """

    retrieval_by_split: dict[str, RetrievalScores]
    answers_by_split: dict[str, AnswerScores]
    refusal_by_condition: dict[str, RefusalScores]


def mode_breakdowns(outcomes: Sequence[Outcome], mode: str, ks: Sequence[int]) -> Breakdowns:
    """Figures of one mode by split, and its refusals by near-miss kind."""
    mine = [o for o in outcomes if o.mode == mode]
    split = [o for o in mine if o.split is not None]
    asked = [o for o in split if o.asked]
    unanswerable = [o for o in mine if o.asked and not o.answerable]
    by_condition: dict[str, RefusalScores] = {}
    # Only worth a table when the set labels its unanswerable questions at all.
    if any(o.condition is not None for o in unanswerable):
        by_condition = grouped(unanswerable, lambda o: o.condition or UNLABELLED, refusal_scores)
    return Breakdowns(
        retrieval_by_split=grouped(
            [o for o in split if o.answerable], lambda o: o.split or "", lambda g: retrieval_scores(g, ks)
        ),
        answers_by_split=grouped(asked, lambda o: o.split or "", answer_scores),
        refusal_by_condition=by_condition,
    )


@dataclass(frozen=True)
class ReliabilityBin:
    """Questions whose confidence fell in [low, high), and how often their answer was right."""

    low: float
    high: float
    n: int
    mean_confidence: float
    accuracy: float

    @property
    def gap(self) -> float:
        return abs(self.accuracy - self.mean_confidence)


def reliability(outcomes: Sequence[Outcome], bins: int = 10) -> list[ReliabilityBin]:
    """Confidence bins against observed accuracy, over every question answered or withheld."""
    pairs = [
        (o.confidence, o.right_if_answered)
        for o in outcomes
        if o.confidence is not None and o.right_if_answered is not None
    ]
    table = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [(c, r) for c, r in pairs if low <= c < high or (b == bins - 1 and c >= 1.0)]
        if inside:
            table.append(
                ReliabilityBin(
                    low=low,
                    high=high,
                    n=len(inside),
                    mean_confidence=sum(c for c, _ in inside) / len(inside),
                    accuracy=sum(1 for _, r in inside if r) / len(inside),
                )
            )
    return table
