"""SQLite chunk store: every chunk's text, address and lexical tokens, and each document's text."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.types import Chunk, Document, Page

FILE = "chunks.sqlite"

_SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, title TEXT, file_name TEXT, path TEXT, kind TEXT,
    text TEXT, pages TEXT, line_starts TEXT, metadata TEXT, script TEXT
);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE, doc_id TEXT, ordinal INTEGER,
    file_name TEXT, title TEXT, text TEXT, char_start INTEGER, char_end INTEGER,
    section_path TEXT, page_start INTEGER, page_end INTEGER, page_label TEXT,
    line_start INTEGER, line_end INTEGER, script TEXT, kind TEXT, table_header TEXT,
    tokens TEXT, ocr INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX chunks_doc ON chunks(doc_id);
"""

_CHUNK_COLUMNS = (
    "chunk_id, doc_id, ordinal, file_name, title, text, char_start, char_end, section_path, "
    "page_start, page_end, page_label, line_start, line_end, script, kind, table_header"
)


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as kept in a generation: the record plus its lexical tokens."""

    chunk: Chunk
    tokens: list[str]


def _chunk_from_row(row: Sequence[object]) -> Chunk:
    (cid, doc_id, ordinal, file_name, title, text, cs, ce, section, ps, pe, pl, ls, le, script, kind, th) = (
        row[:17]
    )
    return Chunk(
        chunk_id=str(cid),
        doc_id=str(doc_id),
        ordinal=int(ordinal),  # type: ignore[arg-type]
        file_name=str(file_name),
        title=str(title),
        text=str(text),
        char_start=int(cs),  # type: ignore[arg-type]
        char_end=int(ce),  # type: ignore[arg-type]
        section_path=tuple(json.loads(str(section))),
        page_start=ps,  # type: ignore[arg-type]
        page_end=pe,  # type: ignore[arg-type]
        page_label=pl,  # type: ignore[arg-type]
        line_start=ls,  # type: ignore[arg-type]
        line_end=le,  # type: ignore[arg-type]
        script=script,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        table_header=th,  # type: ignore[arg-type]
        ocr=bool(row[17]) if len(row) > 17 else False,
    )


def write_store(folder: Path, documents: Iterable[Document], chunks: Iterable[StoredChunk]) -> int:
    """Write a fresh store; chunk rows are numbered 0.. in the order given (= vector rows)."""
    con = sqlite3.connect(folder / FILE)
    try:
        con.executescript(_SCHEMA)
        con.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                (
                    d.doc_id,
                    d.title,
                    d.file_name,
                    str(d.path),
                    d.kind,
                    d.text,
                    json.dumps([[p.number, p.label, p.char_start, p.char_end, int(p.ocr)] for p in d.pages]),
                    json.dumps(d.line_starts),
                    json.dumps(d.metadata, ensure_ascii=False),
                    d.script,
                )
                for d in documents
            ),
        )
        n = 0
        rows = []
        for n, sc in enumerate(chunks):
            c = sc.chunk
            rows.append(
                (
                    n,
                    c.chunk_id,
                    c.doc_id,
                    c.ordinal,
                    c.file_name,
                    c.title,
                    c.text,
                    c.char_start,
                    c.char_end,
                    json.dumps(list(c.section_path), ensure_ascii=False),
                    c.page_start,
                    c.page_end,
                    c.page_label,
                    c.line_start,
                    c.line_end,
                    c.script,
                    c.kind,
                    c.table_header,
                    json.dumps(sc.tokens, ensure_ascii=False),
                    int(c.ocr),
                )
            )
        con.executemany(f"INSERT INTO chunks VALUES (?,{','.join('?' * 19)})", rows)
        con.commit()
        return len(rows)
    finally:
        con.close()


class ChunkStore:
    """Read side of the store. Safe to share between threads (one connection behind a lock)."""

    def __init__(self, folder: Path) -> None:
        uri = f"file:{(folder / FILE).as_posix()}?mode=ro"
        self._con = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        # Stores written before OCR marks have no `ocr` column: their chunks read as not OCR'd.
        names = {r[1] for r in self._con.execute("PRAGMA table_info(chunks)").fetchall()}
        self._columns = _CHUNK_COLUMNS + (", ocr" if "ocr" in names else ", 0")

    def close(self) -> None:
        self._con.close()

    def all_chunks(self) -> list[Chunk]:
        with self._lock:
            rows = self._con.execute(f"SELECT {self._columns} FROM chunks ORDER BY row").fetchall()
        return [_chunk_from_row(r) for r in rows]

    def stored_chunks(self, doc_ids: Iterable[str]) -> list[StoredChunk]:
        """Chunks (with tokens) of the given documents, in row order; used to carry them forward."""
        rows = self._select(f"{self._columns}, tokens", doc_ids)
        return [StoredChunk(_chunk_from_row(r[:18]), json.loads(r[18])) for r in rows]

    def _select(self, columns: str, doc_ids: Iterable[str]) -> list[tuple[object, ...]]:
        ids = list(doc_ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with self._lock:
            return self._con.execute(
                f"SELECT {columns} FROM chunks WHERE doc_id IN ({marks}) ORDER BY row", ids
            ).fetchall()

    def rows_of(self, doc_ids: Iterable[str]) -> list[int]:
        """Vector rows of the given documents, in the order `stored_chunks` returns their chunks."""
        return [int(r[0]) for r in self._select("row", doc_ids)]

    def document(self, doc_id: str) -> Document | None:
        with self._lock:
            row = self._con.execute(
                "SELECT doc_id, title, file_name, path, kind, text, pages, line_starts, metadata, script "
                "FROM documents WHERE doc_id = ?",
                (doc_id,),
            ).fetchone()
        if row is None:
            return None
        return Document(
            doc_id=row[0],
            title=row[1],
            file_name=row[2],
            path=Path(row[3]),
            kind=row[4],
            text=row[5],
            pages=[
                Page(int(n), str(lab), int(s), int(e), bool(o and o[0]))
                for n, lab, s, e, *o in json.loads(row[6])
            ],
            line_starts=json.loads(row[7]),
            metadata=json.loads(row[8]),
            script=row[9],
        )
