"""Typed records that leave the corpus layer: documents, their pages, and chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

DocKind = Literal["pdf", "text", "markdown"]
Script = Literal["zh-Hant", "zh-Hans", "en", "mixed"]
ChunkKind = Literal["text", "table"]


class CorpusError(Exception):
    """A file that cannot be read; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}")


@dataclass(frozen=True)
class Page:
    """One PDF page as a span of the document's display text."""

    number: int  # 1-based physical index
    label: str  # printed label where the PDF defines labels, else str(number)
    char_start: int
    char_end: int
    ocr: bool = False  # text read from the page image by OCR, not from the PDF's text layer


@dataclass
class Document:
    """A report after reading and cleaning; `text` is what citations quote."""

    doc_id: str  # stable content hash (hex) of the file bytes
    path: Path
    file_name: str
    title: str
    kind: DocKind
    text: str  # display text after cleaning (running headers, markup removed)
    pages: list[Page] = field(default_factory=list)  # PDF only
    line_starts: list[int] = field(default_factory=list)  # text/markdown: offset of each 1-based line
    metadata: dict[str, str] = field(default_factory=dict)  # e.g. publisher, year, author
    script: Script = "mixed"
    outline: tuple[tuple[int, str], ...] = ()  # PDF bookmarks (level, title): confirm headings
    notes: list[str] = field(default_factory=list)  # reading problems the user should hear about


@dataclass(frozen=True)
class Chunk:
    """A citable passage: contiguous display text plus its full address."""

    chunk_id: str  # f"{doc_id}:{ordinal}"
    doc_id: str
    ordinal: int
    file_name: str
    title: str
    text: str  # == document.text[char_start:char_end]
    char_start: int
    char_end: int
    section_path: tuple[str, ...]
    page_start: int | None = None  # PDF physical page numbers (1-based)
    page_end: int | None = None
    page_label: str | None = None  # printed label(s) for display, e.g. "12" or "12-13"
    line_start: int | None = None  # text/markdown files (1-based, inclusive)
    line_end: int | None = None
    script: Script = "mixed"
    kind: ChunkKind = "text"
    table_header: str | None = None  # header row repeated for table pieces that lack it
    ocr: bool = False  # some of its text was read by OCR: the reader should check the page image

    @property
    def index_text(self) -> str:
        """Text that is embedded and indexed: the section breadcrumb, any repeated header, the body."""
        parts = []
        if self.section_path:
            parts.append(" > ".join(self.section_path))
        if self.table_header and not self.text.startswith(self.table_header):
            parts.append(self.table_header)
        parts.append(self.text)
        return "\n".join(parts)

    @property
    def address(self) -> str:
        """Human-readable location: page(s) for PDFs, lines for text files."""
        if self.page_start is not None:
            label = self.page_label or (
                str(self.page_start)
                if self.page_end in (None, self.page_start)
                else f"{self.page_start}-{self.page_end}"
            )
            # OCR mark (issue 17): the one change to the address text; localized in qa/answer.py _where.
            return f"p. {label}" + (" (OCR)" if self.ocr else "")
        if self.line_start is not None:
            if self.line_end in (None, self.line_start):
                return f"line {self.line_start}"
            return f"lines {self.line_start}-{self.line_end}"
        return ""


@dataclass(frozen=True)
class Skipped:
    """A file the reader passed over, with the one-line reason shown to the user."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path.name}: {self.reason}"
