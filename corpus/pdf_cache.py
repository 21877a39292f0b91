"""On-disk cache of PDF extraction results: pypdf is pure Python and slow on long reports."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from corpus.pdf import OutlineEntry, PdfContent

log = logging.getLogger(__name__)

# Bump when extraction changes what it returns, so old entries are not reused.
# 3: bordered tables as tab-separated rows; 4: OCR'd pages (corpus/ocr.py);
# 5: table rows cut by a page break joined, multi-level repeated headers dropped;
# 6-10: OCR'd pages: bordered tables from the image's ruling lines, figures read twice, two columns.
EXTRACTION_VERSION = 10


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("reportqa")) / "pdf-text"


def _entry(cache_dir: Path, content_hash: str, variant: str = "") -> Path:
    from pdfplumber import __version__ as plumber_version
    from pypdf import __version__ as pypdf_version

    # `variant` names the OCR mode and engine: the same file read with another one differs.
    suffix = f"-{variant}" if variant else ""
    versions = f"pypdf{pypdf_version}-pdfplumber{plumber_version}-v{EXTRACTION_VERSION}"
    return cache_dir / f"{content_hash}-{versions}{suffix}.json"


def load(cache_dir: Path, content_hash: str, variant: str = "") -> PdfContent | None:
    """The cached extraction of the PDF with this content hash, if any (a bad entry counts as none)."""
    path = _entry(cache_dir, content_hash, variant)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return PdfContent(
            page_texts=list(raw["page_texts"]),
            labels=list(raw["labels"]),
            outline=[OutlineEntry(**entry) for entry in raw["outline"]],
            title=raw["title"],
            author=raw["author"],
            garbled_pages=[int(n) for n in raw.get("garbled_pages", [])],
            ocr_pages=[int(n) for n in raw.get("ocr_pages", [])],
            ocr_confidence=[float(c) for c in raw.get("ocr_confidence", [])],
            ocr_failed=[int(n) for n in raw.get("ocr_failed", [])],
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.info("ignoring unreadable cache entry %s (%s)", path.name, exc)
        return None


def store(cache_dir: Path, content_hash: str, content: PdfContent, variant: str = "") -> None:
    """Write atomically (temp file + rename) so concurrent readers never see half an entry."""
    path = _entry(cache_dir, content_hash, variant)
    tmp: str | None = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(content), handle, ensure_ascii=False)
        os.replace(tmp, path)
        tmp = None
    except (OSError, TypeError, ValueError) as exc:  # a read-only or full disk only costs speed
        log.info("cannot write PDF cache entry %s (%s)", path, exc)
    finally:
        if tmp is not None:  # the write failed (or was interrupted): no half entry stays behind
            with contextlib.suppress(OSError):
                os.unlink(tmp)
