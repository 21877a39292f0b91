"""Candidate-sentence vectors are kept between questions: only unseen sentences reach the encoder,
and the vectors are the encoder's own."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.vector_cache import passage_vectors


class Counting:
    """The real embedder, counting the passages it is asked to encode."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.encoded: list[str] = []

    def encode_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.encoded.extend(texts)
        return self.inner.encode_passages(texts)  # type: ignore[attr-defined]


def test_only_unseen_sentences_are_encoded_and_vectors_match(default_embedder) -> None:
    embedder = Counting(default_embedder)
    first = ["潮流機組全年累計發電 1,284 萬度。", "波浪機組因颱風停機 45 天。"]
    got = passage_vectors(embedder, first)
    assert embedder.encoded == first
    second = [
        "波浪機組因颱風停機 45 天。",
        "本年度共培訓海洋工程人才 326 人。",
        "潮流機組全年累計發電 1,284 萬度。",
    ]
    again = passage_vectors(embedder, second)
    assert embedder.encoded == [*first, "本年度共培訓海洋工程人才 326 人。"]
    direct = default_embedder.encode_passages(second)
    assert np.allclose(again, direct, atol=1e-5) and np.allclose(got[1], again[0])


def test_the_cache_keeps_only_the_most_recent_vectors(default_embedder) -> None:
    embedder = Counting(default_embedder)
    passage_vectors(embedder, ["一", "二", "三"], max_vectors=2)
    passage_vectors(embedder, ["三", "一"], max_vectors=2)
    assert embedder.encoded == ["一", "二", "三", "一"]  # 一 was dropped, 三 was kept
