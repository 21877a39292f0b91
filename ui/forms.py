"""Parsing of the web app's free-text form fields into typed values."""

from __future__ import annotations

import math
import re
from typing import TypeGuard


def is_number(value: object) -> TypeGuard[int | float]:
    """A finite int or float; API callers can send any JSON value where a number belongs."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def page_bound(value: object) -> int | None:
    """A page limit; empty or below 1 means no limit; anything but a number is refused."""
    if value is None:
        return None
    if not is_number(value):
        raise ValueError(f"A page limit must be a page number, not {type(value).__name__}.")
    return int(value) if value >= 1 else None


_PAGE_RANGE = re.compile(r"^\s*(\d*)\s*(?:([-–~〜至到])\s*(\d*)\s*)?$")


def parse_page_range(text: str | None) -> tuple[int | None, int | None]:
    """'3-10' -> (3, 10), '5' -> (5, 5), '-10' and '3-' are open ranges, '' -> (None, None)."""
    match = _PAGE_RANGE.match(text or "")
    if match is None:
        raise ValueError(f"Pages {text!r}: use a page number or a range such as 3-10.")
    low, dash, high = match.groups()
    first = int(low) if low else None
    last = int(high) if high else (None if dash else first)
    if first is not None and last is not None and first > last:
        raise ValueError(f"Pages {text!r}: the first page comes after the last.")
    return first, last
