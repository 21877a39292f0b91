"""Learned sentence choice and answer confidence.

Every candidate sentence (or table row) becomes one `CandidateFeatures` record: how much of the
question it covers, how close it is in the embedding space, its passage's rank, whether it holds the
kind of figure asked for, and how each of the question's conditions came out against it. Two small
logistic models read these records: one says how likely a sentence is to hold the answer (sentence
choice), the other how likely the chosen answer is right (the confidence). Both are fitted by
`python -m evaluation.train_confidence` and shipped as JSON (`qa/data/confidence.json`): plain
coefficients, so loading needs numpy only and nothing executable is unpickled.
"""

from __future__ import annotations

import json
import math
from dataclasses import astuple, dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from qa.types import ConditionResult

MODEL_FILE = "confidence.json"
FORMAT = 2
SELECTIONS = ("learned", "hand")  # which score picks the sentences shown
CONDITION_KINDS = ("time", "organisation", "place", "programme", "qualifier")
STATUSES = ("met", "missing", "contradicted")


@dataclass(frozen=True)
class CandidateFeatures:
    """What is known about one candidate sentence when the question is answered (all numbers)."""

    coverage: float  # weighted share of question terms in the sentence (row: with its header)
    passage_coverage: float  # the same over its passage, title and section path
    dense: float  # sentence-question cosine (0 when not embedded)
    dense_known: float  # 1 when the sentence was embedded
    dense_cross: float  # the cosine again for cross-script pairs, whose cosines run lower
    passage_dense: float  # best passage-question cosine among the retrieved passages
    hit_score: float  # fused retrieval score of the sentence's passage
    rank_prior: float  # 1 / (1 + 0.5 (rank - 1)) of its passage
    cross_script: float  # English question, Chinese sentence or the reverse
    is_row: float
    fragment: float  # a sentence under 12 characters (headings, fragments)
    figure_question: float  # the question asks for a figure (多少, how many, rank ...)
    has_figure: float  # a figure was found in the sentence
    figure_kind: float  # ... of the kind asked for (percent, money, rank ...)
    year_other: float  # the sentence states years, none of them asked
    year_around: float  # ... but its passage names an asked year
    year_unstated: float  # no year in the sentence, and the passage names only other years
    numbers_missing: float  # numbers of the question (not years) absent from the passage
    content_missing: float  # weighted share of the question's content words no passage contains
    names_missing: float  # names (3+ CJK characters, capitalised Latin) no passage contains
    english: float  # the question is in English
    n_terms: float  # log(1 + question terms)
    blocked: float  # conditions the sentence fails (missing or contradicted, blocking)
    hand_score: float = 0.0  # the earlier releases' hand-weighted sentence score
    met_unit: float = 0.0  # conditions met in the sentence or row itself
    met_wider: float = 0.0  # ... met only in its section, passage or title
    label_named: float = 0.0  # table rows: the question names the row's label (country, agency, item)
    column_year: float = 0.0  # table rows: the figure's column is headed by an asked year
    column_coverage: float = 0.0  # table rows: share of the question's terms in that column's header
    time_met: float = 0.0
    time_missing: float = 0.0
    time_contradicted: float = 0.0
    organisation_met: float = 0.0
    organisation_missing: float = 0.0
    organisation_contradicted: float = 0.0
    place_met: float = 0.0
    place_missing: float = 0.0
    place_contradicted: float = 0.0
    programme_met: float = 0.0
    programme_missing: float = 0.0
    programme_contradicted: float = 0.0
    qualifier_met: float = 0.0
    qualifier_missing: float = 0.0
    qualifier_contradicted: float = 0.0
    # names of the question (3+ CJK characters, capitalised Latin) its own passage does not state:
    # retrieval found a passage on another subject that shares the question's other words
    names_absent: float = 0.0
    # a question over text in the other language: share of its words (as the dictionary translates
    # them) that the passage, and the sentence itself, state in none of their translations
    gloss_absent: float = 0.0
    gloss_unit_absent: float = 0.0

    def vector(self) -> list[float]:
        return [float(v) for v in astuple(self)]


FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(CandidateFeatures))


def condition_counts(results: list[ConditionResult]) -> dict[str, float]:
    """`time_met`, `place_contradicted`, ...: how many conditions of each kind ended so."""
    counts: dict[str, float] = {}
    for result in results:
        if result.kind in CONDITION_KINDS and result.status in STATUSES:
            key = f"{result.kind}_{result.status}"
            counts[key] = counts.get(key, 0.0) + 1.0
    return counts


