"""Lexical store: BM25 (bm25s) over the corpus layer's tokens (jieba words and CJK bigrams)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

FOLDER = "lexical"


class LexicalStore:
    def __init__(self, retriever: bm25s.BM25) -> None:
        self._bm25 = retriever
        self._vocab: dict[str, int] = retriever.vocab_dict

    @classmethod
    def build(cls, token_lists: Sequence[list[str]], k1: float = 1.2, b: float = 0.75) -> LexicalStore:
        retriever = bm25s.BM25(k1=k1, b=b)
        # bm25s cannot index an empty corpus or a document with no tokens; a placeholder token
        # keeps row numbers aligned with the vector rows and matches no query.
        docs = [toks if toks else ["\x00"] for toks in token_lists] or [["\x00"]]
        retriever.index(docs, show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder / FOLDER), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalStore:
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        return cls(bm25s.BM25.load(str(folder / FOLDER), mmap=False, show_progress=False))

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every row for the query tokens (zeros when none is in the vocabulary)."""
        ids = [self._vocab[t] for t in tokens if t in self._vocab]
        n = int(self._bm25.scores["num_docs"])
        if not ids:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)

    def search(
        self, tokens: Sequence[str], k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        scores = self.scores(tokens)
        if allowed is not None:
            masked = np.full_like(scores, -1.0)
            masked[allowed] = scores[allowed]
            scores = masked
        k = min(k, len(scores))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
