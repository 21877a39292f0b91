"""Dense store: FAISS inner-product search over L2-normalised chunk vectors."""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

VECTORS = "vectors.npy"
FAISS_FILE = "dense.faiss"
KINDS = ("flat", "hnsw", "ivf")


def build_faiss(vectors: np.ndarray, kind: str = "flat") -> faiss.Index:
    """Exact search by default; HNSW or IVF for collections too large to scan."""
    if kind not in KINDS:
        raise ValueError(f"unknown dense index kind {kind!r}; choose one of {', '.join(KINDS)}")
    n, dim = vectors.shape
    if kind == "hnsw":
        index: faiss.Index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    elif kind == "ivf" and n >= 1024:
        nlist = max(16, int(4 * math.sqrt(n)))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = max(8, nlist // 8)
    else:
        # IVF needs enough points to train its centroids; below that an exact index is both
        # faster and correct.
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(vectors)
    return index


class DenseStore:
    """Vectors (kept for exact re-scoring and incremental rebuilds) plus the FAISS index."""

    def __init__(self, vectors: np.ndarray, index: faiss.Index) -> None:
        self.vectors = vectors
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str) -> DenseStore:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        return cls(vectors, build_faiss(vectors, kind))

    def save(self, folder: Path) -> None:
        np.save(folder / VECTORS, self.vectors)
        faiss.write_index(self.index, str(folder / FAISS_FILE))

    @classmethod
    def load(cls, folder: Path) -> DenseStore:
        vectors = np.load(folder / VECTORS, mmap_mode="r")
        index = faiss.read_index(str(folder / FAISS_FILE))
        if index.ntotal != vectors.shape[0]:
            raise ValueError(f"FAISS holds {index.ntotal} vectors but vectors.npy {vectors.shape[0]}")
        return cls(vectors, index)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-k (row, cosine) pairs; `allowed` is a sorted array of permitted rows or None."""
        n = self.index.ntotal
        if n == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is not None:
            if len(allowed) == 0:
                return []
            if len(allowed) <= 4096:
                # Exact scores over the permitted rows: cheaper and more precise than a
                # selector on an approximate index.
                scores = np.asarray(self.vectors[allowed]) @ q[0]
                top = np.argsort(-scores)[:k]
                return [(int(allowed[i]), float(scores[i])) for i in top]
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed.astype(np.int64)))
            scores, ids = self.index.search(q, min(k, len(allowed)), params=params)
        else:
            scores, ids = self.index.search(q, min(k, n))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def scores_for(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact cosine for chosen rows (fusion needs both scores for every candidate)."""
        return np.asarray(self.vectors[rows]) @ query.astype(np.float32)
