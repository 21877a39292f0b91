"""The conditions a question puts on its answer, and whether an answer's evidence meets them.

「日本 2018 年研發經費占 GDP 比率是多少？」 asks for a figure under three conditions: the place
(日本), the year (2018) and the measure. An answer sentence that states Taiwan's 2023 share is
related but wrong: its row names another country and its header other years. This module extracts
the conditions (time, organisation, place, programme, qualifier) and checks each against the
evidence of one answer candidate: the sentence (or a table row with its caption and header), the
chunk's section path and the chunk itself.

Matching is done on a length-preserving canonical copy (half-width, Simplified, ASCII lower-case) so
that a 简体 question meets 繁體 evidence and the evidence quoted back stays verbatim.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from corpus.normalize import fold_width, to_canonical_script
from corpus.segment import DOMAIN_WORDS, cjk_words, segment
from qa.figures import is_figure_question
from qa.types import ConditionResult

ConditionKind = Literal["time", "organisation", "place", "programme", "qualifier"]
Status = Literal["met", "missing", "contradicted"]

# A question naming more conditions than this is a pasted text rather than a question: only the
# first ones are kept, so a wall of text cannot demand dozens of years at once.
MAX_CONDITIONS = 8

# ROC years plausible in reports (民國 60-150 = 1971-2061): 「近 10 年」「連續 41 年」 are durations.
_ROC_MIN, _ROC_MAX = 60, 150


@dataclass(frozen=True)
class Condition:
    """One condition of a question: `text` is as written in the question."""

    text: str
    kind: ConditionKind
    years: frozenset[int] = frozenset()  # time: AD years covered (民國 113 年 -> 2024)
    roc: bool = False  # time: written in the ROC calendar (113 年度)
    forms: tuple[str, ...] = ()  # canonical spellings that state the condition (aliases included)
    # place: the spellings of the question's other places, which a sentence may name beside this one
    companions: tuple[str, ...] = ()
    opposites: tuple[str, ...] = ()  # qualifier: canonical spellings that state the opposite
    home: bool = False  # place: Taiwan itself (我國, 臺灣), which the reports often leave implicit
    locality: bool = False  # place: a city or county rather than a country
    required: bool = True  # False for a comparison's reference year (較 112 年度)
    strict: bool = True  # absent from the evidence means unsupported (names), not just unstated
    # programme: a Latin name the retrieved passages write as is, even in Chinese text (AgePass), so
    # evidence in either script can be held to it
    written_as_is: bool = False


@dataclass(frozen=True)
class Evidence:
    """The text an answer candidate stands on, from the narrowest to the widest scope."""

    unit: str  # the sentence, or a table row with its caption and header
    section: str = ""  # the chunk's section path, joined
    passage: str = ""  # the chunk's text
    title: str = ""  # the document's title (often names the report's year)
    label: str = ""  # table rows: the row label (first cell)
    column: str = ""  # table rows: the header of the column the figure was taken from
    caption: str = ""  # table rows: the caption line above the table
    cross_script: bool = False  # English question on Chinese text, or the reverse


# ---------------------------------------------------------------------------------------------
# Canonical text


def canonical(text: str) -> str:
    """Half-width, Simplified, ASCII lower-case copy of `text` with the same length (offsets hold)."""
    folded = to_canonical_script(fold_width(text))
    lowered = folded.lower()
    return lowered if len(lowered) == len(folded) else folded


def _find(form: str, text: str, canon: str) -> str | None:
    """The verbatim words of `text` that spell `form` (canonical), or None."""
    if _is_latin(form):
        # Acronyms (US, UK, EU) keep their case: "us" is a pronoun. fold_width keeps offsets.
        flags = 0 if form.isupper() or form in _iso_places()[1] else re.IGNORECASE
        pattern = rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])"
        match = re.search(pattern, fold_width(text), flags)
        return text[match.start() : match.end()] if match else None
    at = canon.find(form)
    return text[at : at + len(form)] if at >= 0 else None


def _is_latin(form: str) -> bool:
    return form.isascii()


# ---------------------------------------------------------------------------------------------
# Time


_AD = r"(?:19|20)\d\d"
_YEAR_RANGE = re.compile(
    rf"(?<!\d)(?<!\d[.,])(?P<a>{_AD}|\d{{2,3}})\s?(?P<ya>年度|年)?\s?(?:-|–|~|～|至|到|to|through)\s?"
    rf"(?P<b>{_AD}|\d{{2,3}})(?![\d.,]\d)\s?(?P<yb>年度|年)?",
    re.IGNORECASE,
)
_AD_YEAR = re.compile(rf"(?<![\d$])(?<!\d[.,])({_AD})(?![\d.,]?\d|\s?(?:億|亿|萬|万|元|人|件|%|名|kWh))")
_ROC_YEAR = re.compile(
    r"(?<!\d)(?<!\d[.,])(?:民國\s?|民国\s?)?(\d{2,3})\s?(年度|年)(?!來|来|內|内|間|间|多|以上|後|后)"
)
_DURATION_BEFORE = re.compile(r"(?:近|連續|连续|過去|过去|超過|超过|長達|长达|每|約|约|共)\s?$")
# A year after these words is the reference of a comparison (較 112 年度成長), not the one asked.
_COMPARED = re.compile(
    r"(?:較|较|比|相較於?|相较于?|相比|than|compared (?:with|to)|over|versus|vs\.?)\s?$", re.I
)


@dataclass(frozen=True)
class _YearMention:
    text: str
    start: int
    end: int
    years: frozenset[int]
    roc: bool


def _roc_year(value: int) -> int | None:
    return value + 1911 if _ROC_MIN <= value <= _ROC_MAX else None


def _endpoint(number: str, roc_marked: bool) -> int | None:
    value = int(number)
    if len(number) == 4:
        return value if 1900 <= value <= 2099 else None
    return _roc_year(value) if roc_marked else None


def year_mentions(text: str) -> list[_YearMention]:
    """Years and year ranges of a text, left to right, as AD years (113 年 -> 2024)."""
    folded = fold_width(text)
    found: list[_YearMention] = []
    taken: list[tuple[int, int]] = []
    for match in _YEAR_RANGE.finditer(folded):
        roc = bool(match.group("ya") or match.group("yb")) and len(match.group("a")) < 4
        first, last = _endpoint(match.group("a"), roc), _endpoint(match.group("b"), roc)
        if first is None or last is None or not 0 < last - first <= 50:
            continue
        found.append(_mention(text, match.start(), match.end(), frozenset(range(first, last + 1)), roc))
        taken.append(match.span())
    for pattern, roc in ((_AD_YEAR, False), (_ROC_YEAR, True)):
        for match in pattern.finditer(folded):
            if any(s <= match.start() < e for s, e in taken):
                continue
            if roc and _DURATION_BEFORE.search(folded[max(0, match.start() - 3) : match.start()]):
                continue
            year = _roc_year(int(match.group(1))) if roc else int(match.group(1))
            if year is None:
                continue
            found.append(_mention(text, match.start(), match.end(), frozenset({year}), roc))
            taken.append(match.span())
    return sorted(found, key=lambda m: m.start)


def _mention(text: str, start: int, end: int, years: frozenset[int], roc: bool) -> _YearMention:
    while end > start and text[end - 1].isspace():
        end -= 1
    return _YearMention(text[start:end], start, end, years, roc)


def _time_conditions(question: str) -> list[Condition]:
    conditions = []
    for mention in year_mentions(question):
        before = fold_width(question[max(0, mention.start - 16) : mention.start])
        conditions.append(
            Condition(
                mention.text,
                "time",
                years=mention.years,
                roc=mention.roc,
                required=not _COMPARED.search(before),
                strict=False,
            )
        )
    return conditions


# ---------------------------------------------------------------------------------------------
# Places

# Each entry: the spellings of one country or region (Traditional, Simplified, English) that the
# ISO list below lacks (short forms: 南韓, 澳洲, US) or that it must not split. The first entry is
# Taiwan, the reports' own country. Upper-case Latin forms are matched case-sensitively.
_SHORT_FORMS: tuple[tuple[str, ...], ...] = (
    ("我國", "我国", "臺灣", "台灣", "台湾", "本國", "本国", "Taiwan", "R.O.C."),
    ("美國", "美国", "United States", "U.S.", "USA", "US", "America"),
    ("中國大陸", "中国大陆", "中國", "中国", "大陸", "大陆", "China"),
    ("日本", "Japan"),
    ("南韓", "南韩", "韓國", "韩国", "South Korea", "Korea"),
    ("德國", "德国", "Germany"),
    ("英國", "英国", "United Kingdom", "Britain", "UK"),
    ("法國", "法国", "France"),
    ("加拿大", "Canada"),
    ("以色列", "Israel"),
    ("荷蘭", "荷兰", "Netherlands"),
    ("瑞典", "Sweden"),
    ("丹麥", "丹麦", "Denmark"),
    ("芬蘭", "芬兰", "Finland"),
    ("瑞士", "Switzerland"),
    ("挪威", "Norway"),
    ("義大利", "意大利", "Italy"),
    ("西班牙", "Spain"),
    ("波蘭", "波兰", "Poland"),
    ("歐盟", "欧盟", "European Union", "EU"),
    ("俄羅斯", "俄罗斯", "Russia"),
    ("新加坡", "Singapore"),
    ("香港", "Hong Kong"),
    ("越南", "Vietnam", "Viet Nam"),
    ("泰國", "泰国", "Thailand"),
    ("馬來西亞", "马来西亚", "Malaysia"),
    ("印尼", "印度尼西亞", "印度尼西亚", "Indonesia"),
    ("菲律賓", "菲律宾", "Philippines"),
    ("印度", "India"),
    ("澳洲", "澳大利亞", "澳大利亚", "Australia"),
    ("紐西蘭", "新西兰", "New Zealand"),
    ("阿聯", "阿联", "阿聯酋", "阿联酋", "UAE"),
)


@lru_cache(maxsize=1)
def _iso_places() -> tuple[tuple[tuple[str, ...], ...], frozenset[str]]:
    """Every country of ISO 3166-1 (pycountry) under its English, Traditional and Simplified names,
    merged into the short forms' groups where they share a spelling, and the Latin spellings that
    only the ISO list gives (matched with their case: "Chad", "Jordan", "Turkey" are also words)."""
    import gettext

    import pycountry

    translations = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
        for lang in ("zh_TW", "zh_CN")
    ]
    groups = [list(forms) for forms in _SHORT_FORMS]
    owner = {form: g for g, forms in enumerate(_SHORT_FORMS) for form in forms}
    cased: set[str] = set()
    for country in pycountry.countries:
        english = [getattr(country, a, None) for a in ("common_name", "name")]
        latin = [n for n in dict.fromkeys(english) if n and "," not in n and "(" not in n]
        chinese = [t.gettext(country.name) for t in translations]
        chinese = [n for n in dict.fromkeys(chinese) if n != country.name and 2 <= len(n) <= 12]
        forms = [*latin, *chinese]
        g = next((owner[f] for f in forms if f in owner), None)
        if g is None:
            g = len(groups)
            groups.append([])
        for form in forms:
            if form in owner:
                continue
            owner[form] = g
            groups[g].append(form)
            if form in latin:
                cased.add(form)
    return tuple(tuple(forms) for forms in groups), frozenset(cased)


def _places() -> tuple[tuple[str, ...], ...]:
    return _iso_places()[0]


@lru_cache(maxsize=1)
def _short_forms() -> frozenset[str]:
    return frozenset(canonical(form) for forms in _SHORT_FORMS for form in forms)


_GENERIC_LOCALITIES = frozenset(
    {"县市", "城市", "都市", "直辖市", "各县市", "超市", "夜市", "市县", "全市", "本市", "该市"}
)
_EN_LOCALITY = re.compile(r"\b([A-Z][a-z]+(?:\s[A-Z][a-z]+)?)\s(County|City)\b")


@dataclass(frozen=True)
class _PlaceName:
    group: int  # index into _places()
    text: str  # verbatim
    start: int
    end: int


@lru_cache(maxsize=1)
def _place_matchers() -> tuple[tuple[re.Pattern[str], bool, dict[str, int]], ...]:
    """(pattern, latin, group of each spelling): one alternation per kind of spelling, longest
    first (印度尼西亞 before 印度), so a text is scanned three times, not once per spelling."""
    cjk: dict[str, int] = {}
    uncased: dict[str, int] = {}
    cased: dict[str, int] = {}
    for group, forms in enumerate(_places()):
        for form in forms:
            if not _is_latin(form):
                cjk.setdefault(canonical(form), group)
            elif form.isupper() or form in _iso_places()[1]:
                cased.setdefault(form, group)
            else:
                uncased.setdefault(form.lower(), group)

    def either(forms: dict[str, int]) -> str:
        return "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))

    # A currency is not a place: "US$ millions", "US dollars", "S$" name no country to check.
    latin = r"(?<![A-Za-z.])(?:{})(?![A-Za-z$])(?!\s*dollars?\b)"
    return (
        (re.compile(either(cjk)), False, cjk),
        (re.compile(latin.format(either(uncased)), re.IGNORECASE), True, uncased),
        (re.compile(latin.format(either(cased))), True, cased),
    )


def _whole_words(canon: str, start: int, end: int) -> bool:
    """Whether canon[start:end] is made of whole jieba words: 「海地」 in 「沿海地區」 is not Haiti."""
    lo, hi = max(0, start - 6), min(len(canon), end + 6)
    offset = lo
    for word in cjk_words(canon[lo:hi]):
        left, right = offset, offset + len(word)
        offset = right
        if left < start < right or left < end < right:
            return False
    return True


# "South America" and "Central Europe" are regions, not the country whose name they contain;
# 「荷蘭語」 names a language.
_REGION_BEFORE = re.compile(r"\b(?:north|south|east|west|central|latin)\s+$", re.IGNORECASE)
_LANGUAGE_AFTER = ("語", "语")


def _names_no_country(text: str, match: re.Match[str], latin: bool) -> bool:
    if latin:
        return _REGION_BEFORE.search(text, max(0, match.start() - 10), match.start()) is not None
    return text.startswith(_LANGUAGE_AFTER, match.end())


def places_in(text: str) -> list[_PlaceName]:
    """Countries and regions a text names (without overlaps), left to right."""
    canon = canonical(text)
    folded = fold_width(text)
    found: list[_PlaceName] = []
    short = _short_forms()
    for pattern, latin, groups in _place_matchers():
        for match in pattern.finditer(folded if latin else canon):
            if any(p.start < match.end() and match.start() < p.end for p in found):
                continue
            if not latin and match.group() not in short and not _whole_words(canon, *match.span()):
                continue
            if _names_no_country(folded if latin else canon, match, latin):
                continue
            # The case-blind alternation's spellings are keyed lower-cased, the others as written.
            group = groups[match.group().lower() if pattern.flags & re.IGNORECASE else match.group()]
            found.append(_PlaceName(group, text[match.start() : match.end()], match.start(), match.end()))
    return sorted(found, key=lambda p: p.start)


@lru_cache(maxsize=64)
def _place_forms(group: int) -> tuple[str, ...]:
    return tuple(dict.fromkeys(canonical(form) if not _is_latin(form) else form for form in _places()[group]))


def _place_conditions(question: str) -> list[Condition]:
    conditions: list[Condition] = []
    seen: set[int] = set()
    for place in places_in(question):
        if place.group in seen:
            continue
        seen.add(place.group)
        conditions.append(
            Condition(place.text, "place", forms=_place_forms(place.group), home=place.group == 0)
        )
    canon = canonical(question)
    for token in segment(question):
        word = canon[token.start : token.end]
        if (
            len(word) >= 3
            and word.endswith(("市", "县"))
            and word not in _GENERIC_LOCALITIES
            and not word.startswith(("各", "全", "本"))
        ):
            conditions.append(Condition(token.text, "place", forms=(word,), locality=True))
    for match in _EN_LOCALITY.finditer(question):
        conditions.append(Condition(match.group(0), "place", forms=(match.group(0).lower(),), locality=True))
    # 「喬治亞與俄羅斯聯邦的邊界」: a sentence naming the question's other place is not about another.
    every = tuple(f for c in conditions for f in c.forms)
    return [
        dataclasses.replace(c, companions=tuple(f for f in every if f not in c.forms)) for c in conditions
    ]


# ---------------------------------------------------------------------------------------------
# Organisations

_AGENCY_SUFFIXES = ("部", "院", "署", "局", "委员会", "会")
_GENERIC_AGENCIES = frozenset(
    "部会 部会署 各部会署 各部会 委员会 研究院 管理局 主管机关 本部 全部 内部 外部 学院 医院 法院 大学院 "
    "总会 协会 学会 公会 工会 理事会 大会 研讨会 博览会 展览会 说明会 座谈会 国际会 年会 峰会".split()
)


@dataclass(frozen=True)
class _Agency:
    names: tuple[str, ...]  # canonical Chinese: the full name first, then its short names
    english: tuple[str, ...]  # as written: "Ministry of Education", "NSTC"


@lru_cache(maxsize=1)
def _agency_table() -> tuple[_Agency, ...]:
    """Central government bodies under their Chinese and English names (qa/data/agencies.tsv)."""
    from importlib import resources

    text = resources.files("qa").joinpath("data/agencies.tsv").read_text(encoding="utf-8")
    table = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        full, short, english = [*line.split("\t"), "", ""][:3]
        names = [canonical(n) for n in [full, *short.split("|")] if n]
        table.append(_Agency(tuple(dict.fromkeys(names)), tuple(e for e in english.split("|") if e)))
    return tuple(table)


@lru_cache(maxsize=1)
def _alias_groups() -> dict[str, tuple[str, ...]]:
    """Every known agency spelling -> all spellings of that agency."""
    groups: dict[str, tuple[str, ...]] = {}
    for agency in _agency_table():
        for name in agency.names:
            groups[name] = agency.names
    return groups


@lru_cache(maxsize=1)
def _known_agencies() -> tuple[str, ...]:
    names = {w for w in DOMAIN_WORDS if w.endswith(_AGENCY_SUFFIXES)} | set(_alias_groups())
    return tuple(sorted(names, key=len, reverse=True))


def _is_agency_word(word: str) -> bool:
    return (
        len(word) >= 3
        and word.endswith(_AGENCY_SUFFIXES)
        and word not in _GENERIC_AGENCIES
        # 各部會, 本部, 哪一個部會: a determiner or numeral before the suffix makes no name.
        and not word.startswith(
            ("各", "该", "本", "其", "全", "两", "三", "多", "部会", "一", "哪", "几", "每", "这", "那", "某")
        )
        and word[-2:] not in ("大会", "年会", "展会", "学会", "协会", "公会", "工会", "商会", "议会")
    )


def agencies_in(text: str) -> list[tuple[str, int, int]]:
    """Agency names a text states, as (canonical name, start, end), left to right."""
    canon = canonical(text)
    found: list[tuple[str, int, int]] = []
    for name in _known_agencies():
        for match in re.finditer(re.escape(name), canon):
            if not any(s < match.end() and match.start() < e for _, s, e in found):
                found.append((name, match.start(), match.end()))
    for start, end in _agency_spans(text):
        word = canon[start:end]
        if _is_agency_word(word) and not any(s < end and start < e for _, s, e in found):
            found.append((word, start, end))
    return sorted(found, key=lambda f: f[1])


def _agency_spans(text: str) -> list[tuple[int, int]]:
    """Word spans, with a lone suffix joined to the word before it (jieba cuts 氣象署 as 氣象/署)."""
    spans: list[tuple[int, int]] = []
    for token in segment(text):
        glued = spans and spans[-1][1] == token.start and spans[-1][1] - spans[-1][0] >= 2
        if glued and canonical(token.text) in ("署", "局", "部", "院"):
            spans[-1] = (spans[-1][0], token.end)
        else:
            spans.append((token.start, token.end))
    return spans


def _pairs_in(canon: str) -> dict[str, str]:
    """The text's own long/short name pairs: 國家科學及技術委員會（以下簡稱國科會）."""
    pairs: dict[str, str] = {}
    for match in re.finditer(
        r"([\u4e00-\u9fff]{3,20})\s?[（(]\s?(?:以下)?简称\s?[「“]?([\u4e00-\u9fff]{2,8})", canon
    ):
        pairs[match.group(2)] = match.group(1)
        pairs[match.group(1)] = match.group(2)
    return pairs


