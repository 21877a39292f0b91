"""The matching form of a text: what is embedded and tokenised, for chunks and queries alike."""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus import matching_text, segment, to_canonical_script, tokenize


@dataclass(frozen=True)
class AnalysisOptions:
    """Settings that change stored vectors or tokens; a change means re-indexing."""

    script_normalization: bool = True  # fold Traditional/Simplified into one script for matching
    char_unigrams: bool = True  # single CJK characters as extra BM25 tokens (bench/fusion_sweep.py)

    def as_settings(self) -> dict[str, object]:
        return {"script_normalization": self.script_normalization, "char_unigrams": self.char_unigrams}


def match_form(text: str, options: AnalysisOptions) -> str:
    """Display text -> matching text (width, whitespace, line breaks; optionally one script)."""
    text = matching_text(text)
    return to_canonical_script(text) if options.script_normalization else text


# Function words and question words carry no evidence; left in, a question such as "How many
# ... were ..." scores every English passage and drowns the dense signal in hybrid fusion. Chinese
# entries are in the canonical (Simplified) script the tokens use.
STOPWORDS = frozenset(
    """a an the of in on at to for from by with and or but is are was were be been being do does did
    what which who whom whose when where why how many much there this that these those it its as
    about into than then so such per according report reports please tell me can could would should
    的 了 是 在 和 与 及 或 之 其 吗 呢 啊 吧 哪 哪些 哪个 什么 多少 几 如何 怎么 怎样 为何 为什么
    请问 请 是否 有没有 呢 为 于 以 及其 以及 并 而 也 都 就 被 把 对 由 从 至 到""".split()
)


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
    return [t for t in tokens if t not in STOPWORDS]
