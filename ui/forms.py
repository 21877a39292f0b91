"""Parsing of the web app's free-text form fields into typed values."""

from __future__ import annotations

import re


def page_bound(value: float | None) -> int | None:
    """A page limit; empty or below 1 means no limit."""
    return int(value) if value is not None and value >= 1 else None


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
