"""Incremental ingest: read what changed, embed only that, and publish a new generation atomically."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm import tqdm

from corpus import ChunkingConfig, ReadingConfig, chunk_document, iter_report_files, read_document
from corpus.bilingual import build_glossary
from corpus.types import Chunk, CorpusError, Document, Skipped
from index.analysis import AnalysisOptions, lexical_tokens, match_form
from index.backend import LocalIndex
from index.chunkstore import StoredChunk, write_store
from index.dense import DenseStore
from index.embedding import Embedder, check_model_compatible
from index.errors import IndexWriteError
from index.lexical import LexicalStore
from index.manifest import DocumentEntry, Manifest
from index.storage import LOCK, current_generation, has_index, new_generation, write_lock
from index.unit_vectors import UnitVectors, concat, embed_chunks, from_parts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexOptions:
    """How the stores are built; `dense_kind` flat is exact, hnsw/ivf scale to large archives."""

    dense_kind: str = "flat"
    # BM25 k1/b and the fusion weight were chosen together on DRCD dev (bench/fusion_sweep.py).
    bm25_k1: float = 0.9
    bm25_b: float = 0.4
    script_normalization: bool = True
    char_unigrams: bool = True
    lock_timeout_s: float = 0.0
    backend: str = "local"  # "local" (a folder) or "milvus" (a Milvus server or cluster)
    uri: str = ""  # milvus: e.g. "http://127.0.0.1:19530"; the token comes from $QA_MILVUS_TOKEN
    collection: str = ""  # milvus: collection name; empty = derived from the index folder
    # A vector per answer unit, stored with the index (index/unit_vectors.py): "pooled" from the
    # chunk's forward pass, "standalone" encoded one by one, or "none" (encoded per question).
    unit_vectors: str = "pooled"

    @property
    def analysis(self) -> AnalysisOptions:
        return AnalysisOptions(
            script_normalization=self.script_normalization, char_unigrams=self.char_unigrams
        )


@dataclass
class IngestReport:
    index_dir: Path
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)  # file name -> "170 pages, 696 chunks (26 tables)"
    chunks_total: int = 0
    new_chunks: int = 0
    wrote: bool = False
    seconds: float = 0.0

    def __str__(self) -> str:
        lines = [
            f"index: {self.index_dir}",
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.skipped)}; "
            f"{self.new_chunks} chunks embedded, {self.chunks_total} in the index; {self.seconds:.1f} s",
        ]
        lines += [f"  + {n}: {self.details.get(n, '')}".rstrip(": ") for n in self.added]
        lines += [f"  ~ {n}: {self.details.get(n, '')}".rstrip(": ") for n in self.updated]
        lines += [f"  - {n}" for n in self.removed]
        lines += [f"  ! {s}" for s in self.skipped]
        if not self.wrote:
            lines.append("nothing changed; the index was left as it was")
        return "\n".join(lines)


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _settings(chunking: ChunkingConfig, options: IndexOptions) -> dict[str, object]:
    from dataclasses import asdict

    from corpus.reading import READING_VERSION

    return {
        "reading": READING_VERSION,
        "chunking": asdict(chunking),
        "bm25": [options.bm25_k1, options.bm25_b],
        "unit_vectors": options.unit_vectors,
        **options.analysis.as_settings(),
    }


def _entry(doc: Document, chunks: int, path: Path | None, content_hash: str) -> DocumentEntry:
    stat = path.stat() if path is not None else None
    return DocumentEntry(
        doc_id=doc.doc_id,
        path=str(path.resolve()) if path is not None else "",
        file_name=doc.file_name,
        title=doc.title,
        kind=doc.kind,
        content_hash=content_hash,
        size=stat.st_size if stat else len(doc.text.encode("utf-8")),
        mtime_ns=stat.st_mtime_ns if stat else 0,
        chunks=chunks,
        pages=len(doc.pages),
        lines=len(doc.line_starts),
        indexed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        metadata=dict(doc.metadata),
    )


# What a full disk, a quota or a read-only folder surfaces as while the stores are written: OSError
# from Python and numpy, sqlite3.Error from SQLite, RuntimeError from FAISS's index writer.
_WRITE_ERRORS: tuple[type[BaseException], ...] = (OSError, sqlite3.Error, RuntimeError)


def _write_failure(exc: BaseException, index_dir: Path) -> str:
    """The reason a write failed, in the system's words (FAISS and SQLite wrap them in their own)."""
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)
    text = str(exc)
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES):
        if os.strerror(code) in text:
            return os.strerror(code)
    if "disk is full" in text:  # SQLITE_FULL
        return os.strerror(errno.ENOSPC)
    if "readonly" in text:  # SQLITE_READONLY
        return os.strerror(errno.EROFS)
    # numpy reports a short write as "N requested and M written", without an errno; with the
    # staging folder still in place, next to no free space says why.
    with contextlib.suppress(OSError):
        if shutil.disk_usage(index_dir).free < 1 << 20:
            return os.strerror(errno.ENOSPC)
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def _write_failures(
    index_dir: Path, kinds: tuple[type[BaseException], ...] = _WRITE_ERRORS
) -> Iterator[None]:
    """Turn a failed write into one sentence for the user; the details go to the log (-v)."""
    try:
        yield
    except kinds as exc:
        log.info("writing the index at %s failed", index_dir, exc_info=True)
        raise IndexWriteError(index_dir, _write_failure(exc, index_dir)) from exc


