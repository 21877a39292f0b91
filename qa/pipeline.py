"""The one code path from a question to ranked passages or a cited answer.

`qa search`, `qa ask`, the Gradio app and `qa eval` all go through `Pipeline`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from corpus.types import Chunk, Document
from index.backend import LocalIndex, SearchIndex, StoredUnits, open_index, unit_vectors_of
from index.builder import IngestReport, build_from_chunks
from index.builder import ingest as ingest_files
from index.embedding import (
    Embedder,
    EmbeddingError,
    ModelMismatchError,
    check_model_compatible,
    load_embedder,
)
from index.errors import IndexError_
from index.storage import POINTER
from index.types import DocumentInfo, Hit, SearchFilter
from qa.answer import ScoredCandidates, answer_question, candidate_records
from qa.config import Config
from qa.errors import IndexUnavailable, QAError
from qa.followup import contextualize, recent_questions
from qa.query import clean_question
from qa.retrieval import Mode, Retriever, highlight
from qa.types import Answer

log = logging.getLogger(__name__)


def _embedder(config: Config) -> Embedder:
    try:
        return load_embedder(config.embedding)
    except EmbeddingError as exc:
        raise QAError(str(exc)) from None


def _open_index(config: Config, embedder: Embedder) -> SearchIndex:
    """The live index of the configured backend, checked against the embedder."""
    try:
        index = open_index(config.index_dir, config.index)
    except IndexError_ as exc:
        raise IndexUnavailable(str(exc)) from None
    try:
        check_model_compatible(index.manifest.model, embedder.identity)
    except ModelMismatchError as exc:
        index.close()
        raise IndexUnavailable(str(exc)) from None
    return index


def ingest(
    paths: Sequence[Path],
    config: Config,
    *,
    prune: bool = False,
    rebuild: bool = False,
    progress: bool = True,
) -> IngestReport:
    """Add, update and (with prune) remove reports in the index at config.index_dir."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise QAError(f"No such file or folder: {', '.join(missing)}")
    try:
        return ingest_files(
            [Path(p) for p in paths],
            config.index_dir,
            lambda: _embedder(config),
            reading=config.reading,
            chunking=config.chunking,
            options=config.index,
            prune=prune,
            rebuild=rebuild,
            progress=progress,
        )
    except (IndexError_, ModelMismatchError) as exc:
        raise IndexUnavailable(str(exc)) from None


def build_index_from_chunks(documents: list[Document], chunks: list[Chunk], config: Config) -> None:
    """Write a fresh index from documents and chunks made in code (benchmarks such as DRCD)."""
    by_doc: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    build_from_chunks(
        config.index_dir,
        [(d, by_doc.get(d.doc_id, [])) for d in documents],
        _embedder(config),
        options=config.index,
        chunking=config.chunking,
    )


_T = TypeVar("_T")


@dataclass
class _Loaded:
    """One opened generation and its retriever, with the number of requests using it right now."""

    index: SearchIndex
    retriever: Retriever
    generation: str | None  # a LocalIndex folder or a Milvus generation; None = never reloaded
    users: int = 0
    retired: bool = False  # replaced by a newer generation: close when the last user is done


