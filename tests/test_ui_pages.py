"""PDF pages rendered for the document viewer, with the quoted sentence's boxes (real PDFs, real PDFium)."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest
from fpdf import FPDF

from ui.pages import page_count, quote_boxes, render_page

LONG = (
    "The conversion of one ferry costs 4.2 million dollars, including the charging equipment at the "
    "pier, the new battery rooms and the training of the crews who will run the electric vessels."
)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pages") / "ferry.pdf"
    doc = FPDF(format="A4")
    doc.set_font("Helvetica", size=11)
    doc.add_page()
    opening = "Harbour ferries. An opening line that is not quoted."
    doc.multi_cell(0, 6, opening, new_x="LMARGIN", new_y="NEXT")
    doc.ln(30)
    doc.multi_cell(0, 6, LONG, new_x="LMARGIN", new_y="NEXT")  # wraps onto a second line
    doc.add_page()
    doc.multi_cell(0, 6, "Page two says something else.", new_x="LMARGIN", new_y="NEXT")
    doc.output(str(path))
    return path


def _word_centre(path: Path, page: int, word: str) -> tuple[float, float]:
    """Where pdfplumber (an independent reader) finds a word, as fractions of the page."""
    with pdfplumber.open(path) as doc:
        p = doc.pages[page - 1]
        found = next(w for w in p.extract_words() if w["text"] == word)
        return (found["x0"] + found["x1"]) / 2 / p.width, (found["top"] + found["bottom"]) / 2 / p.height


def test_a_wrapped_sentence_gets_one_box_per_line_over_its_words(pdf: Path) -> None:
    boxes = quote_boxes(pdf, 1, LONG)
    assert len(boxes) == 2
    first, second = sorted(boxes, key=lambda b: b.top)
    assert first.top + first.height <= second.top + 0.002  # two lines, one under the other
    for word in ("4.2", "vessels."):
        x, y = _word_centre(pdf, 1, word)
        assert any(b.left <= x <= b.left + b.width and b.top <= y <= b.top + b.height for b in boxes), word
    # The unquoted opening line is not marked.
    _, y = _word_centre(pdf, 1, "opening")
    assert not any(b.top <= y <= b.top + b.height for b in boxes)


def test_quote_is_found_whatever_its_white_space(pdf: Path) -> None:
    spaced = "costs   4.2 million\ndollars"
    boxes = quote_boxes(pdf, 1, spaced)
    assert len(boxes) == 1
    x, _ = _word_centre(pdf, 1, "million")
    assert boxes[0].left <= x <= boxes[0].left + boxes[0].width


def test_quote_not_on_the_page_gets_no_box(pdf: Path) -> None:
    assert quote_boxes(pdf, 2, LONG) == []
    assert quote_boxes(pdf, 1, "Page two says something else.") == []
    assert quote_boxes(pdf, 9, LONG) == []


def test_page_renders_as_a_jpeg_of_the_page_shape(pdf: Path) -> None:
    assert page_count(pdf) == 2
    image = render_page(pdf, 1, [LONG])
    assert image.jpeg[:3] == b"\xff\xd8\xff"
    assert 1.38 < image.height / image.width < 1.45  # A4
    assert len(image.boxes) == 2 and image.data_url().startswith("data:image/jpeg;base64,")
    with pytest.raises(ValueError, match="outside 1-2"):
        render_page(pdf, 3)
