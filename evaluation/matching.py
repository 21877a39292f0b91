"""Lenient string matching used to judge passages and answers.

The evaluation decides relevance on its own terms rather than through the product's matching
code, so that a bug in the product's normalisation cannot make a wrong answer look right.
Folding removes whitespace (PDF text wraps lines anywhere), applies NFKC (full-width digits and
Latin become half-width, as the PDF and the .txt of one report differ there), drops leftover
Markdown emphasis and escapes, and maps Traditional to Simplified characters so that one
judgement covers both scripts. Only the character table of that last step is shared with the
product (corpus/normalize.py holds the one OpenCC converter); the folding rules are the
evaluation's own.
"""

from __future__ import annotations

import re
import unicodedata

from corpus.normalize import to_canonical_script

_WHITESPACE = re.compile(r"\s+")
# `**bold**`, `NT\$` and footnote marks `^[2]` survive in some extracted text; the product shows
# them cleaned.
_MARKUP = re.compile(r"\*\*|\\(?=[$*_#\[\]])|\^\[\d+\]")
_CITATION_MARK = re.compile(r"\[\d+\]")


def fold(text: str) -> str:
    """Whitespace-, width-, markup- and script-insensitive form of `text` (lower-cased)."""
    text = unicodedata.normalize("NFKC", text)
    text = _MARKUP.sub("", text)
    text = _WHITESPACE.sub("", text)
    return to_canonical_script(text).lower()


def strip_citation_marks(text: str) -> str:
    """Remove the `[n]` markers an answer carries, so they cannot split a figure."""
    return _CITATION_MARK.sub("", text)


def contains_any(folded_haystack: str, folded_needles: tuple[str, ...]) -> bool:
    """True when any non-empty needle occurs in the haystack (both already folded)."""
    return any(needle and needle in folded_haystack for needle in folded_needles)