@lru_cache(maxsize=1)
def _english_agencies() -> tuple[re.Pattern[str], dict[str, _Agency]]:
    """One pattern for every English agency name (longest first) and the agency of each, lower-cased.
    Acronyms match with their case (NCC, FSC); names without it ("ministry of education")."""
    by_name = {e.lower(): a for a in _agency_table() for e in a.english}
    names = sorted({e for a in _agency_table() for e in a.english}, key=len, reverse=True)
    either = "|".join(re.escape(n) if n.isupper() else f"(?i:{re.escape(n)})" for n in names)
    return re.compile(rf"(?<![A-Za-z])(?:{either})(?![A-Za-z])"), by_name


def agency_names(name: str) -> tuple[str, ...]:
    """All Chinese names (canonical) of the agency one of whose names is `name`."""
    return _alias_groups().get(name, (name,))


def english_agencies_in(text: str) -> list[tuple[str, int, int]]:
    """Agencies an English text names, as (the full Chinese name, start, end), left to right."""
    pattern, by_name = _english_agencies()
    return [(by_name[m.group().lower()].names[0], m.start(), m.end()) for m in pattern.finditer(text)]


def _organisation_conditions(question: str) -> list[Condition]:
    conditions = []
    seen: set[str] = set()
    english = {a.names[0]: a.english for a in _agency_table()}
    for name, start, end in sorted(
        [*agencies_in(question), *english_agencies_in(question)], key=lambda f: f[1]
    ):
        forms = _alias_groups().get(name, (name,))
        if seen & set(forms):
            continue
        seen.update(forms)
        # The English names count too: the reports' English summary names agencies in English.
        latin = tuple(e.lower() for e in english.get(forms[0], ()) if not e.isupper())
        conditions.append(Condition(question[start:end], "organisation", forms=(*forms, *latin)))
    return conditions


