"""Optional generative answers through an OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp).

The model sees the numbered passages and must cite them as [n]. Its reply is split into sentences;
a sentence is kept only when at least one passage it cites supports it (a verbatim quoted span or
high overlap, and every number it states occurs in that passage). Any failure raises
GenerativeError, and the caller shows the extractive answer instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from corpus.sentences import split_sentences
from index.types import Hit
from qa.citations import build_citation, supporting_quote
from qa.language import Language
from qa.types import Citation

logger = logging.getLogger(__name__)

NOT_FOUND = "NOT_FOUND"

_LANGUAGE_NAMES: dict[Language, str] = {
    "zh-Hant": "Traditional Chinese (繁體中文)",
    "zh-Hans": "Simplified Chinese (简体中文)",
    "en": "English",
}
_MARKERS = re.compile(r"((?:\s*[\[【]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]】])+)")
_MARKER_NUMBER = re.compile(r"\d+")
_EDGE = re.compile(r"^[\s。．.，,；;：:]+|[\s，,；;：:]+$")


class GenerativeError(Exception):
    """The chat endpoint failed, timed out or replied with something unusable (one-line message)."""


@dataclass(frozen=True)
class ChatEndpoint:
    base_url: str  # e.g. http://127.0.0.1:11434/v1
    model: str
    api_key: str | None = None
    timeout_s: float = 30.0
    max_tokens: int = 512


@dataclass
class GenerativeAnswer:
    text: str  # kept sentences, each followed by its verified citation numbers
    citations: list[Citation] = field(default_factory=list)
    dropped: int = 0  # sentences removed because no citation of theirs verified


@dataclass(frozen=True)
class Claim:
    """One sentence of the model's reply and the passage numbers it cites."""

    text: str
    refs: tuple[int, ...]


def build_messages(question: str, hits: Sequence[Hit], language: Language) -> list[dict[str, str]]:
    """Chat messages: the rules, then the numbered passages and the question."""
    system = (
        "You answer questions about reports using only the numbered passages you are given. "
        f"Write the answer in {_LANGUAGE_NAMES[language]}, in one to three short sentences. "
        "End every sentence with the number of the passage that supports it in square brackets, "
        "like [1] or [1][2]. Copy figures exactly as the passage writes them. When a passage is in "
        "another language than your answer, put the supporting words of the passage verbatim inside "
        f"「」. If the passages do not answer the question, reply exactly {NOT_FOUND}."
    )
    passages = []
    for number, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        where = f", {chunk.address}" if chunk.address else ""
        passages.append(f"[{number}] ({chunk.title}{where})\n{chunk.text}")
    user = "Passages:\n\n" + "\n\n".join(passages) + f"\n\nQuestion: {question}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def request_chat(endpoint: ChatEndpoint, chat: list[dict[str, str]]) -> str:
    """The assistant's reply text; GenerativeError on timeout, HTTP error or a malformed reply."""
    url = endpoint.base_url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
    payload = {
        "model": endpoint.model,
        "messages": chat,
        "temperature": 0,
        "max_tokens": endpoint.max_tokens,
        "stream": False,
    }
    try:
        response = httpx.post(url, json=payload, headers=headers, timeout=httpx.Timeout(endpoint.timeout_s))
    except httpx.TimeoutException as error:
        raise GenerativeError(f"{url}: no reply within {endpoint.timeout_s:g} s") from error
    except httpx.HTTPError as error:
        raise GenerativeError(f"{url}: {error}") from error
    if response.status_code != 200:
        raise GenerativeError(f"{url}: HTTP {response.status_code}")
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise GenerativeError(f"{url}: malformed reply (no choices[0].message.content)") from error
    if not isinstance(content, str) or not content.strip():
        raise GenerativeError(f"{url}: empty reply")
    return content.strip()


def parse_claims(reply: str) -> list[Claim]:
    """Sentences of a reply with the passage numbers cited right after each."""
    pieces = _MARKERS.split(reply)
    claims: list[Claim] = []
    for index in range(0, len(pieces), 2):
        text = pieces[index]
        refs = (
            tuple(int(n) for n in _MARKER_NUMBER.findall(pieces[index + 1]))
            if index + 1 < len(pieces)
            else ()
        )
        # A model cites after a sentence, not after each clause: ； does not end a claim.
        sentences = [_EDGE.sub("", s) for s in split_sentences(text, semicolon_ends=False)]
        sentences = [s for s in sentences if s]
        for position, sentence in enumerate(sentences):
            # Markers belong to the sentence right before them; earlier ones in the piece cite nothing.
            claims.append(Claim(sentence, refs if position == len(sentences) - 1 else ()))
    return claims


def verify_claims(claims: Sequence[Claim], hits: Sequence[Hit]) -> GenerativeAnswer:
    """Keep the claims that a cited passage supports; number their citations in order of use."""
    lines: list[str] = []
    citations: list[Citation] = []
    numbers: dict[tuple[str, str], int] = {}
    dropped = 0
    for claim in claims:
        kept: list[int] = []
        for ref in dict.fromkeys(claim.refs):
            if not 1 <= ref <= len(hits):
                continue
            chunk = hits[ref - 1].chunk
            support = supporting_quote(chunk, claim.text)
            if support is None:
                continue
            quote, near = support
            key = (chunk.chunk_id, quote)
            if key not in numbers:
                citation = build_citation(len(citations) + 1, chunk, quote, near=near)
                if citation is None:
                    continue
                citations.append(citation)
                numbers[key] = citation.number
            kept.append(numbers[key])
        if kept:
            lines.append(claim.text + " " + "".join(f"[{n}]" for n in kept))
        else:
            dropped += 1
            logger.info("dropped a generated sentence without a verified citation: %.60s", claim.text)
    return GenerativeAnswer("\n".join(lines), citations, dropped)


def generate_answer(
    question: str, hits: Sequence[Hit], language: Language, endpoint: ChatEndpoint
) -> GenerativeAnswer:
    """A fluent answer whose every sentence carries a verified citation; GenerativeError otherwise."""
    reply = request_chat(endpoint, build_messages(question, hits, language))
    if NOT_FOUND in reply:
        raise GenerativeError("the model found no answer in the passages")
    answer = verify_claims(parse_claims(reply), hits)
    if not answer.citations:
        raise GenerativeError(f"none of the {answer.dropped} generated sentences had a verified citation")
    return answer