# Features of the answer as a whole, read by the confidence model after the sentence is chosen.
ANSWER_EXTRA: tuple[str, ...] = ("sentence_logit", "margin", "n_chosen", "hand_confidence")


@dataclass(frozen=True)
class AnswerFeatures:
    """The chosen (top) sentence's record plus what only the whole answer knows."""

    top: CandidateFeatures
    sentence_logit: float  # the sentence model's log-odds for the top sentence
    margin: float  # its log-odds minus the runner-up's (0 without one)
    n_chosen: float  # sentences shown
    hand_confidence: float = 0.0  # the earlier releases' hand-weighted confidence in the hand-chosen answer

    def vector(self) -> list[float]:
        return [*self.top.vector(), self.sentence_logit, self.margin, self.n_chosen, self.hand_confidence]


class ModelError(Exception):
    """The shipped weights file is missing or malformed."""


@dataclass(frozen=True)
class Logistic:
    """A standardised logistic model: p = sigmoid(w . (x - mean) / scale + b)."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logit(self, x: list[float]) -> float:
        z = (np.asarray(x, dtype=float) - self.mean) / self.scale
        return float(z @ self.weights + self.bias)

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(self.names),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(self.bias, 6),
        }

    @classmethod
    def from_json(cls, data: dict[str, object], expected: tuple[str, ...]) -> Logistic:
        names = tuple(data["features"])  # type: ignore[arg-type]
        if names != expected:
            raise ModelError("feature list differs from this version's; retrain the model")
        arrays = [np.asarray(data[k], dtype=float) for k in ("mean", "scale", "weights")]
        if any(a.shape != (len(names),) for a in arrays):
            raise ModelError("coefficient arrays do not match the feature list")
        mean, scale, weights = arrays
        return cls(names, mean, np.where(scale > 0, scale, 1.0), weights, float(data["bias"]))  # type: ignore[arg-type]


def sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    e = math.exp(value)
    return e / (1.0 + e)


@dataclass(frozen=True)
class ConfidenceModel:
    """Both models and the learned abstention threshold."""

    sentence: Logistic
    answer: Logistic
    threshold: float  # refuse below this confidence (chosen on the training data)
    trained: dict[str, object]  # what it was fitted on and its held-out figures
    # "learned": the sentence model picks the sentences; "hand": the hand score does (chosen by which
    # picks a right sentence more often on held-out training questions).
    selection: str = "learned"

    def sentence_logit(self, features: CandidateFeatures) -> float:
        return self.sentence.logit(features.vector())

    def confidence(self, features: AnswerFeatures) -> float:
        return sigmoid(self.answer.logit(features.vector()))

    def to_json(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "sentence": self.sentence.to_json(),
            "answer": self.answer.to_json(),
            "threshold": round(self.threshold, 6),
            "selection": self.selection,
            "trained": self.trained,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ConfidenceModel:
        if data.get("format") != FORMAT:
            raise ModelError(f"format {data.get('format')!r}, expected {FORMAT}")
        if data.get("selection", "learned") not in SELECTIONS:
            raise ModelError(f"selection {data.get('selection')!r}, expected one of {SELECTIONS}")
        try:
            return cls(
                sentence=Logistic.from_json(data["sentence"], FEATURE_NAMES),  # type: ignore[arg-type]
                answer=Logistic.from_json(data["answer"], (*FEATURE_NAMES, *ANSWER_EXTRA)),  # type: ignore[arg-type]
                threshold=float(data["threshold"]),  # type: ignore[arg-type]
                trained=dict(data.get("trained") or {}),  # type: ignore[call-overload]
                selection=str(data.get("selection", "learned")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"malformed entry ({exc})") from None


def model_path() -> Path:
    return Path(str(resources.files("qa") / "data" / MODEL_FILE))


def load_model(path: Path | None = None) -> ConfidenceModel:
    """Read a weights file (default: the one the package ships)."""
    path = path or model_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path.name}: cannot be read ({exc})") from None
    try:
        return ConfidenceModel.from_json(data)
    except ModelError as exc:
        raise ModelError(f"{path.name}: {exc}") from None


@lru_cache(maxsize=1)
def shipped_model() -> ConfidenceModel:
    return load_model()
