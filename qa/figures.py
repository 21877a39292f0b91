"""Figures in text (numbers with their units) and what kind of figure a question asks for."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

FigureKind = Literal["percent", "money", "count", "rank", "year", "other"]

_CURRENCY = r"(?:NT\\?\$|US\\?\$|NTD\s?|USD\s?|TWD\s?|新臺幣|新台幣|\$|＄)"
_NUMBER = r"\d{1,3}(?:[,，]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CJK_UNITS = (
    r"(?:兆|億|亿|萬|万|千|百)?(?:臺幣|台幣|台币|元|美元|美金|日圓|日元|日幣|日币|歐元|欧元|港元|港幣|港币"
    r"|人民幣|人民币|英鎊|英镑|韓元|韩元)"
    r"|兆|億|亿|萬人次|万人次|萬人|万人|萬家|萬件|萬度|万度|萬|万|人次|人年|家次|家|人|件|篇|項|项|個|个|次|名|倍|座|所|套"
    r"|處|处|位|款|場|场|國|国|公噸|公吨|噸|吨|度|公頃|公顷|公里|小時|小时|分鐘|分钟|毫秒|秒|天|個月|个月|年度|年|月|日"
    r"|臺|台|輛|辆|艘|架|棵|株|隻|只|種|种|部|支|筆|笔|張|张|份|門|门|期|週|周|小組|團隊|团队|組|组|盞|盏"
)
_EN_UNITS = (
    r"(?:billion|million|trillion|thousand)(?:\s(?:kWh|metric tons|tons|people|users|uses|"
    r"page views|firms|projects|datasets))?|percent|kWh|metric tons|tons|projects|firms|people"
    r"|milliseconds?|seconds?|minutes?"
)
_FIGURE = re.compile(
    r"第\s?(?P<ord>\d+)(?:\s?(?:名|位))?"
    r"|(?P<en_ord>\d+)(?:st|nd|rd|th)\b"
    # A return or a ratio written against one (1:19.1, 1 比 3.5): one figure, a proportion.
    r"|(?<![\d.,:])(?P<ratio>1\s?[:：比]\s?\d+(?:\.\d+)?)(?![\d:])"
    rf"|(?:(?P<cur>{_CURRENCY})\s?)?(?P<num>{_NUMBER})\s?(?P<unit>%|％|‰|(?:{_CJK_UNITS})|(?:{_EN_UNITS})\b)?"
)


@dataclass(frozen=True)
class Figure:
    """A number with its unit, as written: `text == source[start:end]`."""

    text: str
    start: int
    end: int
    number: str  # the digits as written, e.g. "1,517.4"
    unit: str
    kind: FigureKind


def _kind(currency: str | None, unit: str, after: str) -> FigureKind:
    if unit in ("%", "％", "‰", "percent"):
        return "percent"
    if currency or any(u in unit for u in _CURRENCY_UNITS) or unit in ("兆", "億", "亿"):
        return "money"
    if unit in ("年", "年度", "月", "日"):
        return "year"  # dates are never the figure asked for by 多少
    if unit.split(" ")[0] in ("billion", "million", "trillion", "thousand"):
        return "money" if currency else "count"
    return "count" if unit else "other"


_MAGNITUDES = frozenset({"萬", "万", "億", "亿"})
# Counters that may follow a magnitude, as written in either script, longest first.
_COUNTER_WORDS = tuple(
    sorted(
        {
            *"人次 人 名 位 人年 家次 家 項 项 種 种 件 款 套 篇 份 筆 笔".split(),
            *"處 处 所 座 校 間 间 臺 台 輛 辆 艘 架 場次 场次 場 场 梯次 次 張 张 組 组".split(),
        },
        key=len,
        reverse=True,
    )
)
# Numbers that count nothing: a list marker opening a sentence ("(6)", "2.", "（三）", "三、").
_ENUMERATOR = re.compile(
    r"^\s*(?:[（(]\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[)）]|(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[.、．](?!\d))"
)
# Digits inside a name written with letters: 5G, 4K, B5G, Taipei-1, FORMOSAT-7, COVID-19.
_NAME_DIGITS = re.compile(r"(?<![A-Za-z\d.,])\d[A-Za-z](?![A-Za-z])|[A-Za-z]+-?\d+(?:\.\d+)?")
# Names and titles in quotes (「沉浸故宮 2.0」, 「2024 月津港燈節」): their numbers are part of the name.
_QUOTED = re.compile(r"「[^「」]{0,40}」|“[^“”]{0,40}”|《[^《》]{0,40}》")
# A quantity written in characters (三成, 兩次, 百分之四十, 過半): the numeral must count something,
# so 一般, 統一, 近五年 and 億萬畫素 are not quantities.
_SPELLED_QUANTITY = re.compile(
    r"[〇零一二兩两三四五六七八九]+[十百千萬万億亿兆][〇零一二兩两三四五六七八九十百千萬万億亿兆]*"
    r"|[十百千][〇零一二兩两三四五六七八九]+"
    r"|[〇零一二兩两三四五六七八九十]+\s*(?:"
    + "|".join(
        [
            *_COUNTER_WORDS,
            *"成 倍 分之 個 个 國 国 顆 颗 條 条 本 冊 册 頁 页 棟 栋 戶 户 隊 队 枚 片 支".split(),
        ]
    )
    + r")|[一過过逾超]半|百分之|第[〇零一二兩两三四五六七八九十百]+"
)
# A span of years in characters (五年, 十二年): a quantity only when the question asks how many years.
_SPELLED_YEARS = re.compile(r"[〇零一二兩两三四五六七八九十百]+\s*(?:多)?\s*年")


def enumerator_end(text: str) -> int:
    """Where the list marker opening `text` ends ("(6) 應用…" -> 3), 0 when there is none."""
    m = _ENUMERATOR.match(text)
    return m.end() if m else 0


def states_a_quantity(text: str, years: bool = False) -> bool:
    """Whether `text` states any amount, in digits or in characters (三成, 第五), once list markers,
    names with digits (5G, Taipei-1) and quoted titles are set aside; `years`: a span of years
    (五年) counts too. Dates, years and labels in digits are the caller's to remove."""
    text = _QUOTED.sub(" ", _NAME_DIGITS.sub(" ", text[enumerator_end(text) :]))
    if re.search(r"[0-9０-９]", text) is not None or _SPELLED_QUANTITY.search(text) is not None:
        return True
    return years and _SPELLED_YEARS.search(text) is not None


