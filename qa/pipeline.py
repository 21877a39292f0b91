"""The one code path from a question to ranked passages or a cited answer.

`qa search`, `qa ask`, the Gradio app and `qa eval` all go through `Pipeline`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from corpus.types import Chunk, Document
from index.backend import LocalIndex, SearchIndex
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
from index.types import DocumentInfo, Hit, SearchFilter
from qa.answer import answer_question
from qa.config import Config
from qa.errors import IndexUnavailable, QAError
from qa.followup import contextualize
from qa.query import clean_question
from qa.retrieval import Mode, Retriever, highlight
from qa.types import Answer

log = logging.getLogger(__name__)


def _embedder(config: Config) -> Embedder:
    try:
        return load_embedder(config.embedding)
    except EmbeddingError as exc:
        raise QAError(str(exc)) from None


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


class Pipeline:
    """An open index plus the embedder that built it; shared read-only by concurrent callers."""

    def __init__(self, config: Config, index: SearchIndex, embedder: Embedder) -> None:
        self.config = config
        self.index = index
        self.embedder = embedder
        self.retriever = Retriever(index, embedder, config.retrieval, config.index.analysis)

    @classmethod
    def open(cls, config: Config | None = None) -> Pipeline:
        config = config or Config.load()
        try:
            index = LocalIndex.open(config.index_dir)
        except IndexError_ as exc:
            raise IndexUnavailable(str(exc)) from None
        embedder = _embedder(config)
        try:
            check_model_compatible(index.manifest.model, embedder.identity)
        except ModelMismatchError as exc:
            index.close()
            raise IndexUnavailable(str(exc)) from None
        return cls(config, index, embedder)

    def close(self) -> None:
        self.index.close()

    def search(
        self,
        query: str,
        *,
        k: int | None = None,
        filter: SearchFilter | None = None,
        mode: Mode = "hybrid",
    ) -> list[Hit]:
        return self.retriever.search(clean_question(query), k=k, flt=filter, mode=mode)

    def ask(
        self,
        question: str,
        *,
        filter: SearchFilter | None = None,
        history: Sequence[str] = (),
        mode: Mode = "hybrid",
    ) -> Answer:
        started = time.perf_counter()
        asked = clean_question(question)
        query = contextualize(asked, [h for h in history if h and h.strip()])
        hits = self.retriever.search(
            query, k=max(self.config.answer.passages, self.config.retrieval.k), flt=filter, mode=mode
        )
        answer = answer_question(query, hits, embedder=self.embedder, config=self.config.answer)
        answer.question = asked
        answer.latency_ms = (time.perf_counter() - started) * 1000.0
        return answer

    # -- documents ----------------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return self.index.documents()

    def document_text(self, doc_id: str) -> str:
        doc = self.index.document(doc_id)
        return doc.text if doc is not None else ""

    def page_text(self, doc_id: str, page: int) -> str:
        doc = self.index.document(doc_id)
        if doc is None:
            return ""
        for p in doc.pages:
            if p.number == page:
                return doc.text[p.char_start : p.char_end]
        return ""

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self.index.chunk(chunk_id)

    def chunks(self) -> list[Chunk]:
        """Every passage in the index, in index order."""
        return self.index.all_chunks()

    @staticmethod
    def highlight(text: str, terms: Sequence[str]) -> list[tuple[str, bool]]:
        return highlight(text, terms)
