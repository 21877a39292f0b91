"""Question terms, their matching in sentences, and the answer's localized frame.

Script folding, language detection, word segmentation and stop words come from the corpus layer
(corpus/normalize.py, corpus/segment.py), the same analysis the lexical index uses, so a question is
read exactly as the passages were indexed. Display text is never converted: quotes stay verbatim,
only the answer's own frame is written in the question's script.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from corpus.address import ADDRESS_WORDS
from corpus.normalize import compact_form, to_canonical_script
from corpus.normalize import detect_language as detect_language  # re-exported for the answerers
from corpus.segment import QUESTION_STOP_CHARS, QUESTION_STOP_WORDS, QUESTION_STOP_WORDS_EN, cjk_words
from corpus.types import Language as Language  # re-exported for the answerers

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified, the canonical script of matching; never used for display."""
    return to_canonical_script(text)


def to_simplified_frame(text: str) -> str:
    """Convert answer frame text (never quotes) to Simplified."""
    return to_canonical_script(text)


def matching_form(text: str) -> str:
    """Canonical text for matching: width-folded (NFKC), Simplified, lower-cased, whitespace removed."""
    return compact_form(text)


# ---------------------------------------------------------------------------------------------
# Question terms


@dataclass(frozen=True)
class Term:
    """One content unit of a question, in matching form."""

    text: str  # matching form (Simplified, lower-case, no whitespace)
    weight: float
    kind: Literal["cjk", "latin", "number"]
    aliases: tuple[str, ...] = ()  # other spellings that count as a match (ROC year <-> AD year)
    name: bool = False  # written with capitals in the question (NVIDIA, AI): a name, not a common word


def _year_aliases(number: str, followed_by_year: bool) -> tuple[str, ...]:
    """Taiwan reports count years from 1912 (民國): 113 年 is 2024."""
    if "," in number or "." in number:
        return ()
    value = int(number)
    if 1912 < value <= 2100:
        return (str(value - 1911),)
    if followed_by_year and 1 <= value <= 200:
        return (str(value + 1911),)
    return ()


def number_terms(text: str) -> list[Term]:
    """Numbers of a text as terms, with year aliases."""
    folded = unicodedata.normalize("NFKC", text)
    terms: list[Term] = []
    seen: set[str] = set()
    for match in _NUMBER.finditer(folded):
        number = match.group()
        if number in seen:
            continue
        seen.add(number)
        after = folded[match.end() : match.end() + 3].lstrip()
        aliases = _year_aliases(number, after.startswith(("年", "年度")))
        terms.append(Term(number, 2.0, "number", aliases))
    return terms


@lru_cache(maxsize=512)
def question_terms(question: str) -> tuple[Term, ...]:
    """Content terms of a question (jieba words, English words, numbers), each with a weight."""
    folded = unicodedata.normalize("NFKC", question)
    terms: list[Term] = number_terms(folded)
    seen = {t.text for t in terms}
    without_numbers = _NUMBER.sub(" ", folded)
    for word in _LATIN_WORD.findall(without_numbers):
        lowered = word.lower().strip("'-")
        if lowered.endswith("'s"):
            lowered = lowered[:-2]
        if len(lowered) < 2 or lowered in QUESTION_STOP_WORDS_EN or lowered in seen:
            continue
        seen.add(lowered)
        # Acronyms and names (AI, NVIDIA, TSMC) carry more information than common words.
        name = word.isupper() or word[0].isupper()
        terms.append(Term(lowered, 1.5 if name else 1.0, "latin", name=name))
    canonical = to_simplified(without_numbers)
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", canonical):
        # The index's tokenizer, domain words included: 國家科學及技術委員會 is one term, as in BM25.
        for word in cjk_words(run):
            if word in QUESTION_STOP_WORDS or word in seen:
                continue
            seen.add(word)
            weight = 0.5 if len(word) == 1 else min(1.0 + 0.25 * (len(word) - 2), 2.0)
            terms.append(Term(word, weight, "cjk"))
    return tuple(terms)


def cjk_bigrams(text: str) -> set[str]:
    """Character bigrams of the CJK runs of a matching-form text."""
    grams: set[str] = set()
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff]+", text):
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def question_bigrams(question: str) -> set[str]:
    """CJK bigrams of the question that are not made of function words only."""
    grams = cjk_bigrams(matching_form(question))
    return {g for g in grams if not (g[0] in QUESTION_STOP_CHARS and g[1] in QUESTION_STOP_CHARS)}


def term_found(term: Term, matching_text: str, latin_words: frozenset[str]) -> bool:
    """Whether a term occurs in a text given in matching form (and its set of Latin words)."""
    if term.kind == "latin":
        return term.text in latin_words or (len(term.text) > 4 and term.text in matching_text)
    if term.kind == "number":
        return any(_number_in(n, matching_text) for n in (term.text, *term.aliases))
    return term.text in matching_text


def _number_in(number: str, text: str) -> bool:
    # A number matches only as a whole number: 13 must not match inside 113 or 1,317.
    pattern = rf"(?<![\d.,]){re.escape(number)}(?![\d]|[.,]\d)"
    return re.search(pattern, text) is not None


def latin_word_set(text: str) -> frozenset[str]:
    words = set()
    for word in _LATIN_WORD.findall(unicodedata.normalize("NFKC", text)):
        lowered = word.lower().strip("'-")
        words.add(lowered[:-2] if lowered.endswith("'s") else lowered)
        if lowered.endswith("s") and len(lowered) > 3:
            words.add(lowered[:-1])
    return frozenset(words)


