"""👍/👎 and comments on answers, kept in a SQLite file beside the index for evaluators.

Each row holds what is needed to judge the answer later without the app: the question, the answer
text, its citations (report, page, quote) and the index generation that produced it, since a later
ingest may change what the same question gets.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

FILE_NAME = "feedback.sqlite3"
Rating = Literal["up", "down"]
MAX_COMMENT = 2000  # characters kept of a comment; the rest is cut

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    generation TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT ''
)
"""


@dataclass(frozen=True)
class CitedSource:
    """One citation of an answer as exported: number, report, place and the verbatim quote."""

    number: int
    title: str
    file_name: str
    address: str
    quote: str


@dataclass(frozen=True)
class AnswerRecord:
    """An answer as the conversation keeps it for copying, exporting and feedback."""

    question: str
    text: str
    citations: tuple[CitedSource, ...]
    abstained: bool = False
    generation: str = ""


@dataclass(frozen=True)
class Feedback:
    id: int
    created_at: str
    rating: Rating
    comment: str
    question: str
    answer: str
    citations: tuple[CitedSource, ...]
    generation: str
    language: str


class FeedbackStore:
    """The feedback table of one index folder; safe to call from the app's request threads."""

    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / FILE_NAME
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10)
        db.execute(_SCHEMA)
        return db

    def add(self, record: AnswerRecord, rating: str, comment: str = "", language: str = "") -> int:
        """Store one judgement; raises ValueError for a rating other than up / down."""
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        cited = json.dumps([asdict(c) for c in record.citations], ensure_ascii=False)
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            rating,
            " ".join(str(comment or "").split())[:MAX_COMMENT],
            record.question,
            record.text,
            cited,
            record.generation,
            language,
        )
        with self._lock, self._connect() as db:
            cursor = db.execute(
                "INSERT INTO feedback (created_at, rating, comment, question, answer, citations, generation,"
                " language) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cursor.lastrowid or 0)

    def all(self) -> list[Feedback]:
        if not self.path.is_file():
            return []
        with self._lock, self._connect() as db:
            rows = db.execute(
                "SELECT id, created_at, rating, comment, question, answer, citations, generation, language"
                " FROM feedback ORDER BY id"
            ).fetchall()
        return [
            Feedback(
                id=r[0],
                created_at=r[1],
                rating=r[2],
                comment=r[3],
                question=r[4],
                answer=r[5],
                citations=tuple(CitedSource(**c) for c in json.loads(r[6])),
                generation=r[7],
                language=r[8],
            )
            for r in rows
        ]


def feedback_json(items: Sequence[Feedback]) -> str:
    """JSON lines, one judgement per line (the form evaluation scripts read)."""
    return "".join(json.dumps(asdict(item), ensure_ascii=False) + "\n" for item in items)


def feedback_csv(items: Sequence[Feedback]) -> str:
    """A spreadsheet view: one row per judgement, citations joined into one cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        ["id", "created_at", "rating", "comment", "question", "answer", "citations", "generation"]
    )
    for f in items:
        cited = "; ".join(f"[{c.number}] {c.title}, {c.address}: {c.quote}" for c in f.citations)
        cells = [f.id, f.created_at, f.rating, f.comment, f.question, f.answer, cited, f.generation]
        # A cell starting with = + - @ would run as a formula in a spreadsheet.
        writer.writerow([("'" + c) if isinstance(c, str) and c[:1] in "=+-@\t\r" and c else c for c in cells])
    return buffer.getvalue()
