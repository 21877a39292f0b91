"""Typed records of the answering layer: citations and answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.types import Hit


@dataclass(frozen=True)
class Citation:
    """A verified quote: `quote` occurs verbatim in the cited chunk at the given offsets."""

    number: int  # [1], [2], ... as shown in the answer
    chunk_id: str
    doc_id: str
    title: str
    file_name: str
    address: str  # "p. 12" or "lines 30-41"
    section_path: tuple[str, ...]
    quote: str
    quote_start: int  # offsets into the document's display text
    quote_end: int
    page_start: int | None = None
    page_end: int | None = None
    line_start: int | None = None
    line_end: int | None = None


@dataclass(frozen=True)
class ConditionResult:
    """One condition of the question (a year, agency, place, programme or qualifier) checked against
    the evidence of the answer sentence (see qa/conditions.py)."""

    text: str  # the condition as written in the question: "2018 年", "日本", "非偏鄉"
    kind: str  # time, organisation, place, programme, qualifier
    status: str  # met, missing, contradicted
    evidence: str | None = None  # the evidence's own words that meet or contradict it, verbatim
    where: str | None = None  # sentence, row, section, passage, or implicit (the reports' own country)
    blocking: bool = False  # whether this result kept the sentence from being given as the answer


@dataclass
class Answer:
    """What `qa ask`, the UI and the evaluation all receive."""

    question: str
    text: str  # answer text with [n] markers, or the abstention sentence
    abstained: bool
    confidence: float  # 0..1
    citations: list[Citation] = field(default_factory=list)
    related: list[Hit] = field(default_factory=list)  # the passages considered, best first
    figure: str | None = None  # the figure put first for how-much questions, verbatim
    language: str = "zh-Hant"  # script of the question: zh-Hant, zh-Hans, en
    mode: str = "extractive"  # or "generative"
    latency_ms: float = 0.0
    conditions: list[ConditionResult] = field(default_factory=list)  # checked against the answer's evidence
    # The sentences refused for low confidence (never shown): `qa eval` judges them to tell how
    # often answers of each confidence would have been right (the reliability table).
    withheld: str | None = None