_RANGE_JOIN = re.compile(r"\s?(?:至|到|~|～|–|-)\s?$")


def find_figures(text: str) -> list[Figure]:
    """All figures of a text, left to right; "28.2% 至 85.0%" is one figure (a range)."""
    figures = _single_figures(text)
    merged: list[Figure] = []
    for figure in figures:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.unit in _MAGNITUDES
            and not text[previous.end : figure.start].strip()
            and len(digits(figure.number).split(".")[0]) <= 4
            and figure.kind not in ("year", "rank")
        ):
            # 「9 萬5,660 人次」 is one number (95,660) of the counter after it.
            merged[-1] = Figure(
                text[previous.start : figure.end],
                previous.start,
                figure.end,
                f"{previous.number}{previous.unit}{figure.number}",
                figure.unit,
                figure.kind,
            )
        elif (
            previous is not None
            and previous.kind == figure.kind
            and figure.kind not in ("year", "rank")
            and _RANGE_JOIN.fullmatch(text[previous.end : figure.start]) is not None
        ):
            merged[-1] = Figure(
                text[previous.start : figure.end],
                previous.start,
                figure.end,
                previous.number,
                figure.unit,
                figure.kind,
            )
        else:
            merged.append(figure)
    return merged


_ROC_YEAR = re.compile(r"(?<![\d.,])(\d{2,3})\s?年")
_AD_YEAR = re.compile(r"(?<![\d.,])((?:19|20)\d\d)(?![\d.,]\d|\s?(?:億|万|萬|元|人|件|%))")


def years_in(text: str) -> set[int]:
    """Years a text speaks of, as AD years (民國 113 年 is 2024)."""
    folded = unicodedata.normalize("NFKC", text)
    years = {int(y) for y in _AD_YEAR.findall(folded)}
    years.update(int(y) + 1911 for y in _ROC_YEAR.findall(folded) if 1 <= int(y) <= 200)
    return years