# ---------------------------------------------------------------------------------------------
# Programmes and indexes

_QUOTED = re.compile(r"[「『“\"《]([^」』”\"》]{2,40})[」』”\"》]")
_ACRONYM = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Z0-9&]{2,})(?:s)?(?![A-Za-z0-9])")
# A Chinese name with the acronym in brackets right after it: 「產業創新平台（TIIP）」.
_NAMED_BEFORE = re.compile(r"([\u4e00-\u9fff]{3,})\s*[（(]\s*$")
# Upper-case words that are units or measures, not programmes or indexes.
_NOT_PROGRAMMES = frozenset(
    {"GDP", "USD", "NTD", "TWD", "PPP", "FTE", "CEO", "R&D", "AND", "THE", "WHAT", "HOW"}
)


# An English name of two or more capitalised words ("Taiwan Startup Stadium", "TW FidO"), with
# "of", "and", "for" inside it; the words that open a question are not part of one.
_EN_NAME = re.compile(
    r"(?<![A-Za-z0-9'])[A-Z][A-Za-z0-9-]*(?:\s+(?:(?:of|and|for)\s+)?[A-Z0-9][A-Za-z0-9-]*)+(?![A-Za-z0-9])"
)
_EN_OPENERS = frozenset(
    "What How Which Who Whom Whose When Where Why Did Does Do Is Are Was Were In By The Of For Under "
    "According To At On From Since Over Across Among Between Has Have Had Can Could Will".split()
)


