"""Passage vectors of answer candidates, kept between the questions of one process.

Choosing the answering sentence embeds up to two dozen candidate sentences per question, most of
the question's time on a CPU. Questions about the same reports keep meeting the same sentences (a
chat follows a topic, a benchmark walks one report), so the vectors are kept per embedder, most
recently used first, up to a bound (20,000 vectors of 384 floats is about 30 MB).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

MAX_VECTORS = 20_000


class _Store:
    def __init__(self) -> None:
        self.vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()


_STORES: weakref.WeakKeyDictionary[Any, _Store] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def _store(embedder: Any) -> _Store | None:
    with _STORES_LOCK:
        try:
            return _STORES.setdefault(embedder, _Store())
        except TypeError:  # an embedder that cannot be weakly referenced is simply not cached
            return None


def passage_vectors(embedder: Any, texts: Sequence[str], max_vectors: int = MAX_VECTORS) -> np.ndarray:
    """`embedder.encode_passages(texts)`, encoding only the texts this embedder has not seen lately."""
    store = _store(embedder)
    if store is None:
        return np.asarray(embedder.encode_passages(list(texts)))
    with store.lock:
        missing = list(dict.fromkeys(t for t in texts if t not in store.vectors))
    fresh = np.asarray(embedder.encode_passages(missing)) if missing else None
    with store.lock:
        found = {t: store.vectors[t] for t in texts if t in store.vectors}
        if fresh is not None:
            for text, vector in zip(missing, fresh, strict=True):
                found[text] = vector
                store.vectors[text] = vector
        for text in texts:
            if text in store.vectors:
                store.vectors.move_to_end(text)
        while len(store.vectors) > max_vectors:
            store.vectors.popitem(last=False)
    return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)
