"""The matching form of a text: what is embedded and tokenised, for chunks and queries alike.

The analysis itself (script folding, words, stop words) belongs to the corpus layer; this module
only chooses among its options, which are part of what an index was built with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus import matching_text, segment, to_canonical_script, tokenize
from corpus.segment import BM25_STOP_WORDS, TEXT_ANALYSIS_VERSION


@dataclass(frozen=True)
class AnalysisOptions:
    """Settings that change stored vectors or tokens; a change means re-indexing."""

    script_normalization: bool = True  # fold Traditional/Simplified into one script for matching
    char_unigrams: bool = True  # single CJK characters as extra BM25 tokens (bench/fusion_sweep.py)

    def as_settings(self) -> dict[str, object]:
        # The analysis version is stored too: an index built by another analysis is re-read on ingest.
        return {
            "script_normalization": self.script_normalization,
            "char_unigrams": self.char_unigrams,
            "text_analysis": TEXT_ANALYSIS_VERSION,
        }


def match_form(text: str, options: AnalysisOptions) -> str:
    """Display text -> matching text (width, whitespace, line breaks; optionally one script)."""
    text = matching_text(text)
    return to_canonical_script(text) if options.script_normalization else text


_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")
_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _tokens_in_own_script(text: str) -> list[str]:
    # Same words and bigrams as corpus.tokenize, but left in the text's own script: the baseline
    # that shows what script folding buys.
    tokens = [t.text.lower() for t in segment(text) if t.text.strip()]
    for run in _CJK_RUN.finditer(text):
        chars = run.group()
        tokens.extend(chars[i : i + 2] for i in range(len(chars) - 1))
    return tokens


def lexical_tokens(text: str, options: AnalysisOptions) -> list[str]:
    """BM25 tokens: jieba words plus CJK bigrams of the matching form, without stopwords."""
    form = match_form(text, options)
    tokens = tokenize(form) if options.script_normalization else _tokens_in_own_script(form)
    if options.char_unigrams:
        # Single characters rescue matches that jieba cut differently in question and passage
        # (1-2 points of Recall@1 on DRCD); the stopword filter drops the commonest ones.
        tokens += [ch for ch in form if _CJK_CHAR.match(ch)]
    return [t for t in tokens if t not in BM25_STOP_WORDS]
