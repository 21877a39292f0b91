"""Formatted citations for retrieved passages and their export as CSV, JSON and BibTeX."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from corpus.tables import read_table_text
from corpus.types import Chunk
from index.types import Hit

# Spreadsheet programs run cells that start with these as formulas (`-2+3`, `=HYPERLINK(...)`; tab and
# CR can hide such a start); a leading apostrophe keeps them text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BIBTEX_SPECIAL = re.compile(r"([\\{}%&#_$^~])")


@dataclass(frozen=True)
class CitationRecord:
    """One search result flattened for citing and exporting."""

    rank: int
    score: float
    title: str
    file_name: str
    publisher: str
    year: str
    address: str
    section: str
    page_start: int | None
    page_end: int | None
    line_start: int | None
    line_end: int | None
    matched_terms: tuple[str, ...]
    text: str
    chunk_id: str
    doc_id: str

    @property
    def citation(self) -> str:
        return format_citation(self)


def citation_record(hit: Hit, metadata: Mapping[str, str] | None = None) -> CitationRecord:
    """Flatten a hit; publisher and year come from the document's metadata when it has them."""
    meta = metadata or {}
    chunk = hit.chunk
    return CitationRecord(
        rank=hit.rank,
        score=round(float(hit.score), 6),
        title=chunk.title,
        file_name=chunk.file_name,
        publisher=(meta.get("publisher") or meta.get("author") or "").strip(),
        year=str(meta.get("year") or "").strip(),
        address=chunk.address,
        section=" › ".join(chunk.section_path),
        page_start=chunk.page_start,
        page_end=chunk.page_end,
        line_start=chunk.line_start,
        line_end=chunk.line_end,
        matched_terms=tuple(hit.matched_terms),
        text=chunk.text,
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
    )


def format_citation(record: CitationRecord) -> str:
    """'Publisher (Year). Title, p. 12, Section.' leaving out what is unknown."""
    if record.publisher and record.year:
        head = f"{record.publisher} ({record.year}). {record.title}"
    elif record.publisher:
        head = f"{record.publisher}. {record.title}"
    elif record.year:
        head = f"{record.title} ({record.year})"
    else:
        head = record.title
    tail = ", ".join(part for part in (record.address, record.section) if part)
    return f"{head}, {tail}." if tail else f"{head}."


def record_dict(record: CitationRecord) -> dict[str, object]:
    """JSON-able form of a record, including its formatted citation."""
    out: dict[str, object] = asdict(record)
    out["matched_terms"] = list(record.matched_terms)
    out["citation"] = record.citation
    return out


_CSV_FIELDS = (
    "rank",
    "score",
    "title",
    "publisher",
    "year",
    "address",
    "section",
    "citation",
    "matched_terms",
    "text",
    "file_name",
    "page_start",
    "page_end",
    "line_start",
    "line_end",
    "chunk_id",
    "doc_id",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)  # a number (a negative score) is never a formula and must stay a number
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(records: Sequence[CitationRecord]) -> str:
    """CSV text with a header row, one row per passage."""
    buffer = io.StringIO()
    # CRLF rows (RFC 4180) also make the writer quote any cell holding a CR, which a "\n" terminator
    # would leave bare for a spreadsheet to read as a row break.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_CSV_FIELDS)
    for record in records:
        row = record_dict(record)
        writer.writerow([_cell(row[name]) for name in _CSV_FIELDS])
    return buffer.getvalue()


def to_json(records: Sequence[CitationRecord], query: str = "") -> str:
    """Pretty JSON: the query and the list of passages."""
    payload = {"query": query, "results": [record_dict(r) for r in records]}
    return json.dumps(payload, ensure_ascii=False, indent=2)


def _bibtex_value(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def to_bibtex(records: Sequence[CitationRecord]) -> str:
    """@techreport entries for passages whose report has a publisher or year; '' when none has.

    Without either field an entry would carry nothing a title search cannot give, so it is left out.
    """
    entries: list[str] = []
    for record in records:
        if not (record.publisher or record.year):
            continue
        key = f"rq{record.doc_id[:10]}_{record.rank}"
        fields = [("title", record.title)]
        if record.publisher:
            fields.append(("institution", record.publisher))
        if record.year:
            fields.append(("year", record.year))
        if record.page_start is not None:
            end = record.page_end if record.page_end is not None else record.page_start
            fields.append(
                (
                    "pages",
                    str(record.page_start) if end == record.page_start else f"{record.page_start}--{end}",
                )
            )
        note = "; ".join(
            part for part in (record.address if record.page_start is None else "", record.section) if part
        )
        if note:
            fields.append(("note", note))
        body = ",\n".join(f"  {name} = {{{_bibtex_value(value)}}}" for name, value in fields)
        entries.append(f"@techreport{{{key},\n{body}\n}}\n")
    return "\n".join(entries)


@dataclass(frozen=True)
class ExportFiles:
    """Paths of the written export files; bibtex is None when no passage has citable metadata."""

    csv: Path
    json: Path
    bibtex: Path | None


def write_exports(
    records: Sequence[CitationRecord], folder: Path, query: str = "", stem: str = "passages"
) -> ExportFiles:
    """Write the exports into `folder` (created if needed) as <stem>.csv, .json and .bib."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"{stem}.csv"
    # utf-8-sig so spreadsheet programs recognise the encoding of Chinese text.
    csv_path.write_text(to_csv(records), encoding="utf-8-sig", newline="")
    json_path = folder / f"{stem}.json"
    json_path.write_text(to_json(records, query), encoding="utf-8")
    bib = to_bibtex(records)
    bib_path: Path | None = None
    if bib:
        bib_path = folder / f"{stem}.bib"
        bib_path.write_text(bib, encoding="utf-8")
    return ExportFiles(csv=csv_path, json=json_path, bibtex=bib_path)


def table_csv(chunk: Chunk) -> str | None:
    """A cited table chunk as CSV (caption, header rows, data rows, notes, source); None for prose."""
    if chunk.kind != "table":
        return None
    table = read_table_text(chunk.text, chunk.table_header)
    if table is None:
        return None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if table.caption:
        writer.writerow([_cell(table.caption)])
    for row in table.header_rows + table.rows:
        writer.writerow([_cell(c) for c in row])
    for note in table.notes:
        writer.writerow([_cell(note)])
    source = ", ".join(p for p in (chunk.file_name, chunk.address) if p)
    writer.writerow([_cell(f"Source 出處: {source}")])
    return buffer.getvalue()


def write_table_csv(chunk: Chunk, folder: Path, stem: str = "table") -> Path | None:
    """Write a cited table as <stem>.csv (UTF-8 with BOM for spreadsheets); None for a non-table chunk."""
    text = table_csv(chunk)
    if text is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.csv"
    path.write_text(text, encoding="utf-8-sig", newline="")
    return path
