"""Everything one evaluation run measured, summarised per retrieval mode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from evaluation.calibration import Calibration, calibrate
from evaluation.metrics import (
    AnswerScores,
    LatencyScores,
    Outcome,
    ReliabilityBin,
    RetrievalScores,
    answer_scores,
    grouped,
    latency_scores,
    reliability,
    retrieval_scores,
)


@dataclass(frozen=True)
class ModeSummary:
    """Figures of one retrieval mode; answer figures only when questions were asked in it."""

    mode: str
    retrieval: RetrievalScores
    retrieval_by_lang: dict[str, RetrievalScores]
    retrieval_by_type: dict[str, RetrievalScores]
    search_latency: LatencyScores
    answers: AnswerScores | None = None
    answers_by_lang: dict[str, AnswerScores] = field(default_factory=dict)
    answers_by_type: dict[str, AnswerScores] = field(default_factory=dict)
    ask_latency: LatencyScores | None = None
    calibration: Calibration | None = None
    reliability: list[ReliabilityBin] = field(default_factory=list)  # confidence bins vs accuracy


@dataclass(frozen=True)
class RunInfo:
    """What was evaluated, on what, and how long it took."""

    set_name: str
    set_path: str
    set_kind: str  # "jsonl" or "squad"
    n_questions: int
    n_answerable: int
    n_unanswerable: int
    index_dir: str
    n_documents: int
    n_passages: int
    modes: tuple[str, ...]
    answer_modes: tuple[str, ...]
    ks: tuple[int, ...]
    search_depth: int
    started_at: str  # ISO 8601, UTC
    seconds: float
    index_seconds: float | None = None  # time spent building the index in this run


@dataclass
class EvalRun:
    """Per-question outcomes plus their summaries; results.json is this, serialised."""

    info: RunInfo
    modes: list[ModeSummary]
    outcomes: list[Outcome]
    verbatim_problems: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)  # answerable ids with no relevant passage indexed
    floor_failures: list[str] = field(default_factory=list)
    floors_checked: str | None = None

    def mode(self, name: str) -> ModeSummary:
        for m in self.modes:
            if m.mode == name:
                return m
        raise KeyError(
            f"mode {name!r} was not evaluated (evaluated: {', '.join(m.mode for m in self.modes)})"
        )


def summarize_mode(
    mode: str, outcomes: Sequence[Outcome], ks: Sequence[int], *, max_answerable_refused: float = 0.05
) -> ModeSummary:
    """All figures of one mode from its outcomes."""
    mine = [o for o in outcomes if o.mode == mode]
    asked = [o for o in mine if o.asked]
    calibration = None
    if asked:
        scored = [o for o in asked if o.confidence is not None and not o.error]
        calibration = calibrate(
            [o.confidence for o in scored if o.answerable and o.confidence is not None],
            [o.confidence for o in scored if not o.answerable and o.confidence is not None],
            max_answerable_refused=max_answerable_refused,
        )
    return ModeSummary(
        mode=mode,
        retrieval=retrieval_scores(mine, ks),
        retrieval_by_lang=grouped(mine, lambda o: o.lang, lambda g: retrieval_scores(g, ks)),
        retrieval_by_type=grouped(
            [o for o in mine if o.answerable], lambda o: o.type, lambda g: retrieval_scores(g, ks)
        ),
        search_latency=latency_scores([o.search_ms for o in mine]),
        answers=answer_scores(asked) if asked else None,
        answers_by_lang=grouped(asked, lambda o: o.lang, answer_scores),
        answers_by_type=grouped(asked, lambda o: o.type, answer_scores),
        ask_latency=latency_scores([o.ask_ms for o in asked if o.ask_ms is not None]) if asked else None,
        calibration=calibration,
        reliability=reliability(asked),
    )
