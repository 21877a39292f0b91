"""The one interface retrieval needs from a store, and the local FAISS + BM25 + SQLite backend.

A later backend (a distributed search engine for archives that outgrow one machine) implements
`SearchIndex` too; nothing above this module knows which one it talks to.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from corpus.types import Chunk, Document
from index.chunkstore import ChunkStore
from index.dense import DenseStore
from index.errors import IndexCorruptError
from index.lexical import LexicalStore
from index.manifest import Manifest
from index.storage import ReaderLock, current_generation, lock_for_reading
from index.types import Candidate, DocumentInfo, SearchFilter
from index.unit_vectors import UnitVectors

if TYPE_CHECKING:
    from index.builder import IndexOptions

log = logging.getLogger(__name__)

# A generation named by CURRENT can be deleted before it is locked only after two more writes; a few
# attempts are plenty.
_OPEN_ATTEMPTS = 5


class SearchIndex(Protocol):
    @property
    def manifest(self) -> Manifest: ...

    def candidates(
        self,
        vector: np.ndarray | None,
        tokens: Sequence[str] | None,
        depth: int,
        flt: SearchFilter | None = None,
    ) -> list[Candidate]:
        """Up to `depth` chunks from each store that is asked (vector and/or tokens)."""
        ...

    def documents(self) -> list[DocumentInfo]: ...

    def document(self, doc_id: str) -> Document | None: ...

    def chunk(self, chunk_id: str) -> Chunk | None: ...

    def all_chunks(self) -> list[Chunk]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class StoredUnits:
    """Stored answer-unit vectors of some chunks (index/unit_vectors.py)."""

    kind: str  # how they were made: "pooled" or "standalone"
    vectors: list[np.ndarray | None]  # float32 per chunk, split_units order; None where not stored


class HasUnitVectors(Protocol):
    """A backend that stores a vector per answer unit."""

    def unit_vectors(self, chunk_ids: Sequence[str]) -> StoredUnits | None: ...


def unit_vectors_of(index: object, chunk_ids: Sequence[str]) -> StoredUnits | None:
    """The stored unit vectors of the chunks, or None when the backend keeps none."""
    method = getattr(index, "unit_vectors", None)
    return method(chunk_ids) if method is not None else None  # type: ignore[no-any-return]


class LocalIndex:
    """A generation on local disk, loaded once and shared read-only between threads.

    From opening to `close()` it holds the generation's reader lock, so writers leave it on disk.
    """

    def __init__(self, folder: Path, reader: ReaderLock | None = None) -> None:
        self.folder = folder
        self._reader = reader if reader is not None else lock_for_reading(folder)
        if self._reader is None:
            raise IndexCorruptError(folder.parent, f"{folder.name} was deleted while it was being opened")
        try:
            self._load(folder)
        except BaseException:
            self._reader.release()
            raise

    def _load(self, folder: Path) -> None:
        self._manifest = Manifest.load(folder)
        try:
            self.dense = DenseStore.load(folder)
            self.lexical = LexicalStore.load(folder)
            self.store = ChunkStore(folder)
            self.chunks: list[Chunk] = self.store.all_chunks()
        except IndexCorruptError:
            raise
        except Exception as exc:  # any unreadable part means the generation is unusable
            raise IndexCorruptError(folder.parent, f"{type(exc).__name__}: {exc}") from None
        if len(self.chunks) != self.dense.vectors.shape[0]:
            raise IndexCorruptError(folder.parent, "chunk store and vectors disagree in length")
        try:
            self.units = UnitVectors.load(folder, len(self.chunks))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(folder.parent, f"unit vectors: {exc}") from None
        self._by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self._doc_rows: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            self._doc_rows.setdefault(c.doc_id, []).append(i)
        self._sections = ["\n".join(c.section_path) for c in self.chunks]

    @classmethod
    def open(cls, index_dir: Path) -> LocalIndex:
        """The live generation, locked for reading before anything is loaded."""
        for _ in range(_OPEN_ATTEMPTS):
            folder = current_generation(index_dir)
            reader = lock_for_reading(folder)
            if reader is not None:
                return cls(folder, reader)
            # A writer deleted it between reading CURRENT and locking: CURRENT names a newer one.
        raise IndexCorruptError(index_dir, "its generations kept being replaced while opening it; try again")

    @property
    def manifest(self) -> Manifest:
        return self._manifest

    def close(self) -> None:
        """Release the generation (safe to call twice); writers may delete it afterwards."""
        self.store.close()
        self._reader.release()

    # -- filtering -------------------------------------------------------------------------
    def allowed_rows(self, flt: SearchFilter | None) -> np.ndarray | None:
        if flt is None or flt.is_empty():
            return None
        rows: list[int] = []
        doc_ids = flt.doc_ids or tuple(self._doc_rows)
        needle = (flt.section_contains or "").strip().lower()
        for doc_id in doc_ids:
            for i in self._doc_rows.get(doc_id, []):
                c = self.chunks[i]
                if flt.page_min is not None and (c.page_end is None or c.page_end < flt.page_min):
                    continue
                if flt.page_max is not None and (c.page_start is None or c.page_start > flt.page_max):
                    continue
                if needle and needle not in self._sections[i].lower():
                    continue
                if flt.scripts and c.script not in flt.scripts:
                    continue
                rows.append(i)
        return np.array(sorted(rows), dtype=np.int64)

    # -- search ----------------------------------------------------------------------------
    def candidates(
        self,
        vector: np.ndarray | None,
        tokens: Sequence[str] | None,
        depth: int,
        flt: SearchFilter | None = None,
    ) -> list[Candidate]:
        allowed = self.allowed_rows(flt)
        dense_hits = self.dense.search(vector, depth, allowed) if vector is not None else []
        lexical_scores = self.lexical.scores(tokens) if tokens is not None else None
        lexical_hits: list[tuple[int, float]] = []
        if lexical_scores is not None:
            scores = lexical_scores
            if allowed is not None:
                scores = np.full_like(lexical_scores, -1.0)
                scores[allowed] = lexical_scores[allowed]
            k = min(depth, len(scores))
            if k > 0:
                top = np.argpartition(-scores, k - 1)[:k]
                top = top[np.argsort(-scores[top], kind="stable")]
                lexical_hits = [(int(i), float(scores[i])) for i in top if scores[i] > 0]

        dense_rank = {row: r for r, (row, _) in enumerate(dense_hits, 1)}
        lexical_rank = {row: r for r, (row, _) in enumerate(lexical_hits, 1)}
        rows = list(dict.fromkeys([r for r, _ in dense_hits] + [r for r, _ in lexical_hits]))
        if not rows:
            return []
        row_arr = np.array(rows, dtype=np.int64)
        # Both scores for every candidate, so that fusion compares like with like.
        dense_all = self.dense.scores_for(vector, row_arr) if vector is not None else None
        return [
            Candidate(
                chunk=self.chunks[row],
                dense=float(dense_all[j]) if dense_all is not None else None,
                lexical=float(lexical_scores[row]) if lexical_scores is not None else None,
                dense_rank=dense_rank.get(row),
                lexical_rank=lexical_rank.get(row),
            )
            for j, row in enumerate(rows)
        ]

    # -- documents -------------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return self._manifest.document_infos()

    def document(self, doc_id: str) -> Document | None:
        return self.store.document(doc_id)

    def chunk(self, chunk_id: str) -> Chunk | None:
        i = self._by_id.get(chunk_id)
        return None if i is None else self.chunks[i]

    def all_chunks(self) -> list[Chunk]:
        return list(self.chunks)

    def unit_vectors(self, chunk_ids: Sequence[str]) -> StoredUnits | None:
        if self.units is None:
            return None
        rows = [self._by_id.get(i) for i in chunk_ids]
        kind = str(self._manifest.settings.get("unit_vectors", "pooled"))
        return StoredUnits(
            kind, [None if r is None else np.asarray(self.units.of_row(r), dtype=np.float32) for r in rows]
        )


def open_index(index_dir: Path, options: IndexOptions) -> SearchIndex:
    """The live index of the configured backend ([index] backend = "local" or "milvus")."""
    if options.backend == "milvus":
        from index.milvus import MilvusIndex

        return MilvusIndex.open(options, index_dir)
    return LocalIndex.open(index_dir)