_CLOCK_BEFORE = re.compile(r"\d\s?分\s?$")
# A number written onto a Latin word is part of a name (K-12, FORMOSAT-7, H100), not a figure.
_NAMED_NUMBER = re.compile(r"[A-Za-z]-?$")


def _single_figures(text: str) -> list[Figure]:
    figures: list[Figure] = []
    for match in _FIGURE.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1].isspace():
            end -= 1
        while start < end and text[start].isspace():
            start += 1
        if match.group("ratio"):
            ratio = match.group("ratio")
            figures.append(Figure(text[start:end], start, end, ratio, "", "percent"))
            continue
        if match.group("ord") or match.group("en_ord"):
            number = match.group("ord") or match.group("en_ord")
            figures.append(Figure(text[start:end], start, end, number, "名", "rank"))
            continue
        number = match.group("num")
        unit = match.group("unit") or ""
        currency = match.group("cur")
        if not currency and _NAMED_NUMBER.search(text[max(0, start - 2) : start]):
            continue
        if unit == "秒" and _CLOCK_BEFORE.search(text[:start]):
            # 「還剩 3 分 08 秒」: a clock reading, not a duration; its numbers stay bare.
            unit, end = "", start + len(number)
        if unit in _MAGNITUDES and not currency:
            # 「65 萬張」, 「10 億次」: the counter after a magnitude is part of the figure.
            counter = next((c for c in _COUNTER_WORDS if text.startswith(c, end)), "")
            unit, end = unit + counter, end + len(counter)
        kind = _kind(currency, unit, text[end : end + 2])
        if kind == "other" and len(number) == 4 and number.startswith(("19", "20")):
            kind = "year"
        figures.append(Figure(text[start:end], start, end, number, unit, kind))
    return figures


_FIGURE_CUES = re.compile(
    r"多少|幾|几|比率|比例|占比|佔比|百分比|百分之|金額|金额|數量|数量|規模|规模|排名|名次|第幾|第几|成長率|成长率|增加率|總額|总额"
    r"|how much|how many|what share|what percentage|what proportion|what percent|what fraction"
    r"|which rank|what rank|ranked|what was the total|what is the total|how large|how big"
    r"|\b(?:expenditures?|spending|budget|revenue|turnover)\b"
    r"|what\s+(?:is|was|were|are)\s+(?:the\s+)?(?:[\w'-]+\s+){0,4}?satisfaction\b",
    re.IGNORECASE,
)
_KIND_CUES: tuple[tuple[FigureKind, re.Pattern[str]], ...] = (
    (
        "percent",
        # English cues are whole words: "demonstrated" asks no rate, "fundamental" no fund.
        re.compile(
            r"比率|比例|占比|佔比|百分比|百分之|率|\b(?:share|percent(?:age)?|proportion|fraction|rates?)\b",
            re.I,
        ),
    ),
    ("rank", re.compile(r"排名|名次|第幾|第几|\brank", re.I)),
    (
        "money",
        re.compile(
            r"經費|经费|預算|预算|金額|金额|錢|钱|投資|投资|產值|产值|營收|营收|營業額|营业额|收入|補助|补助|(?<![西單单公紀纪])元(?![年朝素旦月首])"
            r"|\b(?:budget|spen[dt]|expenditure|invest|cost|fund(?:s|ing|ed)?\b|revenue|output|money|dollar|worth)|NT\$",
            re.I,
        ),
    ),
    (
        "year",
        re.compile(
            r"哪一年|哪年|何年|何時|何时|(?:西元|公元|民國|民国)\s*[幾几]\s*年|which year|what year|\bwhen\b",
            re.I,
        ),
    ),
    ("count", re.compile(r"幾|几|多少(?:件|篇|人|家|項|项|個|个|次|位|所|座)|how many|number of", re.I)),
)


def is_figure_question(question: str) -> bool:
    """Questions that ask for a number: 多少, 幾, 比率, how much, how many, what share, which rank."""
    return _FIGURE_CUES.search(question) is not None


