"""Layout of a page image: bordered tables (ruling lines and cells, and the image with the rules
erased), and the gutter of a page set in two columns.

A scan has no drawing operators for pdfplumber to find, but its ruling lines are still there as long
thin runs of dark pixels. A table is a set of horizontal and vertical rules that touch each other;
its cells are the spaces between neighbouring rules, merged where no rule separates them. The rules
are painted white before recognition (Tesseract reads a rule beside a character as 「|」 or takes the
two for another character); `corpus.ocr` then reads each cell, so that a scanned page keeps the
tab-separated rows a text PDF gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Pixels darker than this are ink (rules are drawn black or dark grey; a header row's tint is lighter).
DARK = 160
# At the OCR resolution (200 dpi) a 12-point character is about 33 pixels wide and tall: a rule is a
# run clearly longer than any stroke of one, and no thicker than a 2-point line (filled bars of a
# chart are thicker and are not rules).
MIN_RULE_PX = 60
MAX_RULE_THICKNESS = 6
# Rules this close (pixels) are one rule: a double border, or one rule whose anti-aliased edge
# rows were read apart.
SNAP = 6


@dataclass(frozen=True)
class Rule:
    """One ruling line: `at` is its y (horizontal) or x (vertical); it runs from `start` to `end`."""

    at: int
    start: int
    end: int
    thickness: int
    horizontal: bool

    def covers(self, point: float, slack: int = SNAP) -> bool:
        return self.start - slack <= point <= self.end + slack


@dataclass(frozen=True)
class ImageTable:
    """One bordered table: the rule positions that bound its rows and columns, and its merged cells."""

    xs: tuple[int, ...]  # vertical rule positions, left to right
    ys: tuple[int, ...]  # horizontal rule positions, top to bottom
    owner: tuple[tuple[tuple[int, int], ...], ...]  # [row][col] -> the top-left slot of its merged cell

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.xs[0], self.ys[0], self.xs[-1], self.ys[-1]

    def cells(self) -> dict[tuple[int, int], tuple[int, int, int, int]]:
        """Each merged cell, by its top-left row and column: its box between the rules around it."""
        boxes: dict[tuple[int, int], tuple[int, int, int, int]] = {}
        for r, row in enumerate(self.owner):
            for c, slot in enumerate(row):
                x0, y0, x1, y1 = boxes.get(slot, (self.xs[c], self.ys[r], self.xs[c + 1], self.ys[r + 1]))
                boxes[slot] = (
                    min(x0, self.xs[c]),
                    min(y0, self.ys[r]),
                    max(x1, self.xs[c + 1]),
                    max(y1, self.ys[r + 1]),
                )
        return boxes


def _runs(dark: Any, min_length: int) -> list[tuple[int, int, int]]:
    """(line, start, end) of each run of ink along the rows of `dark` at least `min_length` long."""
    import numpy as np

    padded = np.zeros((dark.shape[0], dark.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = dark
    steps = np.diff(padded, axis=1)
    starts = np.argwhere(steps == 1)
    ends = np.argwhere(steps == -1)  # same row-major order as the starts: they pair up
    lengths = ends[:, 1] - starts[:, 1]
    keep = lengths >= min_length
    return [(int(r), int(s), int(e) - 1) for (r, s), (_, e) in zip(starts[keep], ends[keep], strict=True)]


def _rules(runs: list[tuple[int, int, int]], horizontal: bool) -> list[Rule]:
    """Runs on neighbouring lines that overlap are one rule; rules thicker than a line are dropped."""
    groups: list[list[tuple[int, int, int]]] = []
    open_groups: list[list[tuple[int, int, int]]] = []
    for run in sorted(runs):
        line, start, end = run
        home = None
        for group in open_groups:
            last_line, last_start, last_end = group[-1]
            if line - last_line <= 1 and start <= last_end and end >= last_start:
                home = group
                break
        if home is None:
            home = []
            groups.append(home)
            open_groups.append(home)
        home.append(run)
        open_groups = [g for g in open_groups if line - g[-1][0] <= 1]
    rules = []
    for group in groups:
        lines = [r[0] for r in group]
        thickness = max(lines) - min(lines) + 1
        if thickness > MAX_RULE_THICKNESS:
            continue
        middle = (min(lines) + max(lines)) // 2
        rules.append(Rule(middle, min(r[1] for r in group), max(r[2] for r in group), thickness, horizontal))
    return rules


def _positions(values: Sequence[int]) -> tuple[int, ...]:
    """Distinct rule positions: values within SNAP of the previous one are the same rule."""
    out: list[int] = []
    for value in sorted(values):
        if out and value - out[-1] <= SNAP:
            continue
        out.append(value)
    return tuple(out)


def _touch(h: Rule, v: Rule) -> bool:
    return h.covers(v.at) and v.covers(h.at)


def _components(horizontal: list[Rule], vertical: list[Rule]) -> list[tuple[list[Rule], list[Rule]]]:
    """Groups of rules connected by crossings or corners: each is one table's frame."""
    parent = list(range(len(horizontal) + len(vertical)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, h in enumerate(horizontal):
        for j, v in enumerate(vertical):
            if _touch(h, v):
                parent[find(i)] = find(len(horizontal) + j)
    groups: dict[int, tuple[list[Rule], list[Rule]]] = {}
    for i, h in enumerate(horizontal):
        groups.setdefault(find(i), ([], []))[0].append(h)
    for j, v in enumerate(vertical):
        groups.setdefault(find(len(horizontal) + j), ([], []))[1].append(v)
    return [g for g in groups.values() if len(g[0]) >= 2 and len(g[1]) >= 2]


def _table(horizontal: list[Rule], vertical: list[Rule]) -> ImageTable | None:
    xs = _positions([v.at for v in vertical])
    ys = _positions([h.at for h in horizontal])
    if len(xs) < 3 and len(ys) < 3:
        return None  # a plain box (a framed note or figure), not rows and columns
    if len(xs) < 2 or len(ys) < 2:
        return None

    def rule_between(rules: list[Rule], at: int, point: float) -> bool:
        return any(abs(r.at - at) <= SNAP and r.covers(point, slack=0) for r in rules)

    rows, cols = len(ys) - 1, len(xs) - 1
    parent = {(r, c): (r, c) for r in range(rows) for c in range(cols)}

    def find(slot: tuple[int, int]) -> tuple[int, int]:
        while parent[slot] != slot:
            slot = parent[slot]
        return slot

    def union(a: tuple[int, int], b: tuple[int, int]) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the top-left slot stays the owner

    for r in range(rows):
        middle_y = (ys[r] + ys[r + 1]) / 2
        for c in range(cols - 1):
            if not rule_between(vertical, xs[c + 1], middle_y):
                union((r, c), (r, c + 1))
    for c in range(cols):
        middle_x = (xs[c] + xs[c + 1]) / 2
        for r in range(rows - 1):
            if not rule_between(horizontal, ys[r + 1], middle_x):
                union((r, c), (r + 1, c))
    owner = tuple(tuple(find((r, c)) for c in range(cols)) for r in range(rows))
    return ImageTable(xs, ys, owner)


def find_tables(image: Any) -> tuple[list[ImageTable], list[Rule]]:
    """Bordered tables of a greyscale page image, top to bottom, and every rule that frames them."""
    import numpy as np

    dark = np.asarray(image.convert("L")) < DARK
    horizontal = _rules(_runs(dark, MIN_RULE_PX), horizontal=True)
    vertical = _rules(_runs(np.ascontiguousarray(dark.T), MIN_RULE_PX), horizontal=False)
    tables: list[ImageTable] = []
    used: list[Rule] = []
    for h_rules, v_rules in _components(horizontal, vertical):
        table = _table(h_rules, v_rules)
        if table is not None:
            tables.append(table)
            used.extend(h_rules + v_rules)
    tables.sort(key=lambda t: (t.ys[0], t.xs[0]))
    return tables, used


def erase_rules(image: Any, rules: Sequence[Rule]) -> Any:
    """A copy of the image with these rules painted white."""
    import numpy as np
    from PIL import Image

    pixels = np.array(image.convert("L"))
    for rule in rules:
        half = rule.thickness // 2 + 2  # the anti-aliased edge rows too
        across = slice(max(0, rule.at - half), rule.at + half + 1)
        along = slice(rule.start, rule.end + 1)
        pixels[(across, along) if rule.horizontal else (along, across)] = 255
    return Image.fromarray(pixels)


# A page set in two columns has a white gutter down its middle, crossed at most by a heading or two
# across both columns; a one-column page has text across its middle on every line. Ink is widened by
# GUTTER_REACH pixels each way first, so the gaps between the characters of a line (a few pixels,
# and aligned from line to line in justified CJK text) do not count as white.
GUTTER_REACH = 8
GUTTER_MIN_PX = 8  # what is left of a column gap of about 3 mm (24 px at 200 dpi) after widening
GUTTER_MAX_INK = 0.1  # share of the lines with ink that may cross the gutter (headings)
GUTTER_MAX_SHARE = 0.12  # a column gap is narrow: at most this share of the text's width
COLUMN_MIN_PX = 200  # ink rows a column of text fills at least: about six lines at 200 dpi


def column_gutter(image: Any) -> int | None:
    """The x of the white gutter between two columns of text, or None for a one-column page.

    Looked for in the middle 40% of the text's width: the widest band of pixel columns that (almost)
    no line of text crosses, with text on both sides of it.
    """
    import numpy as np

    dark = np.asarray(image.convert("L")) < DARK
    lines = dark[dark.any(axis=1)]
    cols = np.flatnonzero(dark.any(axis=0))
    if len(lines) < 2 or len(cols) < 2:
        return None
    summed = np.pad(
        np.cumsum(lines, axis=1, dtype=np.int32), ((0, 0), (GUTTER_REACH + 1, GUTTER_REACH)), mode="edge"
    )
    summed[:, : GUTTER_REACH + 1] = 0
    near_ink = (summed[:, 2 * GUTTER_REACH + 1 :] - summed[:, : -2 * GUTTER_REACH - 1]) > 0
    crossing = near_ink.sum(axis=0)  # lines with ink within reach of each x
    left, right = int(cols[0]), int(cols[-1])
    lo, hi = left + int(0.3 * (right - left)), left + int(0.7 * (right - left))
    clear = crossing[lo:hi] <= GUTTER_MAX_INK * len(lines)
    best, best_start, start = 0, -1, -1
    for i, ok in enumerate([*clear, False]):
        if ok and start < 0:
            start = i
        elif not ok and start >= 0:
            if i - start > best:
                best, best_start = i - start, start
            start = -1
    if best < GUTTER_MIN_PX:
        return None
    if best > GUTTER_MAX_SHARE * (right - left):
        return None  # white space beside short lines (a contents page, a list), not a column gap
    gutter = lo + best_start + best // 2
    # Two columns of text: each side has ink on most lines of the page, and there are enough of them
    # (a page number, a picture beside a short block, or what is left around a table is not).
    # A contents page's column of page numbers is not one: a column of text is wide.
    sides = (lines[:, left:gutter], lines[:, gutter : right + 1])
    for side in sides:
        filled = np.flatnonzero(side.any(axis=0))
        rows = int(side.any(axis=1).sum())
        if rows < max(COLUMN_MIN_PX, len(lines) // 2) or filled[-1] - filled[0] < 0.3 * (right - left):
            return None
    return gutter
