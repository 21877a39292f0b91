"""Read one report file (PDF, text, Markdown) into a Document with clean display text."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from corpus import pdf_cache
from corpus.cleaning import (
    clean_markup,
    column_width,
    margin_lines,
    page_number_lines,
    reflow,
    repeated_title_lines,
    wrap_joint,
)
from corpus.cover import guess_metadata, guess_title
from corpus.decoding import decode_text
from corpus.normalize import detect_script
from corpus.ocr import cache_variant
from corpus.ocr import summary as ocr_summary
from corpus.pdf import PdfContent, extract_pdf, page_list
from corpus.tables import markdown_rows
from corpus.types import CorpusError, Document, Page, Skipped

log = logging.getLogger(__name__)

# Bumped when the same file is read into other text (2: paragraphs wrapped over a page break are
# joined); an index stores it, and one built by another reading reads its documents again.
READING_VERSION = 2


@dataclass
class ReadingConfig:
    """Which files are read and how large they may be."""

    max_file_mb: float = 50.0
    extensions: tuple[str, ...] = (".pdf", ".txt", ".md", ".markdown")
    prefer_pdf_twins: bool = True  # X.pdf next to X.txt/X.md: read the PDF only (it has pages)
    pdf_workers: int = 2  # processes extracting the pages of one long PDF
    # Extracted PDF text keyed by content hash and pypdf version; None = no cache.
    cache_dir: Path | None = field(default_factory=pdf_cache.default_cache_dir)
    # OCR of pages without a usable text layer: "auto" (those pages), "always" (every page), "never".
    ocr: str = "auto"
    skip_readme: bool = True  # a README found in a report folder describes the folder, it is not a report


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return "pdf"
    return "markdown" if suffix in (".md", ".markdown") else "text"


def _load_bytes(path: Path, config: ReadingConfig) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise CorpusError(path, "file not found") from None
    except OSError as exc:
        raise CorpusError(path, f"cannot access file ({exc.strerror or exc})") from None
    if path.is_dir():
        raise CorpusError(path, "is a folder, not a file")
    if size > config.max_file_mb * 1024 * 1024:
        raise CorpusError(
            path, f"file too large ({size / 1024 / 1024:.1f} MB > limit {config.max_file_mb:g} MB)"
        )
    if size == 0:
        raise CorpusError(path, "empty file")
    try:
        return path.read_bytes()
    except PermissionError:
        raise CorpusError(path, "permission denied") from None
    except OSError as exc:
        raise CorpusError(path, f"cannot read file ({exc.strerror or exc})") from None


def read_document(path: Path, config: ReadingConfig | None = None) -> Document:
    """Read and clean one file; raises CorpusError naming the file and the reason."""
    config = config or ReadingConfig()
    path = Path(path)
    if path.suffix.lower() not in config.extensions:
        raise CorpusError(path, f"unsupported file type '{path.suffix or '(none)'}'")
    data = _load_bytes(path, config)
    digest = hashlib.sha256(data).hexdigest()
    doc_id = digest[:16]
    if _kind(path) == "pdf":
        variant = cache_variant(config.ocr)
        content = pdf_cache.load(config.cache_dir, digest, variant) if config.cache_dir else None
        if content is None:
            content = extract_pdf(path, data, config.pdf_workers, config.ocr)
            if config.cache_dir:
                pdf_cache.store(config.cache_dir, digest, content, variant)
        doc = _read_pdf(path, content, doc_id)
    else:
        doc = _read_text(path, data, doc_id)
    if not doc.text.strip():
        raise CorpusError(path, "no text content")
    doc.script = detect_script(doc.text[:200000])
    return doc


def _read_text(path: Path, data: bytes, doc_id: str) -> Document:
    raw_lines = decode_text(path, data).split("\n")
    title = guess_title(raw_lines)
    lines = [clean_markup(line) for line in raw_lines]
    # Removed lines become empty so that line numbers still match the file on disk.
    for i in repeated_title_lines(lines, title) | page_number_lines(lines):
        lines[i] = ""
    kind = "markdown" if _kind(path) == "markdown" else "text"
    if kind == "markdown":
        lines = markdown_rows(lines)
    text = "\n".join(lines)
    line_starts: list[int] = []
    offset = 0
    for line in lines:
        line_starts.append(offset)
        offset += len(line) + 1
    if kind == "markdown" and title.startswith("#"):
        title = title.lstrip("#").strip()
    return Document(
        doc_id=doc_id,
        path=path,
        file_name=path.name,
        title=title or path.stem,
        kind=kind,
        text=text,
        line_starts=line_starts,
        metadata=guess_metadata(raw_lines),
    )


def _read_pdf(path: Path, content: PdfContent, doc_id: str) -> Document:
    pages_lines = [[clean_markup(line) for line in text.split("\n")] for text in content.page_texts]
    all_lines = [line for lines in pages_lines for line in lines]
    title = content.title or guess_title(all_lines)
    margins = margin_lines(pages_lines)
    title_copies = repeated_title_lines(all_lines, title)
    width = column_width(pages_lines)

    parts: list[str] = []
    pages: list[Page] = []
    offset = 0
    flat_index = 0
    last_line = ""  # the previous page's last kept line
    for number, (lines, drop) in enumerate(zip(pages_lines, margins, strict=True), start=1):
        # Table rows are never margins, however alike the rows ending and opening consecutive pages look.
        kept = [
            line
            for i, line in enumerate(lines)
            if (i not in drop or "\t" in line) and (flat_index + i) not in title_copies
        ]
        flat_index += len(lines)
        page_text = "\n".join(_reflow_keeping_rows(kept, width))
        if parts:
            # A paragraph wrapped over the page break goes on in one line (「共 38 萬 2,784 人」 + 「次。」),
            # so that its sentence is not cut in two where the page number stood.
            first_line = next((line for line in kept if line.strip()), "")
            joint = wrap_joint(last_line, first_line, width) if page_text else None
            joint = "\n" if joint is None else joint
            parts.append(joint)
            offset += len(joint)
        ocr = number in content.ocr_pages
        pages.append(Page(number, content.labels[number - 1], offset, offset + len(page_text), ocr))
        parts.append(page_text)
        offset += len(page_text)
        last_line = next((line for line in reversed(kept) if line.strip()), "")
    metadata = guess_metadata(all_lines)
    if content.author and "publisher" not in metadata:
        metadata["author"] = content.author
    return Document(
        doc_id=doc_id,
        path=path,
        file_name=path.name,
        title=title or path.stem,
        kind="pdf",
        text="".join(parts),
        pages=pages,
        outline=tuple((e.level, e.title) for e in content.outline),
        metadata=metadata,
        notes=_notes(content),
    )


def _reflow_keeping_rows(lines: list[str], width: float) -> list[str]:
    """Reflow the prose of a page; table rows (tab-separated, one per line) are never joined."""
    out: list[str] = []
    run: list[str] = []
    for line in lines:
        if "\t" in line:
            out.extend(reflow(run, width))
            run = []
            out.append(line.strip(" "))
        else:
            run.append(line)
    out.extend(reflow(run, width))
    return out


def _notes(content: PdfContent) -> list[str]:
    notes = []
    if content.garbled_pages:
        notes.append(f"{page_list(content.garbled_pages)} left out: text cannot be decoded")
    ocr = ocr_summary(content.ocr_pages, content.ocr_confidence, content.ocr_failed)
    if ocr:
        notes.append(ocr)
    return notes


def iter_report_files(
    paths: Iterable[Path], config: ReadingConfig | None = None, skipped: list[Skipped] | None = None
) -> list[Path]:
    """Report files among `paths` (files and folders, recursively), sorted, without duplicates.

    With `prefer_pdf_twins`, a text/Markdown file with the same stem as a PDF in the same folder is
    left out and, when `skipped` is given, recorded there.
    """
    config = config or ReadingConfig()
    found: dict[Path, None] = {}
    readmes: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    child = Path(root) / name
                    if name.startswith(".") or child.suffix.lower() not in config.extensions:
                        continue
                    if config.skip_readme and child.stem.lower() == "readme":
                        readmes.append(child)
                        continue
                    found.setdefault(child)
        else:
            # Named files are kept even if missing or of another type: reading reports why.
            found.setdefault(path)
    files = sorted(found)
    if skipped is not None:
        skipped.extend(Skipped(p, "folder README (not a report)") for p in readmes if p not in found)
    if not config.prefer_pdf_twins:
        return files
    pdfs = {(p.parent, p.stem): p for p in files if p.suffix.lower() == ".pdf"}
    kept: list[Path] = []
    for p in files:
        twin = pdfs.get((p.parent, p.stem))
        if twin is not None and twin != p:
            if skipped is not None:
                reason = f"same report as {twin.name} (the PDF is used: it has pages)"
                skipped.append(Skipped(p, reason))
            continue
        kept.append(p)
    return kept