def _english_names(question: str) -> list[tuple[str, int, int]]:
    """Names of two or more capitalised words an English question uses, as (name, start, end)."""
    if _has_cjk(question):
        return []
    taken = [(a, b) for _, a, b in english_agencies_in(question)]
    taken += [(p.start, p.end) for p in places_in(question) if " " in p.text]
    names = []
    for match in _EN_NAME.finditer(question):
        words = [w for w in re.finditer(r"\S+", match.group())]
        while words and words[0].group() in _EN_OPENERS:
            words.pop(0)
        start = match.start() + words[0].start() if words else match.end()
        if len(words) < 2 or any(a < match.end() and start < b for a, b in taken):
            continue
        names.append((question[start : match.end()], start, match.end()))
    return names


_CAMEL = re.compile(r"(?<![A-Za-z0-9])([A-Z][a-z]+[A-Z][A-Za-z0-9]+)(?![A-Za-z0-9])")


def _programme_conditions(question: str) -> list[Condition]:
    conditions = []
    for match in _QUOTED.finditer(question):
        name = match.group(1).strip()
        conditions.append(Condition(name, "programme", forms=(re.sub(r"\s", "", canonical(name)),)))
    quoted = " ".join(c.text for c in conditions)
    for match in _ACRONYM.finditer(question):
        word = match.group(1)
        if word in _NOT_PROGRAMMES or word in quoted:
            continue
        named = _NAMED_BEFORE.search(question[: match.start()])
        if named is not None:
            # 「臺灣網際網路交換中心 (TWIX)」: the question spells the name out itself, so the evidence
            # must state it in one of the two forms; a neighbouring centre's figure is not its figure.
            forms = (word.lower(), re.sub(r"\s", "", canonical(named.group(1))))
            conditions.append(Condition(word, "programme", forms=forms))
            continue
        # Acronyms are often spelled out or translated in the reports: stating them is not required.
        conditions.append(Condition(word, "programme", forms=(word.lower(),), strict=False))
    for match in _CAMEL.finditer(question):
        word = match.group(1)
        if not any(word in c.text for c in conditions):
            # A brand written in one word (AgePass, MyData) keeps its spelling in Chinese text too.
            conditions.append(Condition(word, "programme", forms=(word.lower(),)))
    for name, start, end in _english_names(question):
        conditions = [c for c in conditions if c.text not in name]  # IMD inside its full name
        # English evidence must state the name (a plural or possessive may follow); Chinese evidence
        # cannot be held to an English spelling, so there it stays unverified.
        form = re.sub(r"\s", "", name.lower())
        form = form if form.endswith("ss") else form.removesuffix("s")
        conditions.append(Condition(question[start:end], "programme", forms=(form,)))
    return conditions


