"""A vector for every answer unit (sentence or table row) of every chunk, stored with the index.

Choosing the answering sentence compares the question with each candidate unit. With the unit
vectors made at build time, a question costs one encoder call (the question itself) instead of
encoding two dozen sentences while the user waits.

Two ways to make them (`IndexOptions.unit_vectors`):
- "pooled": from the chunk's own forward pass, the mean of the token states of the unit's
  characters (the ONNX encoder); units the token limit cut off are encoded on their own;
- "standalone": every unit encoded on its own, exactly as the answer step would encode it.
Vectors are stored as float16, in chunk-row order: the units of row r are
`vectors[offsets[r]:offsets[r + 1]]`, in `corpus.units.split_units` order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.types import Chunk
from corpus.units import Sentence, split_units, unit_text
from index.analysis import AnalysisOptions, match_form

log = logging.getLogger(__name__)

OFFSETS = "unit_offsets.npy"
VECTORS = "unit_vectors.npy"
MODES = ("pooled", "standalone", "none")


@dataclass(frozen=True)
class UnitVectors:
    """Unit vectors of consecutive chunk rows."""

    offsets: np.ndarray  # int64 [chunks + 1]
    vectors: np.ndarray  # float16 [units, dim]

    @property
    def chunks(self) -> int:
        return len(self.offsets) - 1

    def of_row(self, row: int) -> np.ndarray:
        return self.vectors[self.offsets[row] : self.offsets[row + 1]]

    def rows(self, rows: Sequence[int]) -> UnitVectors:
        """The vectors of the given chunk rows, renumbered from 0 (to carry them into a new index)."""
        return from_parts([np.asarray(self.of_row(r)) for r in rows], int(self.vectors.shape[1]))

    def save(self, folder: Path) -> None:
        np.save(folder / OFFSETS, self.offsets)
        np.save(folder / VECTORS, self.vectors)

    @classmethod
    def load(cls, folder: Path, chunks: int) -> UnitVectors | None:
        """The stored vectors, or None for an index built without them."""
        if not (folder / OFFSETS).is_file():
            return None
        offsets = np.load(folder / OFFSETS)
        vectors = np.load(folder / VECTORS, mmap_mode="r")
        if offsets.shape != (chunks + 1,) or int(offsets[-1]) != vectors.shape[0]:
            raise ValueError(f"unit vectors hold {len(offsets) - 1} chunks and {vectors.shape[0]} units")
        return cls(offsets, vectors)


def from_parts(parts: Sequence[np.ndarray], dim: int) -> UnitVectors:
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(p) for p in parts])
    vectors = np.concatenate(parts) if parts else np.zeros((0, dim))
    return UnitVectors(offsets, np.ascontiguousarray(vectors, dtype=np.float16).reshape(-1, dim))


def concat(first: UnitVectors, second: UnitVectors) -> UnitVectors:
    offsets = np.concatenate([first.offsets[:-1], second.offsets + first.offsets[-1]])
    return UnitVectors(offsets, np.concatenate([np.asarray(first.vectors), np.asarray(second.vectors)]))


def _spans(
    chunk: Chunk, units: Sequence[Sentence], embedded: str, analysis: AnalysisOptions
) -> list[list[tuple[int, int]]]:
    """Where each unit sits in the embedded text (matching form of the breadcrumb, header, body).

    A table row is pooled with its caption and header row, as `unit_text` reads it. The matching
    form folds widths and whitespace, so offsets are found by searching each piece's own matching
    form: a sentence or row after the previous one, a caption or header from the start;
    [(-1, -1)] where a piece cannot be found.
    """
    body = len(embedded) - len(match_form(chunk.text, analysis))  # the body ends the embedded text
    cursor = max(0, body - 1)
    found: list[list[tuple[int, int]]] = []
    for unit in units:
        form = match_form(unit.text, analysis)
        at = embedded.find(form, cursor) if form else -1
        if at < 0:
            found.append([(-1, -1)])
            continue
        cursor = at + len(form)
        pieces = [(at, cursor)]
        for line in (unit.header or "").split("\n") if unit.is_row else []:
            line_form = match_form(line, analysis)
            where = embedded.find(line_form) if line_form else -1
            pieces.append((where, where + len(line_form)) if where >= 0 else (-1, -1))
        found.append(pieces)
    return found


def embed_chunks(
    embedder: object,
    chunks: Sequence[Chunk],
    texts: Sequence[str],
    mode: str,
    analysis: AnalysisOptions,
    progress: bool,
) -> tuple[np.ndarray, UnitVectors | None]:
    """Chunk vectors of `texts` (the chunks' embedded texts) and the unit vectors `mode` asks for."""
    if mode not in MODES:
        raise ValueError(f"unknown unit_vectors mode {mode!r}; choose one of {', '.join(MODES)}")
    encode = embedder.encode_passages  # type: ignore[attr-defined]
    dim = int(embedder.identity.dim)  # type: ignore[attr-defined]
    if not texts:
        return np.zeros((0, dim), dtype=np.float32), from_parts([], dim) if mode != "none" else None
    if mode == "none":
        return encode(list(texts), show_progress=progress), None
    units = [split_units(c) for c in chunks]
    pool = getattr(embedder, "encode_passages_with_spans", None)
    if mode == "pooled" and pool is not None:
        spans = [_spans(c, u, t, analysis) for c, u, t in zip(chunks, units, texts, strict=True)]
        vectors, parts = pool(list(texts), spans, show_progress=progress)
    else:
        vectors = encode(list(texts), show_progress=progress)
        parts = [np.full((len(u), dim), np.nan, dtype=np.float32) for u in units]
    # Units without a pooled vector (standalone mode, cut off, not found): encoded on their own,
    # as the answer step would encode them.
    missing = [(i, j) for i, part in enumerate(parts) for j in range(len(part)) if np.isnan(part[j, 0])]
    if missing:
        log.info("unit vectors: %d of %d units encoded on their own", len(missing), sum(map(len, parts)))
        alone = encode([unit_text(units[i][j]) for i, j in missing], show_progress=progress)
        for (i, j), vector in zip(missing, alone, strict=True):
            parts[i][j] = vector
    return vectors, from_parts(parts, dim)
