"""Typed records that leave the corpus layer: documents, their pages, and chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from corpus.address import format_address

DocKind = Literal["pdf", "text", "markdown"]
Script = Literal["zh-Hant", "zh-Hans", "en", "mixed"]
Language = Literal["zh-Hant", "zh-Hans", "en"]  # a reader's language: answers and addresses
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
class Table:
    """A table as cells: caption parts, header rows (several levels where merged cells stack them),
    data rows whose first cell is the row label, and notes/source lines kept apart from the data."""

    number: str  # e.g. "附表 2", "表 1-1"; "" when the caption has no number
    title: str  # caption without number and unit
    caption: str  # the caption line as printed
    unit: str  # from the caption, e.g. "%", "千元"; "" when not stated there
    header_rows: tuple[tuple[str, ...], ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    pages: tuple[int, ...] = ()  # PDF physical pages the table spans

    @property
    def columns(self) -> list[str]:
        """One name per column: stacked header cells joined, a merged parent cell spread to the right."""
        width = max((len(r) for r in self.header_rows + self.rows), default=0)
        levels: list[list[str]] = []
        for depth, row in enumerate(self.header_rows):
            cells = [row[j] if j < len(row) else "" for j in range(width)]
            if depth < len(self.header_rows) - 1:
                for j in range(2, width):  # a parent cell merged over several columns spans them all
                    cells[j] = cells[j] or cells[j - 1]
            levels.append(cells)
        names = [" ".join(level[j] for level in levels if level[j]) for j in range(width)]
        return names

    @property
    def row_labels(self) -> list[str]:
        return [r[0] if r else "" for r in self.rows]


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
        return format_address(
            page_start=self.page_start,
            page_end=self.page_end,
            page_label=self.page_label,
            line_start=self.line_start,
            line_end=self.line_end,
            ocr=self.ocr,
        )


@dataclass(frozen=True)
class Skipped:
    """A file the reader passed over, with the one-line reason shown to the user."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path.name}: {self.reason}"