def _check_writable(index_dir: Path) -> None:
    """Fail before reading or embedding anything when the index folder cannot be written."""
    with _write_failures(index_dir, (OSError,)):
        index_dir.mkdir(parents=True, exist_ok=True)
        with open(index_dir / LOCK, "a"):  # the writer lock's own file: the first thing a writer creates
            pass


def _previous(index_dir: Path, rebuild: bool) -> Manifest | None:
    if rebuild or not has_index(index_dir):
        return None
    return Manifest.load(current_generation(index_dir))


class IndexWriter(Protocol):
    """Where an ingest writes: the local folder of generations, or a search engine (index.milvus)."""

    def check(self) -> None:
        """Fail before reading or embedding anything when the index cannot be written."""
        ...

    def lock(self, timeout: float) -> AbstractContextManager[None]: ...

    def previous(self, rebuild: bool) -> Manifest | None: ...

    def write(
        self,
        embedder: Embedder,
        documents: Sequence[tuple[Document, list[Chunk]]],
        entries: list[DocumentEntry],
        carried: list[DocumentEntry],
        settings: dict[str, object],
        progress: bool,
    ) -> None:
        """Publish carried + new documents atomically; on failure the previous state stays live."""
        ...

    def close(self) -> None: ...


class LocalWriter:
    """A new generation folder next to the previous ones (index.storage)."""

    def __init__(self, index_dir: Path, options: IndexOptions) -> None:
        self.index_dir = index_dir
        self.options = options

    def check(self) -> None:
        _check_writable(self.index_dir)

    def lock(self, timeout: float) -> AbstractContextManager[None]:
        return write_lock(self.index_dir, timeout)

    def previous(self, rebuild: bool) -> Manifest | None:
        return _previous(self.index_dir, rebuild)

    def write(
        self,
        embedder: Embedder,
        documents: Sequence[tuple[Document, list[Chunk]]],
        entries: list[DocumentEntry],
        carried: list[DocumentEntry],
        settings: dict[str, object],
        progress: bool,
    ) -> None:
        index_dir = self.index_dir
        old = LocalIndex(current_generation(index_dir)) if has_index(index_dir) and carried else None
        try:
            # OSError here: creating, syncing or publishing the generation (the stores are covered in _write).
            with _write_failures(index_dir, (OSError,)):
                _write(
                    index_dir, embedder, documents, entries, old, carried, settings, self.options, progress
                )
        finally:
            if old is not None:
                old.close()

    def close(self) -> None:
        pass


def writer_for(index_dir: Path, options: IndexOptions) -> IndexWriter:
    """The writer of the configured backend."""
    if options.backend == "milvus":
        from index.milvus import MilvusWriter

        return MilvusWriter(index_dir, options)
    return LocalWriter(index_dir, options)


EmbedderSource = Embedder | Callable[[], Embedder]


def _resolve(source: EmbedderSource) -> Embedder:
    return source() if callable(source) else source


