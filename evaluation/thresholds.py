"""The one rule for learning a threshold from scored guesses (bench/learn_cells.py, bench/learn_names.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Threshold:
    value: float  # midway between the best cut and the next lower score seen
    gain: int  # right guesses less wrong ones kept at that cut
    cut: float  # the lowest score kept
    lower: float  # the next lower score seen (0.0 when none)


def gainful_threshold(seen: Sequence[tuple[float, bool]]) -> Threshold | None:
    """The cut keeping the most right (score, True) less wrong (score, False) guesses, set midway
    to the next lower score; None when no cut keeps more right than wrong guesses."""
    values = sorted({v for v, _ in seen}, reverse=True)
    gains = [sum(1 if right else -1 for v, right in seen if v >= t) for t in values]
    if not values or max(gains) <= 0:
        return None
    k = gains.index(max(gains))
    lower = values[k + 1] if k + 1 < len(values) else 0.0
    return Threshold((values[k] + lower) / 2, gains[k], values[k], lower)