class Pipeline:
    """An open index plus the embedder that built it; shared read-only by concurrent callers.

    A long-lived pipeline (the web app) follows the index: before a request it looks at CURRENT (at
    most every `reload_interval_s` seconds) and, when a writer has published a new generation, swaps
    it in. A request keeps the generation it started with; the old one is closed after its last
    request, which lets the next ingest delete it.
    """

    def __init__(
        self, config: Config, index: SearchIndex, embedder: Embedder, *, reload_interval_s: float = 1.0
    ) -> None:
        self.config = config
        self.embedder = embedder
        self.reload_interval_s = reload_interval_s
        self._lock = threading.Lock()  # guards _loaded and the user counts
        self._reloading = threading.Lock()  # one reload at a time; other requests use what is loaded
        self._checked_at = -math.inf
        self._refused: str | None = None  # a generation that failed to open; retried when CURRENT moves
        self._closed = False
        self._loaded = self._wrap(index)

    @classmethod
    def open(cls, config: Config | None = None, *, reload_interval_s: float = 1.0) -> Pipeline:
        config = config or Config.load()
        embedder = _embedder(config)
        index = _open_index(config, embedder)
        return cls(config, index, embedder, reload_interval_s=reload_interval_s)

    def _wrap(self, index: SearchIndex) -> _Loaded:
        retriever = Retriever(index, self.embedder, self.config.retrieval, self.config.index.analysis)
        # A local generation folder, or the committed generation a search engine's index reports.
        if isinstance(index, LocalIndex):
            generation: str | None = index.folder.name
        else:
            generation = getattr(index, "generation", None)
        return _Loaded(index, retriever, generation)

    # -- following the index ------------------------------------------------------------------
    @property
    def index(self) -> SearchIndex:
        """The generation new requests use."""
        return self._loaded.index

    @property
    def retriever(self) -> Retriever:
        return self._loaded.retriever

    @property
    def generation(self) -> str | None:
        """Name of the loaded generation (None for a backend without generations)."""
        return self._loaded.generation

    def refresh(self, *, wait: bool = True) -> bool:
        """Swap in the live generation if a writer published a new one; True when it did.

        With wait=False a request does not queue behind a reload another request is doing; it goes
        on with the generation that is loaded.
        """
        live = self._live_generation()
        if live is None or live in (self._loaded.generation, self._refused) or self._closed:
            return False
        if not self._reloading.acquire(blocking=wait):
            return False
        try:
            if live == self._loaded.generation or self._closed:
                return False  # another request reloaded it meanwhile
            try:
                fresh = self._wrap(_open_index(self.config, self.embedder))
            except QAError as exc:
                log.warning("keeping the loaded index: the new one cannot be used: %s", exc)
                self._refused = live
                return False
            with self._lock:
                old, self._loaded = self._loaded, fresh
                old.retired = True
                idle = old.users == 0
            log.info("switched from %s to %s", old.generation, fresh.generation)
            if idle:
                old.index.close()
            return True
        finally:
            self._reloading.release()

    def _live_generation(self) -> str | None:
        if self._loaded.generation is None:
            return None  # a backend without generations: nothing to follow
        live = getattr(self._loaded.index, "live_generation", None)
        if live is not None:
            return live()  # type: ignore[no-any-return]
        try:
            return (self.config.index_dir / POINTER).read_text(encoding="utf-8").strip()
        except OSError:
            return None  # the pointer is being replaced or the folder is gone: keep what is loaded

    def _maybe_refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked_at >= self.reload_interval_s:
            self._checked_at = now
            self.refresh(wait=False)

    @contextlib.contextmanager
    def _use(self) -> Iterator[_Loaded]:
        """The loaded generation, kept open until the request is done with it."""
        self._maybe_refresh()
        with self._lock:
            loaded = self._loaded
            loaded.users += 1
        try:
            yield loaded
        finally:
            with self._lock:
                loaded.users -= 1
                done = loaded.retired and loaded.users == 0
            if done:
                loaded.index.close()

    def close(self) -> None:
        with self._reloading, self._lock:
            self._closed = True
            loaded = self._loaded
        loaded.index.close()

    def search(
        self,
        query: str,
        *,
        k: int | None = None,
        filter: SearchFilter | None = None,
        mode: Mode = "hybrid",
    ) -> list[Hit]:
        cleaned = clean_question(query)
        with self._use() as loaded:
            return loaded.retriever.search(cleaned, k=k, flt=filter, mode=mode)

    def ask(
        self,
        question: str,
        *,
        filter: SearchFilter | None = None,
        history: Sequence[str] | None = (),
        mode: Mode = "hybrid",
    ) -> Answer:
        """A cited answer; `history` holds the earlier questions of the conversation, oldest first."""
        started = time.perf_counter()
        asked = clean_question(question)
        query = contextualize(asked, recent_questions(history))
        with self._use() as loaded:
            # Inside the generation's use: the answer reads its stored sentence vectors and table slices.
            answer = self._read(answer_question, loaded, query, filter, mode)
        answer.question = asked
        answer.latency_ms = (time.perf_counter() - started) * 1000.0
        return answer

    def candidate_records(self, question: str, *, mode: Mode = "hybrid") -> ScoredCandidates:
        """The candidates `ask` would score for `question`, with their feature records (what the
        confidence trainer learns from, read exactly as an answer reads them)."""
        with self._use() as loaded:
            return self._read(candidate_records, loaded, question, None, mode)

    def _read(
        self, reader: Callable[..., _T], loaded: _Loaded, query: str, flt: SearchFilter | None, mode: Mode
    ) -> _T:
        """`reader` (answer_question or candidate_records) over the question's hits and tables."""
        k = max(self.config.answer.passages, self.config.retrieval.k)
        return reader(
            query,
            loaded.retriever.search(query, k=k, flt=flt, mode=mode),
            embedder=self.embedder,
            config=self.config.answer,
            index=loaded.index,
            fetch=loaded.index.chunk,
            table_names=loaded.retriever.table_names_for(query),
            table_rows=loaded.retriever.named_table_rows(query),
        )

    # -- documents ----------------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        with self._use() as loaded:
            return loaded.index.documents()

    def document_text(self, doc_id: str) -> str:
        with self._use() as loaded:
            doc = loaded.index.document(doc_id)
        return doc.text if doc is not None else ""

    def page_text(self, doc_id: str, page: int) -> str:
        with self._use() as loaded:
            doc = loaded.index.document(doc_id)
        if doc is None:
            return ""
        for p in doc.pages:
            if p.number == page:
                return doc.text[p.char_start : p.char_end]
        return ""

    def chunk(self, chunk_id: str) -> Chunk | None:
        with self._use() as loaded:
            return loaded.index.chunk(chunk_id)

    def unit_vectors(self, chunk_ids: Sequence[str]) -> StoredUnits | None:
        """Stored answer-unit vectors of the loaded index (None where it keeps none)."""
        with self._use() as loaded:
            return unit_vectors_of(loaded.index, chunk_ids)

    def chunks(self) -> list[Chunk]:
        """Every passage in the index, in index order."""
        with self._use() as loaded:
            return loaded.index.all_chunks()

    @staticmethod
    def highlight(text: str, terms: Sequence[str]) -> list[tuple[str, bool]]:
        return highlight(text, terms)
