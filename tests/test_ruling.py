"""Ruling lines in page images: bordered tables found, merged cells kept, and the rules erased."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from corpus.ruling import DARK, erase_rules, find_tables

W, H = 1200, 1000


def _page() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (W, H), 255)
    return image, ImageDraw.Draw(image)


def _grid(
    draw: ImageDraw.ImageDraw, xs: list[int], ys: list[int], skip_v: set[tuple[int, int]] = frozenset()
) -> None:
    """Rules at xs/ys; skip_v holds (vertical rule index, row index) pieces left out (merged cells)."""
    for y in ys:
        draw.line([(xs[0], y), (xs[-1], y)], fill=0, width=2)
    for i, x in enumerate(xs):
        for r in range(len(ys) - 1):
            if (i, r) not in skip_v:
                draw.line([(x, ys[r]), (x, ys[r + 1])], fill=0, width=2)


def test_grid_with_a_merged_header_cell() -> None:
    image, draw = _page()
    xs, ys = [100, 400, 600, 800], [100, 160, 220, 280]
    _grid(draw, xs, ys, skip_v={(2, 0)})  # the first row's last two cells are one
    draw.text((150, 120), "label", fill=0)
    (table,), rules = find_tables(image)
    assert [abs(a - b) <= 2 for a, b in zip(table.xs, xs, strict=True)] == [True] * 4
    assert [abs(a - b) <= 2 for a, b in zip(table.ys, ys, strict=True)] == [True] * 4
    assert table.owner[0] == ((0, 0), (0, 1), (0, 1))  # merged: one owner for both slots
    assert table.owner[1] == ((1, 0), (1, 1), (1, 2))
    cells = table.cells()
    assert len(cells) == 2 + 3 + 3
    x0, _, x1, _ = cells[(0, 1)]
    assert abs(x0 - 400) <= 2 and abs(x1 - 800) <= 2  # the merged cell spans both columns
    assert len(rules) == 4 + 4


def test_erased_rules_leave_the_text() -> None:
    image, draw = _page()
    _grid(draw, [100, 400, 700], [100, 160, 220])
    draw.rectangle((150, 120, 170, 140), fill=0)  # something written in a cell
    tables, rules = find_tables(image)
    erased = np.asarray(erase_rules(image, rules))
    assert tables and (erased[95:105, 100:700] >= DARK).all()  # the top rule is gone
    assert (erased[120:141, 150:171] < DARK).all()  # the cell's ink is not


def test_a_box_a_bar_chart_and_text_strokes_are_not_tables() -> None:
    image, draw = _page()
    draw.rectangle((100, 100, 600, 200), outline=0, width=2)  # a framed note: one cell
    for i in range(4):  # a bar chart: filled bars on an axis with grid lines
        draw.rectangle((150 + 120 * i, 500 + 40 * i, 220 + 120 * i, 800), fill=0)
    draw.line([(120, 800), (700, 800)], fill=0, width=2)
    draw.line([(120, 400), (120, 800)], fill=0, width=2)
    for y in (500, 600, 700):
        draw.line([(120, y), (700, y)], fill=0, width=1)
    for i in range(10):  # short strokes like those of characters
        draw.line([(800 + 30 * i, 300), (800 + 30 * i, 330)], fill=0, width=3)
        draw.line([(800, 350 + 10 * i), (830, 350 + 10 * i)], fill=0, width=3)
    tables, _ = find_tables(image)
    assert tables == []


def test_two_tables_come_top_to_bottom() -> None:
    image, draw = _page()
    _grid(draw, [100, 500, 900], [600, 660, 720])
    _grid(draw, [100, 300, 900], [100, 160, 220, 280])
    tables, _ = find_tables(image)
    assert [len(t.ys) for t in tables] == [4, 3]


def _lines(draw: ImageDraw.ImageDraw, spans: list[tuple[int, int]], rows: int = 30) -> None:
    """Text lines drawn as rows of character-sized blocks with gaps, at each (x0, x1) span."""
    for r in range(rows):
        y = 150 + 50 * r
        for x0, x1 in spans:
            for x in range(x0, x1 - 25, 32):
                draw.rectangle((x, y, x + 26, y + 28), fill=0)


def test_two_columns_have_a_gutter_and_one_column_has_none() -> None:
    from corpus.ruling import column_gutter

    image, draw = _page()
    _lines(draw, [(100, 570), (606, 1100)])  # two columns 36 px apart
    gutter = column_gutter(image)
    assert gutter is not None and 570 < gutter < 606
    image, draw = _page()
    _lines(draw, [(100, 1100)])  # one column: the gaps between characters line up, but are narrow
    assert column_gutter(image) is None
    image, draw = _page()
    _lines(draw, [(100, 400), (1040, 1100)])  # a contents page: entries, then page numbers far right
    assert column_gutter(image) is None