# ---------------------------------------------------------------------------------------------
# Qualifiers whose opposite changes the answer


@dataclass(frozen=True)
class _Qualifier:
    forms: tuple[str, ...]  # canonical: Simplified Chinese, lower-case English
    opposites: tuple[str, ...]
    # A subset of the whole (偏鄉, one year's new cases) is named wherever it is meant: a sentence
    # that does not name it speaks of the whole. 累計 or 實際 often go unsaid.
    strict: bool = False
    # Only a figure has a target or an achieved value: 「主要目標是？」 asks what the aim is.
    figures_only: bool = False


_QUALIFIERS: tuple[_Qualifier, ...] = (
    _Qualifier(("非偏乡", "non-remote", "outside remote"), ("偏乡", "remote area", "rural"), strict=True),
    _Qualifier(("偏乡", "remote area", "rural"), ("非偏乡", "non-remote", "outside remote"), strict=True),
    # A target is named where it is stated, as a target or by its other names (總體指標, 預計達到);
    # a figure said to be passed already (已逾 1.7 萬人) is what was reached, not what was aimed at.
    _Qualifier(
        ("目标", "target", "goal", "总体指标", "预计", "预期", "aims", "aim to", "expected to"),
        ("达成", "实际", "实绩", "achieved", "actual", "已逾", "已达", "已超过", "已突破"),
        strict=True,
        figures_only=True,
    ),
    _Qualifier(("达成", "实际", "实绩", "achieved", "actual"), ("目标", "target", "goal")),
    _Qualifier(("累计", "cumulative", "to date", "so far"), ("当年度", "单年", "当年", "in that year")),
    _Qualifier(
        ("当年度", "单年", "当年", "in that year", "alone"), ("累计", "cumulative", "to date", "so far")
    ),
    _Qualifier(("新增", "newly"), ("累计", "总数", "总计", "cumulative"), strict=True),
    _Qualifier(("预估", "预计", "预测", "projected", "forecast", "estimated"), ("实际", "actual")),
)


