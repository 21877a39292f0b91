"""The matching form of a text: what is embedded and tokenised, for chunks and queries alike."""

from __future__ import annotations

from dataclasses import dataclass

from corpus import matching_text, to_canonical_script, tokenize


@dataclass(frozen=True)
class AnalysisOptions:
    """Settings that change stored vectors or tokens; a change means re-indexing."""

    script_normalization: bool = True  # fold Traditional/Simplified into one script for matching

    def as_settings(self) -> dict[str, object]:
        return {"script_normalization": self.script_normalization}


def match_form(text: str, options: AnalysisOptions) -> str:
    """Display text -> matching text (width, whitespace, line breaks; optionally one script)."""
    text = matching_text(text)
    return to_canonical_script(text) if options.script_normalization else text


def lexical_tokens(text: str, options: AnalysisOptions) -> list[str]:
    """BM25 tokens: jieba words plus CJK bigrams of the matching form."""
    return tokenize(match_form(text, options))