def ingest(
    paths: Sequence[Path],
    index_dir: Path,
    embedder: EmbedderSource,
    *,
    reading: ReadingConfig | None = None,
    chunking: ChunkingConfig | None = None,
    options: IndexOptions | None = None,
    prune: bool = False,
    rebuild: bool = False,
    progress: bool = True,
) -> IngestReport:
    """Bring the index at `index_dir` up to date with the reports under `paths`.

    `embedder` may be a zero-argument factory: when nothing changed, the model is never loaded,
    which keeps a no-change run to the cost of hashing the files.
    """
    started = time.perf_counter()
    reading = reading or ReadingConfig()
    chunking = chunking or ChunkingConfig()
    options = options or IndexOptions()
    report = IngestReport(index_dir=index_dir)
    settings = _settings(chunking, options)

    writer = writer_for(index_dir, options)
    try:
        return _ingest(
            paths,
            writer,
            embedder,
            reading,
            chunking,
            options,
            report,
            settings,
            prune,
            rebuild,
            progress,
            started,
        )
    finally:
        writer.close()


def _ingest(
    paths: Sequence[Path],
    writer: IndexWriter,
    embedder: EmbedderSource,
    reading: ReadingConfig,
    chunking: ChunkingConfig,
    options: IndexOptions,
    report: IngestReport,
    settings: dict[str, object],
    prune: bool,
    rebuild: bool,
    progress: bool,
    started: float,
) -> IngestReport:
    writer.check()
    with writer.lock(options.lock_timeout_s):
        previous = writer.previous(rebuild)
        if previous is not None and (
            previous.settings != settings or previous.dense_kind != options.dense_kind
        ):
            log.info("chunking or index settings changed: every document is read again")
            previous = None

        files = list(iter_report_files([Path(p) for p in paths], reading, skipped=report.skipped))
        old_by_path = previous.by_path() if previous else {}
        old_by_hash = {d.content_hash: d for d in previous.documents} if previous else {}
        moved = False

        carried: list[DocumentEntry] = []
        fresh: list[tuple[Document, list[Chunk], Path, str]] = []
        seen_hashes: set[str] = set()
        reading_started = time.perf_counter()
        bar = tqdm(files, desc="reading", unit="file", disable=not progress or not files)
        for path in bar:
            bar.set_postfix_str(path.name[:40], refresh=True)
            key = str(path.resolve())
            try:
                digest = file_hash(path)
            except OSError as exc:
                report.skipped.append(Skipped(path, f"cannot read: {exc.strerror or exc}"))
                continue
            if digest in seen_hashes:
                report.skipped.append(Skipped(path, "same content as another file in this run"))
                continue
            seen_hashes.add(digest)
            old = old_by_hash.get(digest)
            if old is not None:
                moved = moved or old.path != key
                carried.append(old if old.path == key else _moved(old, path))
                report.unchanged.append(path.name)
                continue
            try:
                doc = read_document(path, reading)
                chunks = chunk_document(doc, chunking)
            except CorpusError as exc:
                report.skipped.append(Skipped(path, exc.reason))
                continue
            if not chunks:
                report.skipped.append(Skipped(path, "no text to index"))
                continue
            fresh.append((doc, chunks, path, digest))
            size = f"{len(doc.pages)} pages" if doc.pages else f"{len(doc.line_starts)} lines"
            tables = sum(c.kind == "table" for c in chunks)
            report.details[path.name] = "; ".join(
                [f"{size}, {len(chunks)} chunks ({tables} tables)", *doc.notes]
            )
            (report.updated if key in old_by_path else report.added).append(path.name)

        bar.close()
        log.info(
            "reading: %d of %d files read in %.1f s",
            len(fresh),
            len(files),
            time.perf_counter() - reading_started,
        )

        # Documents from earlier runs stay unless their file is gone and --prune was given; a file
        # that fails to read this time keeps its earlier, good version.
        kept_hashes = {d.content_hash for d in carried}
        replaced = {str(p.resolve()) for _, _, p, _ in fresh}
        for old in previous.documents if previous else []:
            if old.content_hash in kept_hashes or old.path in replaced:
                continue
            if prune and old.path and not Path(old.path).exists():
                report.removed.append(old.file_name)
            else:
                carried.append(old)

        if previous is None and not fresh:
            report.seconds = time.perf_counter() - started
            return report
        if previous is not None and not fresh and not report.removed and not moved:
            report.unchanged = report.unchanged or [d.file_name for d in carried]
            report.chunks_total = previous.chunk_count
            report.seconds = time.perf_counter() - started
            return report

        model = _resolve(embedder)
        if previous is not None:
            check_model_compatible(previous.model, model.identity)
        documents = [(doc, chunks) for doc, chunks, _, _ in fresh]
        entries = [_entry(doc, len(chunks), path, digest) for doc, chunks, path, digest in fresh]
        writer.write(model, documents, entries, carried if previous is not None else [], settings, progress)
        report.new_chunks = sum(len(c) for _, c in documents)
        report.chunks_total = report.new_chunks + sum(d.chunks for d in carried)
        report.wrote = True
    report.seconds = time.perf_counter() - started
    return report


