"""Learned fusion: the shipped weights, the features, and the fit that produces them."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.types import Chunk
from evaluation.train_fusion import Part, fit
from index.types import Candidate
from qa.fusion import FEATURES, FusionWeights, features, shipped_weights
from qa.pipeline import Pipeline


def _chunk(i: int, text: str) -> Chunk:
    return Chunk(
        chunk_id=f"d:{i}", doc_id="d", ordinal=i, file_name="r.txt", title="r", text=text, char_start=0,
        char_end=len(text), section_path=(), line_start=1, line_end=1,
    )  # fmt: skip


def test_shipped_weights_match_this_version_and_trust_bm25_less_across_languages() -> None:
    weights = shipped_weights()
    assert weights.features == FEATURES and "evaluation.train_fusion" in weights.trained_on
    w = dict(zip(weights.features, weights.weights, strict=True))
    # Learned, not set: BM25 of an English question over Chinese text holds only dictionary guesses.
    assert w["lexical_z"] + w["lexical_z x cross"] < w["lexical_z"]


def test_a_weights_file_from_another_version_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match=r"old\.json: its features do not match"):
        FusionWeights.from_json('{"features": ["dense_z"], "weights": [1.0]}', "old.json")
    with pytest.raises(ValueError, match=r"old\.json: not a fusion weights file"):
        FusionWeights.from_json("{", "old.json")


def test_features_mark_language_and_matched_words() -> None:
    candidates = [
        Candidate(
            _chunk(0, "2024 年研發經費為 1,234 億元。"), dense=0.8, lexical=3.0, dense_rank=1, lexical_rank=2
        ),
        Candidate(
            _chunk(1, "R&D spending in 2024 was high."), dense=0.7, lexical=5.0, dense_rank=2, lexical_rank=1
        ),
    ]
    x = features("What was R&D spending in 2024?", ["R&D", "spending", "2024"], candidates)
    col = {name: x[:, i] for i, name in enumerate(FEATURES)}
    assert x.shape == (2, len(FEATURES))
    assert list(col["dense_z x cross"] != 0) == [True, False]  # only the Chinese passage crosses languages
    assert col["match"][1] == 1.0 and col["match"][0] == pytest.approx(1 / 3)


def test_fit_learns_to_ignore_a_side_that_is_noise_across_languages() -> None:
    rng = np.random.default_rng(0)
    part = Part("synthetic")
    for _ in range(200):
        n = 20
        labels = np.zeros(n, dtype=bool)
        labels[0] = True
        dense = rng.normal(size=n)
        dense[0] += 2.0  # dense finds the passage
        lexical = rng.normal(size=n)  # lexical is noise (an English question over Chinese text)
        x = np.zeros((n, len(FEATURES)))
        x[:, FEATURES.index("dense_z")] = dense
        x[:, FEATURES.index("lexical_z")] = lexical
        x[:, FEATURES.index("dense_z x cross")] = dense
        x[:, FEATURES.index("lexical_z x cross")] = lexical
        part.matrices.append(x)
        part.labels.append(labels)
        part.held_out.append(False)
    theta = dict(zip(FEATURES, fit([part]), strict=True))
    assert theta["dense_z"] + theta["dense_z x cross"] > 1.0
    assert abs(theta["lexical_z"] + theta["lexical_z x cross"]) < 0.2


def test_hybrid_is_not_worse_than_its_better_side_on_an_english_question(fixture_pipeline: Pipeline) -> None:
    query = "How many marine engineers were trained?"

    def rank(mode: str) -> int:
        hits = fixture_pipeline.search(query, k=10, mode=mode)  # type: ignore[arg-type]
        return next((h.rank for h in hits if "326" in h.chunk.text), 99)

    assert rank("hybrid") <= min(rank("dense"), rank("bm25"))


def test_auto_fusion_is_learned_for_english_questions_and_zscore_for_chinese() -> None:
    from qa.retrieval import RetrievalConfig, fuse

    candidates = [
        Candidate(
            _chunk(0, "2024 年研發經費為 1,234 億元。"), dense=0.9, lexical=1.0, dense_rank=1, lexical_rank=3
        ),
        Candidate(_chunk(1, "研發人力持續成長。"), dense=0.5, lexical=9.0, dense_rank=3, lexical_rank=1),
        Candidate(_chunk(2, "R&D spending in 2024."), dense=0.7, lexical=4.0, dense_rank=2, lexical_rank=2),
    ]
    auto, learned, zscore = (RetrievalConfig(fusion=f) for f in ("auto", "learned", "zscore"))
    english, chinese = "What was R&D spending in 2024?", "2024年研發經費是多少？"
    assert fuse(candidates, "hybrid", auto, english) == fuse(candidates, "hybrid", learned, english)
    assert fuse(candidates, "hybrid", auto, chinese) == fuse(candidates, "hybrid", zscore, chinese)
    assert fuse(candidates, "hybrid", auto, english) != fuse(candidates, "hybrid", zscore, english)