def _qualifier_found(form: str, canon: str) -> int:
    """Position of `form` in a canonical text, not counting it inside its negation (偏鄉 in 非偏鄉)."""
    if _is_latin(form):
        match = re.search(rf"(?<![a-z-]){re.escape(form)}(?![a-z])", canon)
        return match.start() if match else -1
    for match in re.finditer(re.escape(form), canon):
        if not (form[0] != "非" and match.start() > 0 and canon[match.start() - 1] == "非"):
            return match.start()
    return -1


# 「非金融業」, "non-financial": the part that is not X. 非 opening another word (非洲, 非常, 非法)
# or negating a verb (並非, 是非) asks no such part.
_NOT_X = re.compile(r"(?<![并並绝除莫无是])非(?![洲常法凡但得要典议难])([\u4e00-\u9fff]{2,})")
_NON_X = re.compile(r"\bnon-([a-z]{3,})\b")


def _negated_parts(canon: str) -> list[tuple[int, str, str]]:
    """(position, the part asked, the whole it is cut from): (3, 非金融业, 金融业)."""
    found = []
    for match in _NOT_X.finditer(canon):
        words = cjk_words(match.group(1))
        if words and len(words[0]) >= 2:
            found.append((match.start(), f"非{words[0]}", words[0]))
    found.extend((m.start(), m.group(0), m.group(1)) for m in _NON_X.finditer(canon))
    return found


def _qualifier_conditions(question: str) -> list[Condition]:
    canon = canonical(question)
    conditions = []
    for at, part, whole in _negated_parts(canon):
        if any(part in q.forms for q in _QUALIFIERS) or _qualifier_found(whole, canon) >= 0:
            continue  # a fixed pair (非偏鄉), or both asked (金融業與非金融業)
        conditions.append(
            Condition(
                question[at : at + len(part)], "qualifier", forms=(part,), opposites=(whole,), strict=False
            )
        )
    # English asks a target's figure without a cue word ("What is the 2025 target for 5G coverage?").
    figure = is_figure_question(question) or not _has_cjk(question)
    for qualifier in _QUALIFIERS:
        if qualifier.figures_only and not figure:
            continue
        at = next((p for f in qualifier.forms if (p := _qualifier_found(f, canon)) >= 0), -1)
        if at < 0 or any(_qualifier_found(f, canon) >= 0 for f in qualifier.opposites):
            continue  # asking about both sides (目標與達成) is no condition on either
        form = next(f for f in qualifier.forms if _qualifier_found(f, canon) == at)
        conditions.append(
            Condition(
                question[at : at + len(form)],
                "qualifier",
                forms=qualifier.forms,
                opposites=qualifier.opposites,
                strict=qualifier.strict,
            )
        )
    return conditions


# ---------------------------------------------------------------------------------------------
# Extraction


@lru_cache(maxsize=512)
def extract_conditions(question: str) -> tuple[Condition, ...]:
    """The conditions an answer to `question` must satisfy, in the order of their kinds."""
    found = [
        *_time_conditions(question),
        *_organisation_conditions(question),
        *_place_conditions(question),
        *_programme_conditions(question),
        *_qualifier_conditions(question),
    ]
    unique: list[Condition] = []
    for condition in found:
        if not any(c.kind == condition.kind and c.text == condition.text for c in unique):
            unique.append(condition)
    return tuple(unique[:MAX_CONDITIONS])


# ---------------------------------------------------------------------------------------------
# Checking


def _result(
    condition: Condition, status: Status, evidence: str | None = None, where: str | None = None
) -> ConditionResult:
    blocking = status == "contradicted" or (status == "missing" and condition.strict)
    return ConditionResult(
        text=condition.text,
        kind=condition.kind,
        status=status,
        evidence=evidence,
        where=where,
        blocking=blocking and condition.required,
    )


def _scopes(evidence: Evidence) -> list[tuple[str, str]]:
    """(where, text) from the narrowest scope to the widest."""
    unit_where = "row" if evidence.label else "sentence"
    return [(unit_where, evidence.unit), ("section", evidence.section), ("passage", evidence.passage)]


def _check_time(condition: Condition, evidence: Evidence) -> ConditionResult:
    result = _check_time_in_scopes(condition, evidence)
    in_column = year_mentions(evidence.column) if evidence.label and result.status == "met" else []
    if in_column and not any(m.years & condition.years for m in in_column):
        # A row's figure is of its column's year: 2019's cell is no 2023 figure, whatever years
        # the caption and the other columns cover.
        return _result(condition, "contradicted", _nearest(condition, in_column).text, "row")
    return result