def _moved(old: DocumentEntry, path: Path) -> DocumentEntry:
    from dataclasses import replace

    stat = path.stat()
    return replace(old, path=str(path.resolve()), file_name=path.name, mtime_ns=stat.st_mtime_ns)


def build_from_chunks(
    index_dir: Path,
    documents: Sequence[tuple[Document, list[Chunk]]],
    embedder: Embedder,
    *,
    options: IndexOptions | None = None,
    chunking: ChunkingConfig | None = None,
    progress: bool = True,
) -> None:
    """Write a fresh index from documents built in code (e.g. a benchmark's paragraphs)."""
    options = options or IndexOptions()
    settings = _settings(chunking or ChunkingConfig(), options)
    entries = [
        _entry(doc, len(chunks), None, hashlib.sha256(doc.text.encode("utf-8")).hexdigest())
        for doc, chunks in documents
    ]
    writer = writer_for(index_dir, options)
    try:
        writer.check()
        with writer.lock(options.lock_timeout_s):
            writer.write(embedder, list(documents), entries, [], settings, progress)
    finally:
        writer.close()


def _write(
    index_dir: Path,
    embedder: Embedder,
    documents: Sequence[tuple[Document, list[Chunk]]],
    entries: list[DocumentEntry],
    previous: LocalIndex | None,
    carried: list[DocumentEntry],
    settings: dict[str, object],
    options: IndexOptions,
    progress: bool,
) -> None:
    # Everything happens inside the staging folder's lifetime, so a run killed while embedding
    # leaves a staging folder behind (cleaned by the next writer) and CURRENT untouched.
    with new_generation(index_dir) as staging:
        analysis = options.analysis
        new_chunks = [c for _, chunks in documents for c in chunks]
        texts = [match_form(c.index_text, analysis) for c in new_chunks]
        new_tokens = [lexical_tokens(c.index_text, analysis) for c in new_chunks]
        dim = embedder.identity.dim
        embedding_started = time.perf_counter()
        new_vectors, new_units = embed_chunks(
            embedder, new_chunks, texts, options.unit_vectors, analysis, progress
        )
        log.info("embedding: %d chunks in %.1f s", len(texts), time.perf_counter() - embedding_started)
        writing_started = time.perf_counter()

        carried_ids = [d.doc_id for d in carried]
        old_chunks: list[StoredChunk] = []
        old_docs: list[Document] = []
        old_vectors = np.zeros((0, dim), dtype=np.float32)
        old_units: UnitVectors | None = from_parts([], dim)
        if previous is not None and carried_ids:
            old_chunks = previous.store.stored_chunks(carried_ids)
            rows = np.array(previous.store.rows_of(carried_ids), dtype=np.int64)
            old_vectors = np.asarray(previous.dense.vectors[rows], dtype=np.float32)
            old_units = previous.units.rows(rows.tolist()) if previous.units is not None else None
            old_docs = [d for d in (previous.store.document(i) for i in carried_ids) if d is not None]

        all_chunks = old_chunks + [StoredChunk(c, t) for c, t in zip(new_chunks, new_tokens, strict=True)]
        vectors = np.vstack([old_vectors, new_vectors]).astype(np.float32)
        # A carried chunk without unit vectors (cannot happen while unit settings are part of the
        # manifest settings) leaves the whole index without them: the answer step then encodes.
        units = concat(old_units, new_units) if old_units is not None and new_units is not None else None
        manifest = Manifest(
            model=embedder.identity,
            settings=settings,
            dense_kind=options.dense_kind,
            documents=carried + entries,
            chunk_count=len(all_chunks),
            # Mined from every chunk, kept and new, so the glossary always matches the index.
            glossary=build_glossary(sc.chunk.text for sc in all_chunks),
        )
        dense = DenseStore.build(vectors, options.dense_kind)
        lexical = LexicalStore.build([sc.tokens for sc in all_chunks], options.bm25_k1, options.bm25_b)
        with _write_failures(index_dir):
            write_store(staging, old_docs + [d for d, _ in documents], all_chunks)
            dense.save(staging)
            lexical.save(staging)
            if units is not None:
                units.save(staging)
            manifest.save(staging)
        log.info("writing: chunk store, FAISS and BM25 in %.1f s", time.perf_counter() - writing_started)
