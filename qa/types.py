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
