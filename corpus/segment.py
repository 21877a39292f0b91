"""Word segmentation and stop words, the one place for both, in any of the three scripts.

The lexical index, question terms (answer scoring), condition checks and highlighting all cut words
with the same jieba tokenizer and its domain word list, so an agency name is one word everywhere.
jieba's dictionary is Simplified; Traditional text is segmented on its length-preserving
Simplified copy and the word boundaries are carried back by offset.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from corpus.normalize import fold_width, matching_text, to_canonical_script

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

# Stored with every index (index/analysis.py): bump it when a change to segmentation, stop words,
# script folding or sentence cuts changes chunks or tokens, so older indexes are re-read on ingest.
# 2: one sentence splitter for chunking and answers (corpus/sentences.py).
TEXT_ANALYSIS_VERSION = 2

# Latin words keep inner hyphens, dots and apostrophes (e-commerce, U.S., Taiwan's) and leading
# digits (5G); numbers keep grouping, decimals and percent (1,517.4 / 98.15%); CJK runs go to jieba.
_SPANS = re.compile(
    r"(?P<word>\d*[A-Za-z][A-Za-z0-9]*(?:['’.\-][A-Za-z0-9]+)*)"  # also 5G, B5G, IPv6, 2Gbps
    r"|(?P<num>\d+(?:[,.]\d+)*%?)"
    rf"|(?P<cjk>[{_CJK}]+)"
)

# Agency names and report vocabulary, in Simplified (the script jieba sees), so that they stay
# single words; a word list, not report text.
DOMAIN_WORDS: tuple[str, ...] = (
    "国家科学及技术委员会",
    "国科会",
    "行政院",
    "数位发展部",
    "经济部",
    "教育部",
    "卫生福利部",
    "农业部",
    "交通部",
    "内政部",
    "环境部",
    "文化部",
    "国防部",
    "劳动部",
    "财政部",
    "法务部",
    "中央研究院",
    "国家发展委员会",
    "国家实验研究院",
    "核能安全委员会",
    "海洋委员会",
    "原住民族委员会",
    "客家委员会",
    "金融监督管理委员会",
    "侨务委员会",
    "国家科学技术发展基金",
    "前瞻基础建设",
    "五大信赖产业",
    "国家希望工程",
    "净零排放",
    "净零转型",
    "人工智能",
    "低轨卫星",
    "数位转型",
    "数位经济",
    "半导体",
    "预算法定数",
)


# Stop words, in the canonical (Simplified) script the tokens use. Function words carry no evidence
# anywhere; each purpose then drops a few more.
_FUNCTION_WORDS_ZH = frozenset(
    """的 了 是 在 和 与 及 或 之 其 吗 呢 啊 吧 哪 哪些 哪个 什么 多少 几 如何 怎么 怎样 为何 为什么
    请问 请 是否 为 于 以 并 而 也 都 被 把 对 由 从 到""".split()
)
_FUNCTION_WORDS_EN = frozenset(
    """a an the of in on at to for from by with and or is are was were be been being do does did
    what which who whom whose when where why how many much there this that these those it its as
    about into than then according report reports tell me please""".split()
)

# BM25: left in, a question such as "How many ... were ..." scores every English passage and
# drowns the dense signal in hybrid fusion.
BM25_STOP_WORDS = (
    _FUNCTION_WORDS_ZH
    | _FUNCTION_WORDS_EN
    | frozenset("有没有 及其 以及 就 至 but so such per can could would should".split())
)

# Question terms (answer scoring): also the words every question about a report uses (年度, 主要,
# 包括, total, number ...), which would otherwise reward any sentence that repeats them.
QUESTION_STOP_WORDS = _FUNCTION_WORDS_ZH | frozenset(
    """有 将 等 该 这 那 此 个 各 每 但 么 呀 哪一 哪里 甚么 几个 几项 几件 何 何时 一下 一共 总共 共 约
    大约 达 达到 多 少 有关 关于 相关 所 中 内 上 下 年 年度 今年 去年 那么 还有 另外 谁 哪位 情形 情况
    什么样 主要 包括 包含 可以 能 会 要 让 使 用 做 进行 透过 通过""".split()
)
QUESTION_STOP_WORDS_EN = _FUNCTION_WORDS_EN | frozenset(
    """has have had their they them share percentage proportion rank ranked number amount total give
    list s""".split()
)
# Characters of question words: a question bigram made of two of them (请问, 多少) is no evidence.
QUESTION_STOP_CHARS = frozenset(
    "的了是在和与及或有为于以对由被把将从到等之其该这那此个各每也都而并但吗呢吧啊么呀哪什多少几如何怎请问一年度"
)


@dataclass(frozen=True)
class Token:
    """A word of the original text: `text == original[start:end]`."""

    text: str
    start: int
    end: int


class _Jieba:
    """One quiet jieba tokenizer with the domain words, built on first use (~1 s)."""

    _lock = threading.Lock()
    _tokenizer: Any = None

    @classmethod
    def get(cls) -> Any:
        if cls._tokenizer is None:
            with cls._lock:
                if cls._tokenizer is None:
                    import jieba

                    # jieba announces its dictionary loading on stderr at DEBUG level.
                    jieba.setLogLevel(logging.WARNING)
                    tokenizer = jieba.Tokenizer()
                    tokenizer.initialize()
                    for word in DOMAIN_WORDS:
                        tokenizer.add_word(word, freq=200000)
                    cls._tokenizer = tokenizer
        return cls._tokenizer


def _spans(canonical: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of numbers, Latin words and jieba words in Simplified, folded text."""
    tokenizer = None
    for match in _SPANS.finditer(canonical):
        kind = match.lastgroup or ""
        if kind != "cjk":
            yield kind, match.start(), match.end()
            continue
        tokenizer = tokenizer or _Jieba.get()
        base = match.start()
        for _word, start, end in tokenizer.tokenize(match.group(), HMM=True):
            yield "cjk", base + start, base + end


def cjk_words(canonical: str) -> list[str]:
    """jieba words of a run of CJK text already in the canonical (Simplified) script."""
    return _Jieba.get().lcut(canonical, HMM=True) if canonical else []


def segment(text: str) -> list[Token]:
    """Word tokens with offsets into `text` itself (any script), for highlighting matched terms."""
    canonical = to_canonical_script(fold_width(text))
    return [Token(text[start:end], start, end) for _kind, start, end in _spans(canonical)]


def tokenize(text: str) -> list[str]:
    """Lexical-index tokens, the same for queries and passages.

    Simplified script, English lower-cased, numbers whole (1,517.4 and 98.15% are one token), jieba
    words plus the character bigrams of every CJK run (bigrams recover words jieba cut differently
    in the query and in the passage).
    """
    canonical = to_canonical_script(matching_text(text))
    tokens: list[str] = []
    for kind, start, end in _spans(canonical):
        piece = canonical[start:end]
        tokens.append(piece.lower() if kind == "word" else piece)
    for run in re.finditer(f"[{_CJK}]{{2,}}", canonical):
        chars = run.group()
        tokens.extend(chars[i : i + 2] for i in range(len(chars) - 1))
    return tokens