def _check_time_in_scopes(condition: Condition, evidence: Evidence) -> ConditionResult:
    stated_unit = year_mentions(evidence.unit)
    for where, text in _scopes(evidence):
        for mention in year_mentions(text):
            if mention.years & condition.years:
                return _result(condition, "met", mention.text, where)
    unit_where = "row" if evidence.label else "sentence"
    if stated_unit:
        # The report's title year (113 年度) does not make a sentence about 2023 one about 2024.
        return _result(condition, "contradicted", _nearest(condition, stated_unit).text, unit_where)
    for mention in year_mentions(evidence.title):
        if mention.years & condition.years:
            return _result(condition, "met", mention.text, "title")
    around = year_mentions(f"{evidence.section}\n{evidence.passage}\n{evidence.title}")
    if around:
        return _result(condition, "contradicted", _nearest(condition, around).text, "passage")
    return _result(condition, "missing")


def _nearest(condition: Condition, mentions: list[_YearMention]) -> _YearMention:
    """The stated year closest to the asked one (the neighbouring fact to name)."""
    asked = min(condition.years)
    return min(mentions, key=lambda m: min(abs(y - asked) for y in m.years))


def _check_named(condition: Condition, evidence: Evidence, others: list[str]) -> ConditionResult:
    """Organisations and places: stated in the unit, contradicted by another in its slot, or absent."""
    unit_where = "row" if evidence.label else "sentence"
    slot = evidence.label or evidence.unit
    found = _find_any(condition.forms, evidence.unit)
    if found and not (condition.kind == "place" and others and _is_home(others[0], slot)):
        return _result(condition, "met", found, unit_where)
    if others:
        # A row of another country, a sentence about another agency: the wrong one in the slot.
        return _result(condition, "contradicted", others[0], unit_where)
    for where, text in (("section", evidence.section), ("passage", f"{evidence.title}\n{evidence.passage}")):
        found = _find_any(condition.forms, text)
        if found:
            return _result(condition, "met", found, where)
    if condition.home:
        return _result(condition, "met", None, "implicit")  # the reports' own country goes unsaid
    if evidence.cross_script and not any(_is_latin(f) == (not _has_cjk(slot)) for f in condition.forms):
        return _unverifiable(condition)
    return _result(condition, "missing")


def _is_home(name: str, slot: str) -> bool:
    """Whether the first place a sentence names is Taiwan itself."""
    named = places_in(slot)
    return bool(named) and named[0].group == 0 and named[0].text == name


def named_in(condition: Condition, text: str) -> bool:
    """Whether a text names the condition at all (any spelling)."""
    return _find_any(condition.forms, text) is not None


def _unverifiable(condition: Condition) -> ConditionResult:
    """Evidence in another language than the condition's spellings: nothing can be said."""
    return ConditionResult(condition.text, condition.kind, "missing", None, None, False)


