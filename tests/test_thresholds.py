"""The threshold rule shared by the learning scripts (evaluation/thresholds.py)."""

from __future__ import annotations

from evaluation.thresholds import gainful_threshold


def test_the_cut_keeps_most_right_less_wrong_and_sits_midway() -> None:
    seen = [(9.0, True), (8.0, True), (7.5, False), (7.0, True), (6.0, False), (5.0, False)]
    found = gainful_threshold(seen)
    assert found is not None
    # At >= 8.0: two right; at >= 7.0: three right, one wrong (gain 2, tied; the higher cut wins).
    assert (found.cut, found.gain, found.lower) == (8.0, 2, 7.5)
    assert found.value == 7.75


def test_no_threshold_when_every_cut_loses() -> None:
    assert gainful_threshold([(3.0, False), (2.0, True), (1.0, False)]) is None
    assert gainful_threshold([]) is None
