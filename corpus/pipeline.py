"""Read and chunk a set of files and folders, collecting what was skipped and why."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from corpus.chunking import ChunkingConfig, chunk_document
from corpus.reading import ReadingConfig, iter_report_files, read_document
from corpus.types import Chunk, CorpusError, Document, Skipped

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileSummary:
    """What reading one file produced, for printing."""

    path: Path
    pages: int  # PDF pages; 0 for text files
    lines: int  # text files; 0 for PDFs
    chunks: int
    tables: int  # table chunks
    seconds: float

    def __str__(self) -> str:
        where = f"{self.pages} pages" if self.pages else f"{self.lines} lines"
        return f"{self.path.name}: {where}, {self.chunks} chunks ({self.tables} table), {self.seconds:.1f} s"


@dataclass
class CorpusReadResult:
    documents: list[Document] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: list[FileSummary] = field(default_factory=list)

    def skipped_by_reason(self) -> Counter[str]:
        """Skipped files counted by reason kind (the reason up to any parenthesis)."""

        def kind(reason: str) -> str:
            return "text twin of a PDF" if reason.startswith("same report as") else reason.split(" (")[0]

        return Counter(kind(s.reason) for s in self.skipped)

    def summary(self) -> str:
        """One line: documents, chunks, and what was skipped and why."""
        text = f"{len(self.documents)} documents, {len(self.chunks)} chunks"
        if self.skipped:
            reasons = ", ".join(f"{n} {reason}" for reason, n in self.skipped_by_reason().most_common())
            text += f"; {len(self.skipped)} skipped ({reasons})"
        return text


def read_corpus(
    paths: Iterable[Path | str],
    reading: ReadingConfig | None = None,
    chunking: ChunkingConfig | None = None,
    progress: bool = False,
) -> CorpusReadResult:
    """Read every report file under `paths`; bad files become Skipped records, never exceptions."""
    reading = reading or ReadingConfig()
    result = CorpusReadResult()
    files = iter_report_files([Path(p) for p in paths], reading, skipped=result.skipped)
    for path in tqdm(files, desc="reading", unit="file", disable=not progress):
        started = time.perf_counter()
        try:
            doc = read_document(path, reading)
        except CorpusError as exc:
            log.warning("skipped %s", exc)
            result.skipped.append(Skipped(path, exc.reason))
            continue
        chunks = chunk_document(doc, chunking)
        result.documents.append(doc)
        result.chunks.extend(chunks)
        result.files.append(
            FileSummary(
                path=path,
                pages=len(doc.pages),
                lines=len(doc.line_starts),
                chunks=len(chunks),
                tables=sum(1 for c in chunks if c.kind == "table"),
                seconds=time.perf_counter() - started,
            )
        )
    return result
