"""Learned fusion: how much the lexical and the dense score are worth for this question and passage.

A fixed BM25 share suits Chinese questions over Chinese text, where BM25 is the stronger side, but
not an English question over Chinese text, where the lexical side holds only dictionary guesses.
Each candidate is described by a few features (both standardised scores, their ranks, whether the
question and passage languages differ, the share of question words the passage contains, how
decisive each side's top score is) and scored by a linear model learned listwise on tuning data
(`python -m evaluation.train_fusion`). The weights ship as qa/fusion_weights.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from corpus.normalize import compact_form
from index.types import Candidate

WEIGHTS_FILE = "fusion_weights.json"

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")

# Feature names, in column order. `x` marks an interaction: the first factor's weight changes with
# the second, which is how the model gives BM25 less say when the question's language differs.
FEATURES: tuple[str, ...] = (
    "dense_z",
    "lexical_z",
    "dense_z x cross",
    "lexical_z x cross",
    "dense_rr",
    "lexical_rr",
    "dense_rr x cross",
    "lexical_rr x cross",
    "lexical_z x match",
    "match",
    "match x cross",
    "dense_z x dense_margin",
    "lexical_z x lexical_margin",
)


@dataclass(frozen=True)
class FusionWeights:
    """A linear model over FEATURES; `trained_on` records where the numbers came from."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    trained_on: str = ""

    def score(self, matrix: np.ndarray) -> np.ndarray:
        return matrix @ np.asarray(self.weights, dtype=np.float64)

    def to_json(self) -> str:
        data = {"features": list(self.features), "weights": list(self.weights), "trained_on": self.trained_on}
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str, source: str) -> FusionWeights:
        try:
            data = json.loads(text)
            features = tuple(str(f) for f in data["features"])
            weights = tuple(float(w) for w in data["weights"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{source}: not a fusion weights file ({exc})") from None
        if features != FEATURES or len(weights) != len(FEATURES):
            raise ValueError(f"{source}: its features do not match this version; retrain the fusion")
        return cls(features=features, weights=weights, trained_on=str(data.get("trained_on", "")))


@cache
def shipped_weights() -> FusionWeights:
    """The weights in package data (read once per process)."""
    path = Path(str(resources.files("qa"))) / WEIGHTS_FILE
    return FusionWeights.from_json(path.read_text(encoding="utf-8"), WEIGHTS_FILE)


def _zscores(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    if std < 1e-9:
        return np.zeros_like(values)
    return (values - float(values.mean())) / std


def _margin(z: np.ndarray) -> float:
    """How far the best candidate stands above the second, in standard deviations."""
    if len(z) < 2:
        return 0.0
    top = np.partition(z, len(z) - 2)[-2:]
    return float(top[1] - top[0])


def _is_chinese(text: str) -> bool:
    return len(_CJK.findall(text)) >= len(_LATIN.findall(text))


@lru_cache(maxsize=20000)
def _passage(text: str) -> tuple[bool, str]:
    """Whether a passage is Chinese, and its matching form (cached: script folding is the slow part
    of the features, and the same passages come back question after question)."""
    return _is_chinese(text), compact_form(text)


def _terms_in(terms: Sequence[str], folded: str) -> float:
    if not terms:
        return 0.0
    return sum(1 for t in terms if t in folded) / len(terms)


def features(question: str, terms: Sequence[str], candidates: Sequence[Candidate]) -> np.ndarray:
    """One row of FEATURES per candidate.

    `terms` are the question's own words (not dictionary translations): their share in a passage
    is evidence the lexical score is about the question and not about a guessed sense.
    """
    n = len(candidates)
    dense_raw = np.array([c.dense or 0.0 for c in candidates], dtype=np.float64)
    lexical_raw = np.array([c.lexical or 0.0 for c in candidates], dtype=np.float64)
    dz, lz = _zscores(dense_raw), _zscores(lexical_raw)
    d_rr = np.array([1.0 / (1 + c.dense_rank) if c.dense_rank else 0.0 for c in candidates])
    l_rr = np.array([1.0 / (1 + c.lexical_rank) if c.lexical_rank else 0.0 for c in candidates])
    question_chinese = _is_chinese(question)
    passages = [_passage(c.chunk.text) for c in candidates]
    cross = np.array([float(chinese != question_chinese) for chinese, _ in passages])
    folded_terms = [compact_form(t) for t in terms]
    match = np.array([_terms_in(folded_terms, folded) for _, folded in passages])
    columns = [
        dz,
        lz,
        dz * cross,
        lz * cross,
        d_rr,
        l_rr,
        d_rr * cross,
        l_rr * cross,
        lz * match,
        match,
        match * cross,
        dz * _margin(dz),
        lz * _margin(lz),
    ]
    return np.stack(columns, axis=1) if n else np.zeros((0, len(FEATURES)))