def expected_kind(question: str) -> FigureKind | None:
    """The kind of figure a question asks for, when its words say so."""
    for kind, pattern in _KIND_CUES:
        if pattern.search(question):
            return kind
    return None


def digits(number: str) -> str:
    """A number's canonical form for comparison: width-folded, without thousands separators."""
    return unicodedata.normalize("NFKC", number).replace(",", "").replace("，", "")


# --- what a figure counts: a question's counter (多少「位」) against the answer figure's unit -------

# Counters (canonical script) by what they count. Words of one class answer each other (多少「人次」 is
# answered by 「20,071 人」, 幾「種」 by 「150 項」); 個 alone counts anything, so the noun written after
# it (國家, 縣市, 計畫, 帳號) is what says; magnitudes (萬, 億) and units outside the table (firms,
# petaFLOPS) say nothing and are never checked.
_COUNTER_CLASSES: dict[str, tuple[str, ...]] = {
    "person": ("人次", "人", "名", "位"),
    "person-year": ("人年",),
    "firm": ("家次", "家", "企业", "公司", "厂商"),
    "item": ("项", "种", "件", "款", "套", "组", "计划", "专案", "项目"),
    "course": ("门",),  # 41 門 (courses)
    "text": ("篇", "份", "笔"),
    "site": ("处", "所", "座", "校", "间", "县市", "乡镇", "城市", "场域", "据点"),
    "machine": ("台", "辆", "艘", "架", "部"),  # 部 counts machines and films alike (2.2 萬部影片)
    "event": ("场次", "场", "梯次"),
    "times": ("次",),
    "card": ("张",),
    "account": ("帐号", "帐户"),  # written after 個 (3,000 萬個帳號)
    "country": ("国家",),  # written after 個 (多少個國家, 12 個國家): 國 alone also opens 國內, 國際
    "duration": ("小时", "分钟", "毫秒", "秒", "天", "个月", "周"),
    "distance": ("公里", "公尺", "海里", "浬"),
    "area": ("公顷",),
    "mass": ("公吨", "吨"),
    "ratio": ("倍",),
    "light": ("盏",),
    # 度 is a kilowatt-hour in the reports' power tables (萬度) and a degree elsewhere: both answer 幾度.
    "energy": ("度", "千瓦时"),
}
# Classes that answer each other: countries are often counted by what was agreed with each of them
# (與 5 國 … 5 項協定).
# Classes written only as 個 and their noun (個帳號): 個 with any other noun counts something else.
_ONLY_AFTER_GE = frozenset({"account"})
_AKIN = frozenset({frozenset(("country", "item"))})
_CLASS_OF = {word: name for name, words in _COUNTER_CLASSES.items() for word in words}
# Nouns that name a measure of one class (canonical script): 「航行里程」 is a distance.
_MEASURE_NOUNS: dict[str, tuple[str, ...]] = {
    "distance": ("里程", "距离", "长度"),
    "area": ("面积",),
    "duration": ("时数", "工时"),
    "rating": ("满意度",),
}
# A satisfaction rating asked (滿意度, "satisfaction rating") is stated as a share (91%), in tenths
# (9 成) or in points (4.5 分), and only by a sentence that names satisfaction: 16% of townships
# reached is none. "Rating" or 評分 alone are left out: they also ask a place in a ranking (IMD).
RATING = "rating"
RATING_NAMED = re.compile(r"满意|satisf", re.IGNORECASE)
_RATING_EN = re.compile(
    r"\bwhat\s+(?:is|was|were|are)\s+(?:the\s+)?(?:[\w'-]+\s+){0,4}?"
    r"(satisfaction(?:\s+(?:rating|score|rate|level))?)\b",
    re.IGNORECASE,
)
# English nouns of the same classes, as a question counts them ("how many employees") and as an
# English figure's unit names them ("443 projects", "32 million uses"). Only words that count one
# thing: "visits" may be people or times, "stations" sites or machines, so they are not here.
_ENGLISH_COUNTED: dict[str, tuple[str, ...]] = {
    "person": (
        "people", "person", "participant", "attendee", "student", "researcher", "employee", "worker",
        "user", "subscriber", "visitor", "trainee", "professional", "expert", "teacher", "learner",
        "resident", "applicant", "member", "patient", "volunteer", "citizen", "farmer", "doctor", "nurse",
    ),
    "firm": ("firm", "company", "companies", "enterprise", "startup", "business", "manufacturer"),
    "course": ("course",),
    "item": (
        "project", "item", "plan", "programme", "program", "product", "technology", "technologies", "patent",
        "trial", "service", "application", "dataset", "agreement", "contract", "standard",
    ),
    "text": ("paper", "article", "publication", "report", "document"),
    "site": ("school", "university", "universities", "campus", "campuses", "hospital"),
    "machine": ("vessel", "ship", "vehicle", "machine", "boat", "aircraft", "drone"),
    "event": ("event", "session", "workshop", "seminar", "conference", "exhibition"),
    "times": ("time", "use"),
    "card": ("card",),
    "account": ("account",),
    "country": ("country", "countries", "nation"),
    "duration": ("millisecond", "second", "minute", "hour", "day", "month", "week"),
    "distance": ("kilometre", "kilometer", "km", "metre", "meter", "mile"),
    "area": ("hectare",),
    "mass": ("tonne", "ton"),
}  # fmt: skip
_ENGLISH_CLASS_OF = {word: name for name, words in _ENGLISH_COUNTED.items() for word in words}
_ENGLISH_MAGNITUDE = re.compile(r"^(?:(?:thousand|million|billion|trillion|hundred)\s+)+", re.IGNORECASE)
_HOW_MANY_EN = re.compile(r"\bhow\s+many\s+((?:[A-Za-z-]+\s+){0,4}[A-Za-z-]+)", re.IGNORECASE)
# A change asked in English: the verb or noun of one ("did … grow", "growth"), not an adjective
# ("growing livestock") or a comparison word alone ("more than").
_CHANGE_EN = re.compile(
    r"\b(?:increase[sd]?|grow|grows|grew|grown|growth|rise|rises|rose|risen|fall|falls|fell|fallen"
    r"|decline[sd]?|drop(?:ped|s)?|change[sd]?)\b|\bhow\s+(?:much|many)\s+(?:more|less|fewer)\b",
    re.I,
)


