"""Citation verification: a quote is shown only if it occurs verbatim in the cited chunk."""

from __future__ import annotations

import logging
import re

from corpus.address import format_address
from corpus.types import Chunk
from qa.figures import digits
from qa.language import cjk_bigrams, latin_word_set, matching_form, number_terms
from qa.sentences import Sentence, split_units
from qa.types import Citation

logger = logging.getLogger(__name__)


def verify_quote(chunk: Chunk, quote: str, near: int | None = None) -> tuple[int, int] | None:
    """Offsets of `quote` in the document's display text, or None when it is not verbatim in the chunk.

    `near` (an offset into chunk.text) picks the occurrence closest to it when the quote repeats.
    """
    if not quote or not quote.strip():
        return None
    position = chunk.text.find(quote)
    if position < 0:
        return None
    if near is not None:
        best = position
        while (position := chunk.text.find(quote, position + 1)) >= 0:
            if abs(position - near) < abs(best - near):
                best = position
        position = best
    return chunk.char_start + position, chunk.char_start + position + len(quote)


def build_citation(number: int, chunk: Chunk, quote: str, near: int | None = None) -> Citation | None:
    """A verified Citation, or None (logged) when the quote does not occur verbatim in the chunk."""
    offsets = verify_quote(chunk, quote, near)
    if offsets is None:
        logger.info("dropped a citation of %s: quote not found verbatim in the chunk", chunk.chunk_id)
        return None
    start, end = offsets
    line_start, line_end = chunk.line_start, chunk.line_end
    address = chunk.address
    if chunk.line_start is not None and chunk.page_start is None:
        # Narrow a text file's line range to the lines of the quote itself.
        local = start - chunk.char_start
        line_start = chunk.line_start + chunk.text.count("\n", 0, local)
        line_end = line_start + quote.count("\n")
        address = format_address(line_start=line_start, line_end=line_end)
    return Citation(
        number=number,
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        title=chunk.title,
        file_name=chunk.file_name,
        address=address,
        section_path=chunk.section_path,
        quote=quote,
        quote_start=start,
        quote_end=end,
        page_start=chunk.page_start,
        page_end=chunk.page_end,
        line_start=line_start,
        line_end=line_end,
    )


def citation_is_valid(citation: Citation, chunk: Chunk) -> bool:
    """Re-check a built citation against its chunk (used before anything is shown)."""
    if citation.chunk_id != chunk.chunk_id:
        return False
    local_start = citation.quote_start - chunk.char_start
    local_end = citation.quote_end - chunk.char_start
    return (
        0 <= local_start < local_end <= len(chunk.text)
        and chunk.text[local_start:local_end] == citation.quote
    )


# ---------------------------------------------------------------------------------------------
# Support of a generated sentence by a cited passage

_QUOTED = re.compile(r"「([^」]{4,})」|“([^”]{4,})”|\"([^\"]{4,})\"|『([^』]{4,})』")
_MIN_OVERLAP = 0.5


def _overlap(claim: str, unit: str) -> float:
    """Share of the claim's content (CJK bigrams, or Latin words) that the unit contains."""
    claim_form, unit_form = matching_form(claim), matching_form(unit)
    grams = cjk_bigrams(claim_form)
    words = {w for w in latin_word_set(claim) if len(w) > 2}
    if len(grams) >= len(words):
        return len(grams & cjk_bigrams(unit_form)) / len(grams) if grams else 0.0
    return len(words & latin_word_set(unit)) / len(words)


def _numbers(text: str) -> set[str]:
    found = set()
    for term in number_terms(text):
        found.add(digits(term.text))
    return found


def supporting_quote(chunk: Chunk, claim: str) -> tuple[str, int] | None:
    """The verbatim sentence of `chunk` that supports a generated claim, with its offset in the chunk.

    Support is a quoted span of the claim that occurs verbatim in the chunk, or a sentence of the chunk
    that holds at least half of the claim's content; every number of the claim must be in the chunk.
    """
    chunk_numbers = _numbers(chunk.text)
    for term in number_terms(claim):
        if digits(term.text) not in chunk_numbers and not chunk_numbers & set(term.aliases):
            return None
    units = split_units(chunk)
    for match in _QUOTED.finditer(claim):
        span = next(group for group in match.groups() if group)
        position = chunk.text.find(span)
        if position >= 0:
            for unit in units:
                if unit.start <= position and position + len(span) <= unit.end:
                    return unit.text, unit.start
            return span, position
    best: tuple[float, Sentence] | None = None
    for unit in units:
        score = _overlap(claim, unit.text)
        if best is None or score > best[0]:
            best = (score, unit)
    if best is not None and best[0] >= _MIN_OVERLAP:
        return best[1].text, best[1].start
    return None
