"""Bilingual names the reports define themselves: 全時約當數 (Full Time Equivalent, FTE).

Chinese reports introduce English names and abbreviations in brackets right after the Chinese
name. Those pairs are better translations than any dictionary for the reports' own terms, so the
index keeps them (a per-index glossary) and English questions are expanded with them.

Where the Chinese name starts is not marked; it is taken back from the bracket word by word
(jieba), as many words as the English side has words (or an abbreviation has letters), stopping
at punctuation and at words that join a name to the sentence around it (的, 占, 在 ...).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from corpus.normalize import fold_width, to_canonical_script
from corpus.segment import cjk_words

_PAIR = re.compile(r"([\u3400-\u9fff]{2,})\s*[（(]\s*([A-Za-z][A-Za-z0-9 ,.&'/+-]{0,80}?)\s*[)）]")
_ABBREVIATION = re.compile(r"^[A-Z][A-Za-z0-9&+-]{1,9}$")
_ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z']*")  # full-time = full time
# Words that tie a name into its sentence; a name never starts with one of these (canonical script).
_JOINERS = frozenset(
    """的 之 占 在 为 是 对 由 于 将 以 其 等 与其 透过 通过 推动 结合 包括 如 即 及其 并 或 从 向 让
    使 经 达 有 采用 运用 依据 根据 建立 成立 设立 完成 提供 称 简称 荣获 促成 导入 串联 积极 能够""".split()
)
# Single-character words that may sit inside a name without counting as one of its words.
_INNER = frozenset("及与和之")
MAX_NAME_CHARS = 16
MAX_NAMES_PER_KEY = 3


@dataclass(frozen=True)
class NamePair:
    english: str  # as written: "Full Time Equivalent" or "FTE"
    chinese: str  # as written in the report (display script)


def _english_size(english: str) -> int:
    if _ABBREVIATION.match(english) and sum(ch.isupper() for ch in english) >= 2:
        return sum(ch.isupper() for ch in english)
    return len(_ENGLISH_WORD.findall(english))


def _name_before(run: str, words_wanted: int) -> str:
    """The last `words_wanted` words of `run` (display script), not crossing a joining word."""
    canonical = to_canonical_script(run)
    words = cjk_words(canonical)
    taken, counted = 0, 0
    for word in reversed(words):
        if word in _JOINERS:
            break
        if taken + len(word) > MAX_NAME_CHARS:
            break
        taken += len(word)
        if word not in _INNER:
            counted += 1
        if counted >= words_wanted:
            break
    name = run[len(run) - taken :]
    while name and name[0] in _INNER:  # 及 or 與 left at the start belongs to the sentence
        name = name[1:]
    return name


def mine_pairs(text: str) -> list[NamePair]:
    """Every (English, Chinese) name pair defined in `text`, in order of appearance."""
    pairs: list[NamePair] = []
    for match in _PAIR.finditer(fold_width(text)):
        run, inside = match.group(1), match.group(2).strip(" ,.")
        parts = [p.strip() for p in inside.split(",") if p.strip()]
        if not parts or not any(len(_ENGLISH_WORD.findall(p)) for p in parts):
            continue
        # The bracket's longest part decides how long the Chinese name is: "Full Time Equivalent".
        size = max(_english_size(p) for p in parts)
        if size < 1:
            continue
        chinese = _name_before(run, size)
        if len(chinese) < 2:
            continue
        for part in parts:
            if len(_ENGLISH_WORD.findall(part)) == 0 or len(part) < 2:
                continue
            pairs.append(NamePair(english=part, chinese=chinese))
    return pairs


def _key(english: str) -> str:
    return " ".join(w.lower() for w in _ENGLISH_WORD.findall(english))


def build_glossary(texts: Iterable[str]) -> dict[str, list[str]]:
    """English key (lower-case words) -> Chinese names, the most often defined first."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        for pair in mine_pairs(text):
            key = _key(pair.english)
            if key:
                counts[key][pair.chinese] += 1
    ranked = {key: names.most_common(MAX_NAMES_PER_KEY) for key, names in sorted(counts.items())}
    return {key: [name for name, _ in names] for key, names in ranked.items()}


def names_in_question(question: str, glossary: dict[str, list[str]]) -> list[str]:
    """Chinese names whose English key occurs in the question as whole words."""
    words = [w.lower() for w in _ENGLISH_WORD.findall(question)]
    found: list[str] = []
    for n in range(min(8, len(words)), 0, -1):
        for i in range(len(words) - n + 1):
            names = glossary.get(" ".join(words[i : i + n]))
            if names:
                found.extend(names)
    return list(dict.fromkeys(found))