_COMPARED = re.compile(r"(?:more|as|higher|larger|greater|bigger|faster|less|lower|smaller)$", re.IGNORECASE)


def _english_class(word: str) -> str | None:
    """The counter class of an English noun, singular or plural ("companies", "uses")."""
    word = word.lower()
    for form in (word, word[:-1] if word.endswith("s") else word, word[:-2] if word.endswith("es") else word):
        if form in _ENGLISH_CLASS_OF:
            return _ENGLISH_CLASS_OF[form]
    return None


_COUNTERS = sorted(_CLASS_OF, key=len, reverse=True)
_MAGNITUDE = re.compile(r"^(?:兆|亿|万|千|百)+")
_ASKS_HOW_MANY = re.compile(r"(?<!第)(?:多少|几)\s*(?:个(?=\s*(?:小时|月|国家)))?\s*")
# 國家 opening a compound names something national (幾個國家森林), not countries.
_NATIONAL = re.compile(r"森林|公园|级|实验|队|奖|重点|图书|标准|发展|型")
_NOUN_AFTER = re.compile(r"[\u4e00-\u9fff]{1,8}?(?=[的是有，,？?。]|$)")
_CURRENCY_MARK = re.compile(_CURRENCY)
_CURRENCY_UNITS = ("元", "幣", "币", "圓", "鎊", "镑", "美金")
# Words between the measured noun and 多少 (經費「是」多少, 人數「約有」多少).
_CHANGE = re.compile(r"成长|增长|增加|减少|下降|提升|提高|增幅|减幅|变化|差距|相差|多出|少了")
# Words that follow the measured noun without changing what it counts (canonical script).
_AFTER_THE_NOUN = frozenset({"目标", "总数", "总计", "合计", "累计", "数量", "总量", "规模", "上限", "平均"})
_LATIN_UNIT = re.compile(r"\s*([A-Za-z][A-Za-z/²³]{0,11})(?![A-Za-z])")
_LINK = re.compile(r"(?:是|为|有|达|约|共|总共|累计|一共)+$")