def is_cjk_text(text: str) -> bool:
    """Whether a passage or sentence is mainly Chinese."""
    cjk = len(_CJK.findall(text))
    return cjk > 0 and cjk >= len(_LATIN_WORD.findall(text))


# A Chinese question about the reports' English text (英文執行摘要中…, …譯為什麼名稱), in canonical
# script; an English question about their Chinese text ("the Chinese name of …").
_ASKS_ENGLISH_TEXT = re.compile(
    r"英文(?:版|本|执行摘要|摘要|报告|内容|部分|名称|名字|全名|译名|怎么)|英译|(?:翻)?译(?:为|成|作)(?:什么|何)"
)
_ASKS_CHINESE_TEXT = re.compile(
    r"\bChinese\s+(?:version|text|summary|report|name|title|term)s?\b|\bin\s+Chinese\b", re.IGNORECASE
)


def asked_scripts(question: str) -> tuple[str, ...]:
    """The scripts of the passages a question asks about when it names the other language's text
    (「英文執行摘要中…」 -> English ones); empty when it does not, and any passage may answer."""
    if detect_language(question) == "en":
        return ("zh-Hant", "zh-Hans", "mixed") if _ASKS_CHINESE_TEXT.search(question) else ()
    return ("en",) if _ASKS_ENGLISH_TEXT.search(to_canonical_script(question)) else ()


# ---------------------------------------------------------------------------------------------
# Localized fixed strings


@dataclass(frozen=True)
class Messages:
    """The answer frame in one language; placeholders are filled by the answerer."""

    abstain: str
    according_to: str  # {title} {address} {n} {quote}
    figure_from_column: str  # {figure} {column} {row} {n}
    quoted_figure: str  # {figure} {n}
    page: str  # {label}   (the address templates of corpus/address.py)
    line: str  # {line}
    lines: str  # {first} {last}
    # Abstentions that name a condition of the question (qa/conditions.py):
    not_stated_figure: str  # {asked} {stated} {fact}: another year/country/agency has the figure
    not_stated: str  # {asked} {stated} {fact}: the same, for a statement rather than a figure
    not_mentioned: str  # {asked}: none of the passages considered names it
    conflicting_years: str  # {first} {second}
    only_conditions: str  # {conditions}: the question names only a year, a place ...


_MESSAGES: dict[Language, Messages] = {
    "zh-Hant": Messages(
        abstain="報告中沒有找到相關資訊",
        according_to="根據《{title}》（{address}）[{n}]：「{quote}」",
        figure_from_column="{figure}（欄位「{column}」，列「{row}」）[{n}]",
        quoted_figure="「{figure}」[{n}]",
        page=ADDRESS_WORDS["zh-Hant"].page,
        line=ADDRESS_WORDS["zh-Hant"].line,
        lines=ADDRESS_WORDS["zh-Hant"].lines,
        not_stated_figure="報告中沒有{asked}的數字；報告列出的是{stated}：{fact}",
        not_stated="報告中沒有關於{asked}的資料；報告提到的是{stated}：{fact}",
        not_mentioned="報告中沒有找到相關資訊：找到的段落都沒有提到{asked}。",
        conflicting_years="問題同時指定了{first}與{second}兩個不同的年份；請只問其中一個年份。",
        only_conditions="問題只指定了{conditions}，沒有說明要查詢什麼；請補充要問的內容。",
    ),
    "zh-Hans": Messages(
        abstain="报告中没有找到相关信息",
        according_to="根据《{title}》（{address}）[{n}]：「{quote}」",
        figure_from_column="「{figure}」（栏位「{column}」，行「{row}」）[{n}]",
        quoted_figure="「{figure}」[{n}]",
        page=ADDRESS_WORDS["zh-Hans"].page,
        line=ADDRESS_WORDS["zh-Hans"].line,
        lines=ADDRESS_WORDS["zh-Hans"].lines,
        not_stated_figure="报告中没有{asked}的数字；报告列出的是{stated}：{fact}",
        not_stated="报告中没有关于{asked}的资料；报告提到的是{stated}：{fact}",
        not_mentioned="报告中没有找到相关信息：找到的段落都没有提到{asked}。",
        conflicting_years="问题同时指定了{first}与{second}两个不同的年份；请只问其中一个年份。",
        only_conditions="问题只指定了{conditions}，没有说明要查询什么；请补充要问的内容。",
    ),
    "en": Messages(
        abstain="The reports do not contain information about this.",
        according_to="According to {title} ({address}) [{n}]: 「{quote}」",
        figure_from_column="{figure} (column 「{column}」, row 「{row}」) [{n}]",
        quoted_figure="「{figure}」 [{n}]",
        page=ADDRESS_WORDS["en"].page,
        line=ADDRESS_WORDS["en"].line,
        lines=ADDRESS_WORDS["en"].lines,
        not_stated_figure="The reports give no figure for {asked}; they give one for {stated}: {fact}",
        not_stated="The reports say nothing about {asked}; they speak of {stated}: {fact}",
        not_mentioned=(
            "The reports do not contain information about this: none of the passages found mention {asked}."
        ),
        conflicting_years=(
            "The question names two different years, {first} and {second}; please ask about one."
        ),
        only_conditions="The question only names {conditions}; please say what you would like to know.",
    ),
}


def messages(language: Language) -> Messages:
    return _MESSAGES[language]
