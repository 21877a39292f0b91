"""PDF extraction with pypdf: page texts, printed page labels, bookmarks (outline), metadata."""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.types import CorpusError

log = logging.getLogger(__name__)

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


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def _extract_range(reader: Any, start: int, stop: int) -> list[str | None]:
    texts: list[str | None] = []
    for index in range(start, stop):
        try:
            texts.append(reader.pages[index].extract_text() or "")
        except Exception:  # one bad page must not lose the document
            texts.append(None)
    return texts


def _extract_range_from_bytes(data: bytes, start: int, stop: int) -> list[str | None]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")
    return _extract_range(reader, start, stop)


def _page_texts(reader: Any, data: bytes, page_count: int, workers: int) -> list[str | None]:
    """Page texts in order; long PDFs are split over worker processes (pypdf is pure Python)."""
    workers = max(1, min(workers, os.cpu_count() or 1, page_count // PAGES_PER_WORKER))
    if workers == 1:
        return _extract_range(reader, 0, page_count)
    bounds = [page_count * i // workers for i in range(workers + 1)]
    # spawn, not fork: the caller may hold threads (torch, tokenizers) that fork would copy broken.
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [
                pool.submit(_extract_range_from_bytes, data, bounds[i], bounds[i + 1]) for i in range(workers)
            ]
            return [text for future in futures for text in future.result()]
    except (OSError, BrokenProcessPool) as exc:
        log.info("parallel extraction unavailable (%s); extracting in-process", _short(exc))
        return _extract_range(reader, 0, page_count)


def extract_pdf(path: Path, data: bytes, workers: int = 1) -> PdfContent:
    """Read every page; raises CorpusError for damaged, encrypted or image-only PDFs."""
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

    texts = _page_texts(reader, data, page_count, workers)
    failures = 0
    for number, text in enumerate(texts, start=1):
        if text is None:
            failures += 1
            log.warning("%s: page %d unreadable", path.name, number)
    if not any(t and t.strip() for t in texts):
        if failures == page_count:
            raise CorpusError(path, "damaged PDF (no page could be read)")
        raise CorpusError(path, "no extractable text; needs OCR")

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
    )


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