# A column or question about a place in a ranking (「2024 排名」, "rank"): neither a share nor an amount.
RANKING = re.compile(r"排名|名次|排行|\brank", re.IGNORECASE)


@dataclass(frozen=True)
class Measure:
    """What the question's figure counts: a counter's class, or a kind (money, percent) its words ask."""

    text: str  # as the question names it: 「使用者」 for 多少位使用者, 「經費」 for 經費是多少
    counter_class: str | None  # "person", "duration" ...; None when the question asks a kind
    kind: FigureKind | None = None  # "money" or "percent" when no counter is written
    change: bool = False  # a growth or fall (成長多少), which a share or an amount may state


def _canonical(text: str) -> str:
    from corpus.normalize import to_canonical_script

    return to_canonical_script(text)


def unit_class(unit: str) -> str | None:
    """The counter class of a figure's unit (「萬人次」, "million uses"), or None when it names none."""
    if unit.isascii():
        words = _ENGLISH_MAGNITUDE.sub("", unit.strip()).split()
        return _english_class(words[0]) if words else None
    word = _MAGNITUDE.sub("", _canonical(unit).strip())
    return _CLASS_OF.get(word)


def _english_measure(question: str) -> Measure | None:
    """ "How many employees" counts people; "how much … cost" asks money, "what share" a percentage.
    A noun outside the classes ("how many GPUs") asks nothing checkable."""
    m = _HOW_MANY_EN.search(question)
    if m is not None:
        words = m.group(1).split()
        for n, word in enumerate(words):
            counted = _english_class(word)
            if counted == "times" and words[n + 1 : n + 2] and _COMPARED.match(words[n + 1]):
                counted = "ratio"  # "how many times more" asks a multiple (倍), not a count of times
            if counted is not None:
                return Measure(word, counted)
        return None
    if rating := _RATING_EN.search(question):
        return Measure(rating.group(1), RATING)
    kind = expected_kind(question)
    if kind not in ("money", "percent"):
        return None
    return Measure("", None, kind, change=_CHANGE_EN.search(question) is not None)


def asked_measure(question: str) -> Measure | None:
    """The counter a Chinese question writes after 多少/幾 (「多少位使用者」) or the noun after an English
    "how many", else the money or percent its words ask for."""
    if not re.search(r"[\u4e00-\u9fff]", question):
        return _english_measure(question)
    canon = _canonical(question)
    for m in _ASKS_HOW_MANY.finditer(canon):
        if unit := _LATIN_UNIT.match(canon, m.end()):
            # 「多少 petaFLOPS」, 「幾 MW」: the unit itself is what the figure must carry.
            return Measure(unit.group(1), f"unit:{unit.group(1).lower()}")
        rest = canon[m.end() :]
        counter = next((c for c in _COUNTERS if rest.startswith(c)), None)
        if counter is None or (counter == "国家" and _NATIONAL.match(rest, len(counter))):
            continue
        # 國家 is itself the noun the figure counts; other counters name it after them (多少位使用者).
        noun = None if counter == "国家" else _NOUN_AFTER.match(rest[len(counter) :])
        start = m.end() + (len(counter) if noun and noun.group(0) else 0)
        end = m.end() + len(counter) + (len(noun.group(0)) if noun else 0)
        return Measure(question[start:end], _CLASS_OF[counter])
    if any(canon[m.end() :].startswith("个") for m in _ASKS_HOW_MANY.finditer(canon)):
        return None  # 多少個: anything countable
    asks = _ASKS_HOW_MANY.search(canon)
    if asks is None:
        return None
    from corpus.segment import cjk_words

    # The noun before 多少 (「經費是多少」, 「新創家數是多少」, 「總航行里程是多少」).
    before = _LINK.sub("", canon[: asks.start()].rstrip())
    words = [w for w in cjk_words(before) if w.strip()]
    if len(words) > 1 and words[-1] in _AFTER_THE_NOUN:
        words.pop()  # 「註冊人數目標」 counts people: the target is of the count before it
    noun = words[-1] if words and re.fullmatch(r"[\u4e00-\u9fff]{2,}", words[-1]) else ""
    at = before.rfind(noun) if noun else -1
    named = question[at : at + len(noun)] if noun else ""
    # A count named by its counter and 數 (家數, 人數, 件數) counts what that counter counts.
    # So does a noun ending in a counter of two characters (使用人次, 參訓人年, 飛行小時).
    counted = next(
        (_CLASS_OF[c] for c in _COUNTERS if noun.endswith(c + "数") or (len(c) > 1 and noun.endswith(c))),
        None,
    )
    counted = counted or next((name for name, words in _MEASURE_NOUNS.items() if noun.endswith(words)), None)
    kind = expected_kind(question)
    if counted is not None and kind != "percent":  # 「播種面積約占多少比例」 asks a share of an area
        return Measure(named, counted)
    if kind not in ("money", "percent"):
        return None
    return Measure(named, None, kind, change=_CHANGE.search(canon) is not None)


