"""JSON-able payloads returned by the app's named API endpoints (/ask and /search)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict

from index.types import Hit
from qa.types import Answer
from ui.citations import citation_record, record_dict

MetadataLookup = Callable[[str], Mapping[str, str]]


def hits_payload(hits: Sequence[Hit], metadata: MetadataLookup) -> list[dict[str, object]]:
    """Ranked passages with their formatted citations."""
    return [record_dict(citation_record(hit, metadata(hit.chunk.doc_id))) for hit in hits]


def answer_payload(answer: Answer, metadata: MetadataLookup) -> dict[str, object]:
    """Everything an API caller needs to show or check an answer."""
    citations = []
    for citation in answer.citations:
        item: dict[str, object] = asdict(citation)
        item["section_path"] = list(citation.section_path)
        citations.append(item)
    return {
        "question": answer.question,
        "text": answer.text,
        "abstained": answer.abstained,
        "confidence": answer.confidence,
        "figure": answer.figure,
        "language": answer.language,
        "mode": answer.mode,
        "latency_ms": answer.latency_ms,
        "citations": citations,
        "related": hits_payload(answer.related, metadata),
    }


def error_payload(message: str) -> dict[str, object]:
    """The shape returned instead of a result when a request cannot be answered."""
    return {"error": message}