def _has_cjk(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def _find_any(forms: tuple[str, ...], text: str) -> str | None:
    if not text:
        return None
    canon = canonical(text)
    for form in forms:
        found = _find(form, text, canon)
        if found:
            return found
    return None


def _other_places(condition: Condition, evidence: Evidence) -> list[str]:
    if condition.locality:
        return []  # no list of localities to tell which other one a sentence names
    slot = evidence.label or evidence.unit
    ours = set(condition.forms) | set(condition.companions)  # the question's own places are no others
    groups = {g for g in range(len(_places())) if set(_place_forms(g)) & ours}
    named = places_in(slot)
    others = [p.text for p in named if p.group not in groups]
    if not evidence.label and named and named[0].group == 0 and not condition.home and 0 not in groups:
        # 「我國…2023 年達 3.97%，優於美國、日本」: a sentence led by Taiwan is about Taiwan, even
        # when it names the asked country as a comparison.
        return [named[0].text]
    if condition.home and not evidence.label:
        # Taiwan goes unsaid in the reports, except where a sentence opens on another country
        # (「美國、日本與德國則維持在…」): then it is that country's sentence.
        opening = _LEAD.sub("", slot)
        return [p.text for p in named[:1] if p.group not in groups and opening.startswith(p.text)]
    return others


_LEAD = re.compile(r"^[\s(（]*(?:[0-9]+|[一二三四五六七八九十]+)?[)）.、]?\s*")


# All agencies at once (「各部會…發表總數」, "27 ministries"): a total over them is no one agency's figure.
_ALL_AGENCIES = re.compile(
    r"各部会署?|各机关|各部门|中央政府各|all\s+(?:the\s+)?(?:ministries|agencies)|\b\d+\s+ministries", re.I
)


def _other_agencies(condition: Condition, evidence: Evidence) -> list[str]:
    slot = evidence.label or evidence.unit
    pairs = _pairs_in(canonical(evidence.passage))
    ours = set(condition.forms) | {pairs[f] for f in condition.forms if f in pairs}
    named = [*agencies_in(slot), *english_agencies_in(slot)]
    others = [slot[s:e] for name, s, e in named if name not in ours and not _nested(name, ours)]
    collective = _ALL_AGENCIES.search(canonical(slot))
    if collective is not None:
        others.append(slot[collective.start() : collective.end()])
    return others


def _nested(name: str, ours: set[str]) -> bool:
    """國科會 and 國家科學及技術委員會 are one; so is a longer name containing ours."""
    return any(name in o or o in name for o in ours)


def _check_organisation(condition: Condition, evidence: Evidence) -> ConditionResult:
    pairs = _pairs_in(canonical(evidence.passage))
    forms = tuple(dict.fromkeys([*condition.forms, *(pairs[f] for f in condition.forms if f in pairs)]))
    widened = Condition(condition.text, condition.kind, forms=forms, required=condition.required)
    return _check_named(widened, evidence, _other_agencies(widened, evidence))


def _check_programme(condition: Condition, evidence: Evidence) -> ConditionResult:
    for where, text in [*_scopes(evidence), ("title", evidence.title)]:
        canon = re.sub(r"\s", "", canonical(text))
        if any(form in canon for form in condition.forms):  # the name, or the acronym it spells out
            return _result(condition, "met", condition.text, where)
    if evidence.cross_script and not condition.written_as_is:
        return _unverifiable(condition)
    return _result(condition, "missing")


def written_as_is(conditions: tuple[Condition, ...], passages: Sequence[str]) -> tuple[Condition, ...]:
    """The conditions with each one-word Latin name (AgePass) that some passage writes as is marked
    so. Names of several words are left out: the reports write them in English beside a Chinese
    translation (National Science and Technology Conference, 全國科學技術會議)."""
    latin = [
        c
        for c in conditions
        if c.kind == "programme" and " " not in c.text and all(form.isascii() for form in (c.text, *c.forms))
    ]
    if not latin:
        return conditions  # most questions: no passage needs reading
    texts = [re.sub(r"\s", "", canonical(p)) for p in passages]
    return tuple(
        dataclasses.replace(c, written_as_is=True)
        if c in latin and any(form in text for form in c.forms for text in texts)
        else c
        for c in conditions
    )


def _check_qualifier(condition: Condition, evidence: Evidence) -> ConditionResult:
    focus = f"{evidence.caption}\n{evidence.label}\n{evidence.column}" if evidence.label else evidence.unit
    canon = canonical(focus)
    for form in condition.forms:
        at = _qualifier_found(form, canon)
        if at >= 0:
            where = "row" if evidence.label else "sentence"
            joined = _listed_with_opposite(canon, at, form, condition.opposites)
            if joined is not None:
                # 「金融業、非金融業…計 2,555 場」: one figure for both sides is neither side's.
                return _result(condition, "contradicted", focus[joined[0] : joined[1]], where)
            return _result(condition, "met", focus[at : at + len(form)], where)
    for form in condition.opposites:
        at = _qualifier_found(form, canon)
        if at >= 0:
            where = "row" if evidence.label else "sentence"
            return _result(condition, "contradicted", focus[at : at + len(form)], where)
    section = canonical(evidence.section)
    if any(_qualifier_found(f, section) >= 0 for f in condition.forms):
        return _result(condition, "met", condition.text, "section")
    return _result(condition, "missing")


_LIST_JOINER = re.compile(r"\s*(?:、|及|与|和|或|/|,|，|and|or)\s*")


def _listed_with_opposite(
    canon: str, at: int, form: str, opposites: tuple[str, ...]
) -> tuple[int, int] | None:
    """The span of `form` listed beside one of its opposites (偏鄉及非偏鄉), unless the sentence gives
    each its own figure (分別, respectively)."""
    if "分别" in canon or "respectively" in canon:
        return None
    end = at + len(form)
    for opposite in opposites:
        for match in re.finditer(re.escape(opposite), canon):
            if match.start() < end and at < match.end():
                continue  # 偏鄉 inside 非偏鄉 is the form itself
            between = canon[match.end() : at] if match.end() <= at else canon[end : match.start()]
            if _LIST_JOINER.fullmatch(between):
                return min(at, match.start()), max(end, match.end())
    return None


def check_condition(condition: Condition, evidence: Evidence) -> ConditionResult:
    """Whether one answer candidate's evidence meets, lacks or contradicts a condition."""
    if condition.kind == "time":
        return _check_time(condition, evidence)
    if condition.kind == "organisation":
        return _check_organisation(condition, evidence)
    if condition.kind == "place":
        return _check_named(condition, evidence, _other_places(condition, evidence))
    if condition.kind == "programme":
        return _check_programme(condition, evidence)
    return _check_qualifier(condition, evidence)


def check_conditions(conditions: tuple[Condition, ...], evidence: Evidence) -> list[ConditionResult]:
    """Every condition checked against one candidate's evidence."""
    return [check_condition(c, evidence) for c in conditions]


_JOINED = re.compile(r"和|與|与|及|或|、|至|到|vs|and|or|to|through|-|–|~|～|較|较|比|than", re.I)


# 「2018 年和 2020 年的同一個數字」: one figure asked for two different years at once.
_SAME_FIGURE = re.compile(
    r"同一(?:個|个)?(?:數字|数字|數值|数值|數據|数据|金額|金额|比率)|the same (?:figure|number|value)",
    re.I,
)


def conflicting_years(question: str, conditions: tuple[Condition, ...]) -> tuple[Condition, Condition] | None:
    """Two different years asked at once with nothing joining them (「2023 年的 2019 年預算」), or
    joined but asked for as one figure (「2018 年和 2020 年的同一個數字」)."""
    years = [c for c in conditions if c.kind == "time" and c.required and len(c.years) == 1]
    same_figure = bool(_SAME_FIGURE.search(question))
    for first, second in itertools.pairwise(years):
        if first.years == second.years:
            continue
        if same_figure:
            return first, second
        start = question.find(first.text) + len(first.text)
        between = question[start : question.find(second.text, start)]
        # Only years that qualify the same word back to back (2023 年的 2019 年預算) conflict; years
        # further apart play different parts (2021 年啟動的計畫截至 2024 年累計…).
        if len(between.strip()) <= 2 and not _JOINED.search(between):
            return first, second
    return None