def _written_after(figure: Figure, text: str, chars: int) -> str:
    """The canonical-script text right after `figure` in `text` (the counter or noun it is followed by)."""
    return _canonical(text[figure.end : figure.end + chars]).lstrip()


def _in_currency(figure: Figure) -> bool:
    return bool(_CURRENCY_MARK.search(figure.text)) or figure.unit.endswith(_CURRENCY_UNITS)


def counted_class(figure: Figure, text: str) -> str | None:
    """What `figure` (found in `text`) counts: its unit's class, or for a bare number or a magnitude
    the counter written right after it (「65 萬張」, 「188 校」)."""
    counted = unit_class(figure.unit) if figure.unit else None
    if counted is None and figure.kind != "money":
        # 「300 萬個帳號」: 個 after a magnitude leaves the noun to say what is counted.
        after = _written_after(figure, text, 5).removeprefix("个").lstrip()
        counted = next((_CLASS_OF[c] for c in _COUNTERS if after.startswith(c)), None)
    return counted


def fits(measure: Measure, figure: Figure, text: str = "") -> bool | None:
    """Whether `figure` can be what `measure` counts: False when its unit says it counts something
    else (143,036 小時 for 多少位使用者, 48,195 臺 for 經費), None when its unit says nothing."""
    counted = counted_class(figure, text) if text else (unit_class(figure.unit) if figure.unit else None)
    if measure.counter_class is not None and measure.counter_class.startswith("unit:"):
        unit = measure.counter_class[5:]
        written = f"{figure.unit} {text[figure.end : figure.end + len(unit) + 2]}".lower()
        if unit in written.replace(" ", "") or unit in written:
            return True
        return False if (figure.unit or counted or figure.kind == "money") else None
    if measure.counter_class == RATING:
        after = _canonical(figure.unit).lstrip() or _written_after(figure, text, 2)
        if figure.kind == "percent" or after.startswith(("分", "成")):
            return True
        if figure.kind == "money" or counted is not None or after.startswith("个"):
            return False  # 15 項 or 42 個 are counts, not a rating
        return None
    if measure.counter_class is not None:
        if figure.kind == "money" and _in_currency(figure):
            return False  # 30 元 for 多少張 (but 1 億 alone is a magnitude of anything)
        if counted is None and measure.counter_class in _ONLY_AFTER_GE:
            # Accounts are written 「個帳號」: 「13 萬個測驗題」 counts test items.
            after = _written_after(figure, text, 2)
            return False if after.startswith("个") and len(after) > 1 else None
        if counted is None:
            return None
        return counted == measure.counter_class or frozenset((counted, measure.counter_class)) in _AKIN
    currency = _in_currency(figure)
    if not measure.change and (
        (measure.kind == "money" and figure.kind == "percent") or (measure.kind == "percent" and currency)
    ):
        return False  # 98.15% is no amount of money, NT$ 3 億 no share (but 成長多少 may be either)
    if counted is None or counted == "ratio":
        return None  # a bare number, a magnitude or 倍 can stand for money or a share
    return False  # 48,195 臺 is no amount of money and no share
