"""PDF extraction with pypdf: page texts, printed page labels, bookmarks (outline), metadata."""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.tables import Grid, PageTable, find_grids, join_continued_tables, splice
from corpus.types import CorpusError

log = logging.getLogger(__name__)

PageRead = tuple[str | None, list[Grid]]  # a page's text (None: unreadable) and its bordered tables
PAGES_PER_WORKER = 30  # below this, starting a worker process costs more than it saves


@dataclass(frozen=True)
class OutlineEntry:
    title: str
    level: int  # 0 = top-level bookmark
    page: int | None  # 1-based physical page


@dataclass
class PdfContent:
    page_texts: list[str]
    labels: list[str]
    outline: list[OutlineEntry] = field(default_factory=list)
    title: str = ""
    author: str = ""
    garbled_pages: list[int] = field(default_factory=list)  # 1-based; their text was dropped
    ocr_pages: list[int] = field(default_factory=list)  # 1-based; their text was read by OCR
    ocr_confidence: list[float] = field(default_factory=list)  # mean word confidence, per ocr_pages
    ocr_failed: list[int] = field(default_factory=list)  # needed OCR but nothing could be read


# Code points that a correct text layer (almost) never yields: NUL and other C0 controls, the
# replacement character, and private-use areas (glyph ids leaking through a missing Unicode map).
_GARBAGE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]"
)
# A page is undecodable when this share of its visible characters is garbage. Real pages stay far
# below it (an icon font mapped to private use gives a few characters a page); a wrong code width
# or a missing Unicode map puts garbage at every other character or more.
GARBLED_SHARE = 0.10
_CODESPACE = re.compile(rb"begincodespacerange(.*?)endcodespacerange", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def garbled_share(text: str) -> float:
    """Share of the visible characters of `text` that no correct text layer produces."""
    visible = sum(not ch.isspace() for ch in text)
    return len(_GARBAGE.findall(text)) / visible if visible else 0.0


def _code_widths(cmap: bytes) -> set[int]:
    """Byte widths of the codes declared by a CMap's codespace ranges."""
    widths: set[int] = set()
    for block in _CODESPACE.findall(cmap):
        widths.update(len(code) // 2 for code in _HEX.findall(block))
    return widths


def _repair_cmap_encodings(reader: Any) -> int:
    """Give Type0 fonts whose /Encoding is an embedded two-byte CMap an Identity encoding.

    pypdf reads a composite font's /Encoding only when it is a name; an embedded CMap stream (as
    fpdf2 writes for CFF CJK fonts, and other generators can) falls back to a one-byte encoding, so
    every two-byte code is split and its high byte comes out as NUL. For text, only the code width
    matters (the font's /ToUnicode maps codes, not CIDs, to characters), so a CMap whose codes are
    all two bytes wide decodes exactly as Identity-H (Identity-V when it writes vertically).
    Returns the number of fonts changed; the file on disk is never touched.
    """
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    seen: set[int] = set()
    repaired = 0

    def fix_font(font: Any) -> None:
        nonlocal repaired
        if not isinstance(font, DictionaryObject) or id(font) in seen:
            return
        seen.add(id(font))
        if font.get("/Subtype") != "/Type0" or "/ToUnicode" not in font:
            return
        encoding = font.get("/Encoding")
        encoding = encoding.get_object() if encoding is not None else None
        if not isinstance(encoding, StreamObject):
            return
        data = encoding.get_data()
        if _code_widths(data) != {2}:
            return  # mixed or one-byte code spaces need a real CMap decoder: left to the garbage check
        vertical = encoding.get("/WMode") == 1 or re.search(rb"/WMode\s+1\b", data) is not None
        font[NameObject("/Encoding")] = NameObject("/Identity-V" if vertical else "/Identity-H")
        repaired += 1

    def walk(resources: Any, depth: int) -> None:
        resources = resources.get_object() if resources is not None else None
        if not isinstance(resources, DictionaryObject) or depth > 8:
            return
        fonts = resources.get("/Font")
        fonts = fonts.get_object() if fonts is not None else None
        if isinstance(fonts, DictionaryObject):
            for ref in fonts.values():
                fix_font(ref.get_object())
        xobjects = resources.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else None
        if isinstance(xobjects, DictionaryObject):
            for ref in xobjects.values():
                form = ref.get_object()
                if isinstance(form, DictionaryObject) and id(form) not in seen:
                    seen.add(id(form))
                    walk(form.get("/Resources"), depth + 1)

    for page in reader.pages:
        try:
            walk(page.get("/Resources"), 0)
        except Exception as exc:  # a broken resource dictionary only costs this repair
            log.debug("font repair skipped on a page: %s", _short(exc))
    return repaired


def _extract_range(reader: Any, start: int, stop: int) -> list[str | None]:
    texts: list[str | None] = []
    for index in range(start, stop):
        try:
            texts.append(reader.pages[index].extract_text() or "")
        except Exception:  # one bad page must not lose the document
            texts.append(None)
    return texts


def _extract_range_from_bytes(data: bytes, start: int, stop: int) -> list[PageRead]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")
    _repair_cmap_encodings(reader)
    return _with_grids(_extract_range(reader, start, stop), data, start, stop)


def _with_grids(texts: list[str | None], data: bytes, start: int, stop: int) -> list[PageRead]:
    """Each page's text with the bordered tables found on it (found in the same worker)."""
    return list(zip(texts, find_grids(data, start, stop), strict=True))


def _page_texts(reader: Any, data: bytes, page_count: int, workers: int) -> list[PageRead]:
    """Page texts and tables in order; long PDFs are split over worker processes (pure-Python readers)."""
    workers = max(1, min(workers, os.cpu_count() or 1, page_count // PAGES_PER_WORKER))
    if workers == 1:
        return _with_grids(_extract_range(reader, 0, page_count), data, 0, page_count)
    bounds = [page_count * i // workers for i in range(workers + 1)]
    # spawn, not fork: the caller may hold threads (torch, tokenizers) that fork would copy broken.
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [
                pool.submit(_extract_range_from_bytes, data, bounds[i], bounds[i + 1]) for i in range(workers)
            ]
            return [page for future in futures for page in future.result()]
    except (OSError, BrokenProcessPool) as exc:
        log.info("parallel extraction unavailable (%s); extracting in-process", _short(exc))
        return _with_grids(_extract_range(reader, 0, page_count), data, 0, page_count)


def extract_pdf(path: Path, data: bytes, workers: int = 1, ocr_mode: str = "auto") -> PdfContent:
    """Read every page; raises CorpusError for damaged, encrypted or (without OCR) image-only PDFs."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise CorpusError(path, "not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorpusError(path, "encrypted PDF (a password is required)")
        page_count = len(reader.pages)
    except CorpusError:
        raise
    except DependencyError:
        raise CorpusError(path, "encrypted PDF (AES needs the 'cryptography' package)") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        if "decrypt" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise CorpusError(path, "encrypted PDF (a password is required)") from None
        raise CorpusError(path, f"damaged or truncated PDF ({_short(exc)})") from None
    except Exception as exc:  # pypdf raises a wide range of errors on malformed files
        raise CorpusError(path, f"damaged or truncated PDF ({_short(exc)})") from None
    if page_count == 0:
        raise CorpusError(path, "PDF has no pages")

    if _repair_cmap_encodings(reader):
        log.info("%s: read fonts with embedded two-byte CMaps as Identity-encoded", path.name)
    pages = _page_texts(reader, data, page_count, workers)
    texts = [text for text, _grids in pages]
    failures = 0
    for number, text in enumerate(texts, start=1):
        if text is None:
            failures += 1
            log.warning("%s: page %d unreadable", path.name, number)
    garbled = [n for n, t in enumerate(texts, start=1) if t and garbled_share(t) > GARBLED_SHARE]
    # OCR hook (corpus/ocr.py): pages without a usable text layer get the text read from their image.
    from corpus.ocr import read_scanned_pages

    ocr = read_scanned_pages(path, data, texts, garbled, ocr_mode, workers)
    garbled = [n for n in garbled if n not in ocr.pages]
    if garbled and len(garbled) == sum(bool(t and t.strip()) for t in texts):
        raise CorpusError(
            path,
            f"text layer cannot be decoded ({page_list(garbled)} give NUL, replacement or private-use "
            "characters: a font without a usable Unicode map); needs OCR",
        )
    for number in garbled:
        log.warning("%s: page %d dropped: its text cannot be decoded", path.name, number)
        texts[number - 1] = ""
    # An OCR'd page's tables are those found in its image (corpus/ruling.py), not in its text layer.
    grids = [ocr.grids.get(number, page_grids) for number, (_text, page_grids) in enumerate(pages, start=1)]
    texts = _tables_as_rows(texts, grids)
    if not any(t and t.strip() for t in texts):
        if failures == page_count:
            raise CorpusError(path, "damaged PDF (no page could be read)")
        raise CorpusError(
            path, "no text recognised by OCR on any page" if ocr.failed else "no extractable text; needs OCR"
        )

    try:
        labels = list(reader.page_labels)
    except Exception:
        labels = []
    if len(labels) != page_count:
        labels = [str(i) for i in range(1, page_count + 1)]
    meta: Any = None
    try:
        meta = reader.metadata
    except Exception:
        meta = None
    return PdfContent(
        page_texts=[t or "" for t in texts],
        labels=labels,
        outline=_outline(reader),
        title=str((meta or {}).get("/Title") or "").strip(),
        author=str((meta or {}).get("/Author") or "").strip(),
        garbled_pages=garbled,
        ocr_pages=ocr.pages,
        ocr_confidence=ocr.confidences,
        ocr_failed=ocr.failed,
    )


def _tables_as_rows(texts: list[str | None], grids: list[list[Grid]]) -> list[str | None]:
    """Bordered tables as tab-separated rows in the page texts, joined again where a page break cut them."""
    spliced: list[str | None] = []
    found: list[list[PageTable]] = []
    for text, page_grids in zip(texts, grids, strict=True):
        if not text or not page_grids:
            spliced.append(text)
            found.append([])
            continue
        new_text, tables = splice(text, page_grids)
        spliced.append(new_text)
        found.append(tables)
    joined = join_continued_tables([t or "" for t in spliced], found)
    return [None if t is None else joined[i] for i, t in enumerate(spliced)]


def page_list(numbers: list[int]) -> str:
    """'page 3' or '4 pages (3, 5, 9, 12)' for messages."""
    shown = ", ".join(str(n) for n in numbers[:8]) + (", ..." if len(numbers) > 8 else "")
    return f"page {shown}" if len(numbers) == 1 else f"{len(numbers)} pages ({shown})"


def _outline(reader: Any) -> list[OutlineEntry]:
    entries: list[OutlineEntry] = []

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page: int | None = reader.get_destination_page_number(item) + 1
            except Exception:
                page = None
            entries.append(OutlineEntry(str(item.title).strip(), level, page))

    try:
        walk(reader.outline, 0)
    except Exception as exc:  # a broken outline only costs heading confirmation
        log.info("outline unreadable: %s", _short(exc))
    return entries
