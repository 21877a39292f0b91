"""Abstention calibration: which confidence threshold refuses the unanswerable and keeps the rest.

A threshold t means "refuse when Answer.confidence < t". For each t the table gives the share of
answerable questions that would be wrongly refused and of unanswerable questions that would be
wrongly answered. The suggestion is the threshold with the fewest unanswerable questions
answered among those that refuse at most `max_answerable_refused` of the answerable ones,
placed midway in the gap below it so that small score drift does not flip decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_GRID: tuple[float, ...] = tuple(round(i * 0.05, 2) for i in range(21))


@dataclass(frozen=True)
class TradeoffRow:
    threshold: float
    answerable_refused: float  # share of answerable questions with confidence < threshold
    unanswerable_answered: float  # share of unanswerable questions with confidence >= threshold


@dataclass(frozen=True)
class Calibration:
    """The trade-off table and the suggested threshold (None without both kinds of question)."""

    n_answerable: int
    n_unanswerable: int
    max_answerable_refused: float
    rows: tuple[TradeoffRow, ...]
    suggested: TradeoffRow | None


def _row(threshold: float, answerable: Sequence[float], unanswerable: Sequence[float]) -> TradeoffRow:
    refused = sum(1 for c in answerable if c < threshold)
    answered = sum(1 for c in unanswerable if c >= threshold)
    return TradeoffRow(
        threshold=threshold,
        answerable_refused=refused / len(answerable) if answerable else 0.0,
        unanswerable_answered=answered / len(unanswerable) if unanswerable else 0.0,
    )


def calibrate(
    answerable: Sequence[float],
    unanswerable: Sequence[float],
    *,
    max_answerable_refused: float = 0.05,
    grid: Sequence[float] = DEFAULT_GRID,
) -> Calibration:
    """Trade-off table over `grid` plus a suggested threshold from the observed confidences."""
    rows = tuple(_row(t, answerable, unanswerable) for t in grid)
    suggested: TradeoffRow | None = None
    if answerable and unanswerable:
        # Only observed confidences change a decision; above the largest one everything is refused.
        observed = sorted(set(answerable) | set(unanswerable))
        candidates = [*observed, observed[-1] + 1e-9]
        feasible = [
            (r.unanswerable_answered, t)
            for t in candidates
            if (r := _row(t, answerable, unanswerable)).answerable_refused <= max_answerable_refused
        ]
        _, best_t = min(feasible)  # fewest unanswerable answered, then the lowest threshold
        lower = [c for c in observed if c < best_t]
        # Any threshold in (lower[-1], best_t] makes the same decisions; take the middle.
        suggested = _row((lower[-1] + best_t) / 2 if lower else best_t, answerable, unanswerable)
    return Calibration(
        n_answerable=len(answerable),
        n_unanswerable=len(unanswerable),
        max_answerable_refused=max_answerable_refused,
        rows=rows,
        suggested=suggested,
    )


def format_table(calibration: Calibration) -> str:
    """Plain-text table for the terminal (`qa eval --calibrate`)."""
    lines = [
        f"abstention trade-off ({calibration.n_answerable} answerable, "
        f"{calibration.n_unanswerable} unanswerable; refuse when confidence < threshold)",
        f"{'threshold':>9}  {'answerable refused':>18}  {'unanswerable answered':>21}",
    ]
    for row in calibration.rows:
        lines.append(
            f"{row.threshold:>9.2f}  {row.answerable_refused:>18.1%}  {row.unanswerable_answered:>21.1%}"
        )
    s = calibration.suggested
    if s is None:
        lines.append("no suggestion: the set needs both answerable and unanswerable questions")
    else:
        lines.append(
            f"suggested threshold {s.threshold:.4f}: answerable refused {s.answerable_refused:.1%} "
            f"(limit {calibration.max_answerable_refused:.0%}), unanswerable answered "
            f"{s.unanswerable_answered:.1%}"
        )
    return "\n".join(lines)
