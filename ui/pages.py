"""PDF pages as pictures, with the boxes of a quoted sentence, for the document viewer.

pypdfium2 (PDFium, the renderer inside Chromium) draws the page exactly as a PDF reader would, so
tables, figures and fonts look as printed; extracted text cannot show a table's layout. Its text
page gives every character's box, which is what lets the viewer mark the quoted sentence itself
rather than the whole passage. It is a wheel with no system libraries and already reads scans for OCR.
"""

from __future__ import annotations

import base64
import io
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

# One PDFium call at a time: the library is not thread-safe and the app answers requests in threads.
_PDFIUM = threading.Lock()
RENDER_SCALE = 1.6  # 72 dpi * 1.6 ≈ 115 dpi: CJK strokes stay legible at the viewer's width


@dataclass(frozen=True)
class Box:
    """A highlight rectangle as fractions of the page's width and height (top-left origin)."""

    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class PageImage:
    """A rendered page: the picture (JPEG bytes), its pixel size, and the boxes of the quote."""

    jpeg: bytes
    width: int
    height: int
    boxes: tuple[Box, ...]

    def data_url(self) -> str:
        return "data:image/jpeg;base64," + base64.b64encode(self.jpeg).decode("ascii")


def page_count(path: Path) -> int:
    import pypdfium2 as pdfium

    with _PDFIUM:
        pdf = pdfium.PdfDocument(str(path))
        try:
            return len(pdf)
        finally:
            pdf.close()


def render_page(path: Path, number: int, quotes: Sequence[str] = ()) -> PageImage:
    """Page `number` (1-based) of the PDF at `path`, with the boxes of each quote found on it.

    Raises ValueError for a page outside the document and OSError / pypdfium2 errors for a file
    that cannot be read; the caller turns them into a message.
    """
    stat = path.stat()
    jpeg, width, height = _render(str(path), stat.st_mtime_ns, stat.st_size, number)
    boxes: list[Box] = []
    for quote in quotes:
        boxes.extend(quote_boxes(path, number, quote))
    return PageImage(jpeg, width, height, tuple(boxes))


@lru_cache(maxsize=24)
def _render(path: str, _mtime: int, _size: int, number: int) -> tuple[bytes, int, int]:
    """The page picture, cached per file version (mtime and size are part of the key)."""
    import pypdfium2 as pdfium

    with _PDFIUM:
        pdf = pdfium.PdfDocument(path)
        try:
            if not 1 <= number <= len(pdf):
                raise ValueError(f"page {number} is outside 1-{len(pdf)}")
            page = pdf[number - 1]
            image = page.render(scale=RENDER_SCALE).to_pil().convert("RGB")
            page.close()
        finally:
            pdf.close()
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82, optimize=True)
    return buffer.getvalue(), image.width, image.height


def _folded(text: str) -> tuple[str, list[int]]:
    """Text without white space, and for each kept character its index in `text`.

    PDF text often carries a space between CJK characters (「高 速 網 路」) or breaks a sentence over
    lines, so quote and page are compared with all white space removed.
    """
    kept: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if not ch.isspace():
            kept.append(ch)
            where.append(i)
    return "".join(kept), where


def quote_boxes(path: Path, number: int, quote: str) -> list[Box]:
    """One box per line of the page that the quote occupies; [] when the quote is not on the page."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    target, _ = _folded(quote)
    if not target:
        return []
    with _PDFIUM:
        pdf = pdfium.PdfDocument(str(path))
        try:
            if not 1 <= number <= len(pdf):
                return []
            page = pdf[number - 1]
            page_w, page_h = page.get_size()
            text_page = page.get_textpage()
            count = text_page.count_chars()
            # Character by character, so indices match the character boxes exactly.
            chars = "".join(chr(raw.FPDFText_GetUnicode(text_page.raw, i) or 32) for i in range(count))
            folded, where = _folded(chars)
            at = folded.find(target)
            if at < 0:
                # A quote that runs onto the next page: mark the part on this page.
                for size in (80, 30):
                    probe = target[:size]
                    if len(probe) < len(target) and (at := folded.find(probe)) >= 0:
                        target = probe
                        break
            rects: list[tuple[float, float, float, float]] = []
            if at >= 0:
                rects = [text_page.get_charbox(where[i]) for i in range(at, at + len(target))]
            text_page.close()
            page.close()
        finally:
            pdf.close()
    return [_to_box(r, page_w, page_h) for r in _lines(rects)]


def _lines(rects: Sequence[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Merge character boxes (left, bottom, right, top in PDF points) into one box per text line."""
    merged: list[list[float]] = []
    for left, bottom, right, top in rects:
        if right <= left or top <= bottom:
            continue  # generated characters have no box
        middle = (bottom + top) / 2
        for line in merged:
            if line[1] <= middle <= line[3]:
                line[0], line[1] = min(line[0], left), min(line[1], bottom)
                line[2], line[3] = max(line[2], right), max(line[3], top)
                break
        else:
            merged.append([left, bottom, right, top])
    return [(a, b, c, d) for a, b, c, d in merged]


def _to_box(rect: tuple[float, float, float, float], page_w: float, page_h: float) -> Box:
    left, bottom, right, top = rect
    pad = 1.5  # points: the mark should cover ascenders and descenders
    return Box(
        left=max(left - pad, 0) / page_w,
        top=max(page_h - top - pad, 0) / page_h,
        width=(right - left + 2 * pad) / page_w,
        height=(top - bottom + 2 * pad) / page_h,
    )
