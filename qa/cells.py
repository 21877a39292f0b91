"""Answers read from table cells: the question's row (country, agency, item) and column (year, metric).

A table chunk is read back into a `Table`; the row is the one whose label the question names, the
column the one whose header carries the asked year, or else shares most of the question's wording.
The answer names the cell, its table, row, column and unit, and cites the row verbatim. When the
table has the column (or row) kind asked for but not the one asked, the answer says so and gives
the neighbouring cell instead of a figure from elsewhere.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from corpus.tables import close_cjk_gaps, is_numeric, read_table_text, table_numbers_in
from corpus.types import Chunk, Table
from index.types import Hit
from qa.citations import build_citation
from qa.conditions import Condition, Evidence, canonical, check_conditions, year_mentions
from qa.figures import RANKING, Measure, asked_measure
from qa.language import Language
from qa.types import Answer

_MARKS = re.compile(r"[\s¹²³⁴⁵⁶⁷⁸⁹⁰*＊†‡]+|\^\[\d+\]|[（(]\s*[%％]?\s*[)）]")
# A question asking which row (「哪一項」, "which ministry") wants a label, not a cell's value.
_WHICH = re.compile(r"哪|which\b", re.IGNORECASE)
# 「由哪個部會負責」: the words right after 哪 (canonical script) name the column asked for.
_WHICH_WORD = re.compile(r"哪(?:一)?(?:个|家|位|项|些)?")
# A row the question names with another word of the same length (网络 for 網路) still counts when a
# stretch of the question agrees with its label in this share of characters. Learned from the
# development set's tune part (bench/learn_cells.py: most right rows less wrong ones, set midway).
ROW_COVERAGE = 0.79
# Words that name a table's total row, whatever its label says.
_TOTAL_ASKED = re.compile(r"total|總計|合計|總額|总计|合计|总额", re.IGNORECASE)
_TOTAL_LABELS = {"总计", "合计", "总和", "total"}
_CJK = re.compile(r"[\u4e00-\u9fff]")
# English words for what a column of a Chinese table measures (its header says 占比 (%), 千元).
_ENGLISH_MEASURES = (
    (re.compile(r"\b(?:share|percent(?:age)?|proportion|ratio)\b|%", re.IGNORECASE), "占比 %"),
    (re.compile(r"\bthousands?\b", re.IGNORECASE), "千元"),
    (re.compile(r"\bper (?:one )?thousand\b", re.IGNORECASE), "每千"),
)
# Dates and clock times as cells write them (5/15 (三), 10:00-12:00) and as questions do (5 月 15 日,
# 上午 10 點到 12 點), compared on canonical keys (no spaces, Simplified script).
_WEEKDAY = re.compile(r"(\d{1,2}/\d{1,2})\([一二三四五六日天]\)")
_MONTH_DAY = re.compile(r"(?<!\d)(\d{1,2})月(\d{1,2})[日号]")
_CLOCK = re.compile(r"(上午|早上|中午|下午|晚上)?(?<![\d:])(\d{1,2})(?::(\d{2})|点(?:(\d{2})分)?)")
_AFTERNOON = ("下午", "晚上")
_TIME_SPAN = re.compile(r"(\d{1,2}:\d{2})(?:到|至|~|-|－|–)(\d{1,2}:\d{2})")
_YEAR = re.compile(r"(?<!\d)(1[89]\d{2}|20\d{2}|\d{2,3}(?=\s*年))(?!\d)")


@dataclass(frozen=True)
class CellAnswer:
    """A cell that answers the question (or, with `missing`, the neighbouring cell of an absent one)."""

    chunk: Chunk
    table: Table
    row: int  # index into table.rows
    column: int
    value: str
    row_line: str  # the row as it stands in the chunk text (quoted by the citation)
    missing: str = ""  # what the question asked that the table lacks, e.g. "2024"
    named: int = 0  # the column of the cell that names the row (a plan name, not its empty group)
    empty: bool = False  # the cell holds no figure (「-」, n.a.): the table says it has none

    @property
    def label(self) -> str:
        cells = self.table.rows[self.row]
        named = cells[self.named] if self.named < len(cells) else ""
        label = named or cells[0] or next((c for c in cells if c), "")
        # A name wrapped in its cell (「國家科學及技術 委員會」) is one name; a footnote mark is not in it.
        return close_cjk_gaps(label).rstrip(" ¹²³⁴⁵⁶⁷⁸⁹⁰")

    @property
    def column_name(self) -> str:
        return self.table.columns[self.column]


def cell_key(text: str) -> str:
    """Text as table labels are matched: canonical script, without spaces and footnote marks."""
    return canonical(_MARKS.sub("", text))


def _bigrams(text: str) -> set[str]:
    key = cell_key(text)
    return {key[i : i + 2] for i in range(len(key) - 1)}


_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Pairs that say a figure is a share, not what it is a share of: every table of shares states them.
_KIND_PAIRS = frozenset({"比率", "占比", "比例", "百分", "分比"})


def _measure_overlap(words: set[str], table: Table) -> int:
    """How many of the question's measure words a table's caption and columns share, leaving out the
    pairs that only say "a share" (any table of shares states them)."""
    return len((words - _KIND_PAIRS) & _topic_terms(f"{table.caption} {' '.join(table.columns)}"))


def _topic_terms(text: str) -> set[str]:
    """What a question and a table caption share about the measure: Chinese character pairs without
    digits, and whole Latin words (GDP, IMD), never letters run together across words."""
    # A Latin word leaves a mark behind, so that 「占 GDP 比率」 makes no pair 「占比」 across it.
    pairs = {b for b in _bigrams(_LATIN_WORD.sub("|", text)) if _CJK.match(b[0]) and _CJK.match(b[1])}
    return pairs | {w.lower() for w in _LATIN_WORD.findall(text)}


def _column_years(name: str) -> set[int]:
    years: set[int] = set()
    for mention in year_mentions(name):
        years |= set(mention.years)
    for m in _YEAR.finditer(name):
        value = int(m.group(1))
        years.add(value if value > 1800 else value + 1911)  # 113 年 -> 2024
    return years


def label_cells(row: Sequence[str]) -> list[tuple[int, str]]:
    """(column, key) of the cells that can name a row: text in the first three columns, not figures."""
    out = []
    for j, cell in enumerate(row[:3]):
        if cell and not is_numeric(cell):
            key = cell_key(cell)
            if len(key) >= 2:
                out.append((j, key))
    return out


def window_agreement(key: str, question: str) -> float:
    """The largest share of `key`'s characters that a stretch of the question as long as it repeats
    in place: 1.0 when the question names it verbatim, 10/11 for 「网络」 written for 「網路」."""
    text = cell_key(question)
    if len(text) < len(key):
        return 0.0
    best = 0
    for i in range(len(text) - len(key) + 1):
        same = sum(a == b for a, b in zip(key, text[i : i + len(key)], strict=True))
        best = max(best, same)
    return best / len(key)


def _dates_and_times(key: str) -> str:
    """Dates and clock times in one spelling (canonical key): 5月15日 -> 5/15, 下午3点 -> 15:00,
    10点到12点 -> 10:00-12:00; a weekday after a date cell's date (5/15(三)) is dropped."""
    key = _WEEKDAY.sub(r"\1", key)
    key = _MONTH_DAY.sub(r"\1/\2", key)

    def clock(m: re.Match[str]) -> str:
        hour = int(m.group(2))
        if m.group(1) in _AFTERNOON and hour < 12:
            hour += 12
        return f"{hour}:{m.group(3) or '00'}"

    def span(m: re.Match[str]) -> str:
        start, end = m.group(1), m.group(2)
        first, last = int(start.split(":")[0]), int(end.split(":")[0])
        if last < first < 12 + last:  # 下午 3 點到 4 點: the afternoon goes on to the end time
            end = f"{last + 12}:{end.split(':')[1]}"
        return f"{start}-{end}"

    key = _CLOCK.sub(clock, key)
    return _TIME_SPAN.sub(span, key)


def _row_match(
    table: Table, question_key: str, forms: Sequence[str], skip: int | None = None, question: str = ""
) -> tuple[int, int, int] | None:
    """(row, matched length, column of the naming cell): the row with most cells the question names
    (its group's label, the empty first cell's merged value above, counts with them), then the
    longest; failing that, the one row whose label it writes with another word of the same length
    (`ROW_COVERAGE`, 网络 for 網路)."""
    best: tuple[int, int, int] | None = None
    score = (0, 0)
    near: list[tuple[float, int, int]] = []  # (agreement, row, column)
    timed = _dates_and_times(question_key)
    group = ""
    for n, row in enumerate(table.rows):
        group = row[0] if row and row[0] else group
        own = 0
        longest = (0, 0)  # (length, column)
        for j, key in label_cells(row):
            if j == skip:
                continue
            hit = key in question_key or any(key == f or (len(f) >= 2 and f in key) for f in forms)
            hit = hit or (key in _TOTAL_LABELS and _TOTAL_ASKED.search(question_key) is not None)
            hit = hit or _dates_and_times(key) in timed
            if hit:
                own += 1
                longest = max(longest, (len(key), j))
            if question and _CJK.search(key):
                near.append((window_agreement(key, question), n, j))
        if not own:
            continue
        # A row under a merged first cell (5/15 over two sessions) is also named by that cell.
        carried = bool(
            row and not row[0] and skip != 0 and group and _dates_and_times(cell_key(group)) in timed
        )
        if (own + carried, longest[0]) > score:
            score = (own + carried, longest[0])
            best = (n, longest[0], longest[1])
    if best is not None or not near:
        return best
    near.sort(reverse=True)
    share, n, j = near[0]
    # Only one row may come that close: of two similar labels the question names neither.
    if share >= ROW_COVERAGE and not any(s >= share and m != n for s, m, _ in near[1:]):
        return n, 0, j
    return None


def _asked_column(table: Table, question_key: str) -> int | None:
    """The column a which-question asks for: its header (or the header's last words) right after 哪."""
    found = None
    for j, name in enumerate(table.columns):
        key = cell_key(name)
        for m in _WHICH_WORD.finditer(question_key):
            after = question_key[m.end() :]
            # 「哪個單元」 asks for 「課程單元」: a header's ending of two characters or more counts.
            if any(after.startswith(key[i:]) for i in range(max(0, len(key) - 1))):
                if found is not None and found != j:
                    return None  # two columns asked at once: not a single cell
                found = j
    return found


def _named_column(table: Table, question_key: str) -> int | None:
    """The one column a which-question names by its whole header: a table of countries side by side
    (臺灣, 美國, 日本 over rows 期程, 政策) asked 「美國的農業政策是哪一項計畫」 wants 美國's cell of
    the row it names, not a row of the table."""
    named = [
        j
        for j, name in enumerate(table.columns)
        if j > 0 and len(key := cell_key(name)) >= 2 and not _column_years(name) and key in question_key
    ]
    return named[0] if len(named) == 1 else None


# 「哪一年開始」, "which year": a year is asked (canonical script).
_ASKS_YEAR = re.compile(r"哪一?年|何年|which year|what year", re.IGNORECASE)
# 「期程是哪幾年」, "what period": the question asks for a span of years (canonical script).
_ASKS_PERIOD = re.compile(r"期程|期间|哪几年|起讫|\bperiod\b|\bwhich years\b|\btime ?frame\b", re.IGNORECASE)
_YEAR_SPAN = re.compile(r"(?:19|20)\d{2}\s*[-–—~～至到]\s*(?:19|20)\d{2}")


def _period_cell(table: Table, question_key: str, forms: Sequence[str]) -> tuple[int, int] | None:
    """(row, column) of the one span of years (2025-2029) in the one column the question names (a
    question asking for a period): a plan's 期程 often stands in a row without a label."""
    column = _named_column(table, question_key)
    if column is None:
        named = {cell_key(f) for f in forms}
        by_form = [j for j, name in enumerate(table.columns) if j > 0 and cell_key(name) in named]
        column = by_form[0] if len(by_form) == 1 else None
    if column is None:
        return None
    spans = [
        n
        for n, row in enumerate(table.rows)
        if column < len(row) and _YEAR_SPAN.fullmatch(row[column].strip())
    ]
    return (spans[0], column) if len(spans) == 1 else None


def _value_columns(table: Table) -> list[int]:
    """Columns holding figures in most data rows."""
    width = len(table.columns)
    out = []
    for j in range(1, width):
        filled = [r[j] for r in table.rows if j < len(r) and r[j]]
        if filled and sum(is_numeric(c) or bool(re.search(r"\d", c)) for c in filled) * 2 >= len(filled):
            out.append(j)
    return out


def _chars(text: str) -> set[str]:
    return {c for c in cell_key(text) if not c.isdigit() and not c.isspace()}


_ASIDE = re.compile(r"[（(][^()（）]*[)）]")


def _pick(columns: Sequence[int], names: Sequence[str], question: str, complete: bool = False) -> int | None:
    """The column sharing most of the question's wording: character pairs first, then characters
    (「比例」 meets 「占比」), or None when the two best stay level.

    `complete`: level on both, the column the question names more completely (fewer of its pairs
    unsaid) wins: 「預算法定數最多」 over 「預算法定數 (千元)」 and 「預算法定數占比 (%)」.
    """
    words, chars = _bigrams(question), _chars(question)

    def score(j: int) -> tuple[int, int, int, int]:
        pairs = {b for b in _bigrams(names[j]) if all(c.isalpha() for c in b)}
        # The name outside its parentheses says what the column is; 「(含 五大信賴產業、國家希望工程)」
        # only what it includes, so its words count after the name's own.
        own = {b for b in _bigrams(_ASIDE.sub("", names[j])) if all(c.isalpha() for c in b)}
        unsaid = len(pairs - words) if complete else 0
        return len(own & words), len(pairs & words), len(_chars(names[j]) & chars), -unsaid

    ranked = sorted(columns, key=score, reverse=True)
    if len(ranked) > 1 and score(ranked[0]) == score(ranked[1]):
        return None
    return ranked[0] if ranked else None


def _column_match(
    table: Table, question: str, years: set[int], glossed: str = "", complete: bool = False
) -> tuple[int | None, str]:
    """(column, missing year): the asked year's column, else the column sharing most of the wording.

    `glossed`: Chinese words for an English question's words (the glossary's), used only when no
    column is of a year (a year asked of a table without year columns is checked as a condition),
    and only when they share a character pair with the column they pick.
    """
    columns = _value_columns(table)
    if not columns:
        return None, ""
    names = table.columns
    by_year = {j: _column_years(names[j]) for j in columns}
    question_key = cell_key(question)
    # A column whose whole (non-year) name the question repeats: 「年均複合成長率」 over 2019-2023.
    keys = {j: cell_key(names[j]) for j in columns}
    named = [j for j in columns if not by_year[j] and len(keys[j]) >= 2 and keys[j] in question_key]
    if len(named) == 1:
        return named[0], ""
    if years:
        with_year = [j for j in columns if by_year[j] & years]
        if with_year:
            # Two columns of the asked year and the wording picks neither: None.
            return _pick(with_year, names, question, complete), ""
        if any(by_year.values()):
            # The table is by year but not the asked one: the nearest year's column, named as such.
            asked = min(years)
            dated = [j for j in columns if by_year[j]]
            near = min(dated, key=lambda j: min(abs(y - asked) for y in by_year[j]))
            return near, str(asked)
    picked = _pick(columns, names, question, complete)
    if picked is None and glossed:
        # 「compound annual growth rate」 meets 「年均複合成長率」 through 複合 / 合成.
        picked = _pick(columns, names, f"{question} {glossed}")
        if picked is not None and not _bigrams(names[picked]) & _bigrams(glossed):
            picked = None
    return picked, ""


def _english_terms(question: str) -> list[str]:
    from qa.glossary import glossary

    found = glossary()
    return [canonical(t) for t in found.terms(question)] if found is not None else []


def _wording(question: str) -> str:
    """The question's wording for column matching; English measure words get their Chinese header words."""
    if _CJK.search(question):
        return question
    extra = [words for pattern, words in _ENGLISH_MEASURES if pattern.search(question)]
    return " ".join([question, *extra])


def _row_line(chunk: Chunk, row: tuple[str, ...]) -> str | None:
    """The chunk line holding this row (cells compared without whitespace)."""
    want = cell_key("".join(row))
    for line in chunk.text.split("\n"):
        if "\t" in line and cell_key(line.replace("\t", "")) == want:
            return line.strip(" ")
    return None


def _tables_of(hits: Sequence[Hit], question: str, *, whole: bool = False) -> Iterator[tuple[Hit, Table]]:
    """The table chunks among the hits, read back as tables, in rank order. A question that names
    its table (「依附表 3」) reads that table only; `whole` yields each table once (its first slice),
    for readers that walk all its slices themselves."""
    named = table_numbers_in(question)
    seen: set[tuple[str, str]] = set()
    for hit in hits:
        chunk = hit.chunk
        if chunk.kind != "table" or "\t" not in chunk.text:
            continue
        table = read_table_text(chunk.text, chunk.table_header)
        if table is None or not table.rows or (named and table.number not in named):
            continue
        if whole:
            if (chunk.doc_id, table.caption) in seen:
                continue
            seen.add((chunk.doc_id, table.caption))
        yield hit, table


def condition_words(conditions: Sequence[Condition]) -> str:
    """The question's conditions as written and in all their forms, as one key: words that name
    which row or year is asked, never what is measured."""
    return cell_key(" ".join([*(c.text for c in conditions), *(f for c in conditions for f in c.forms)]))


def _all_cjk(text: str) -> bool:
    return bool(text) and all(_CJK.match(ch) for ch in text)


# Question words, numerals and function words say nothing of a measure's kind (哪一項指標, 之細項指標).
_NOT_A_KIND = re.compile(r"[哪何几么谁多少一二三四五六七八九十之的是在与和及或各每该本我]")


def other_kind_of(question_key: str, caption: str, scope: str, spared: str = "") -> str | None:
    """The caption's own kind of what the question asks, when they differ: asked 「數位競爭力」 of a
    table of 「總體競爭力」, the table answers another question. A shared word of exactly three
    characters (a longer one already names the same measure) must be preceded in both by the same
    two characters, unless the question's two stand anywhere in the table (`scope`) or are a name of
    its conditions (`spared`: 我國, 113 年)."""
    caption = cell_key(caption)
    for i in range(2, len(question_key) - 2):
        shared = question_key[i : i + 3]
        at = caption.find(shared)
        if at < 2 or not _all_cjk(shared) or question_key[i - 1] == caption[at - 1]:
            continue  # the two must differ right before the shared words, where they begin
        if question_key[i + 3 : i + 4] and question_key[i + 3 : i + 4] == caption[at + 3 : at + 4]:
            continue  # a longer shared name (數位競爭力) already agrees on what is measured
        asked, stated = question_key[i - 2 : i], caption[at - 2 : at]
        if not _all_cjk(asked) or not _all_cjk(stated) or asked == stated:
            continue
        if asked in scope or asked in spared or stated in question_key or _NOT_A_KIND.search(asked + stated):
            continue
        return stated + shared
    return None


def find_cell(
    question: str,
    conditions: Sequence[Condition],
    hits: Sequence[Hit],
    table_names: Sequence[str] = (),
) -> CellAnswer | None:
    """The first table chunk among the hits whose row and column the question names.

    A which-question (「由哪個部會負責」) is answered by a cell only when the words after 哪 name a
    column (部會) and the question names the row by another of its cells (the plan's name); a
    question asking which row (「占比最低的是哪個主管機關」) is left to the sentence answerer.
    """
    which = _WHICH.search(question) is not None
    asks_period = _ASKS_PERIOD.search(canonical(question)) is not None
    asks_year = _ASKS_YEAR.search(canonical(question)) is not None
    question_key = cell_key(question)
    forms = [f for c in conditions if c.kind in ("place", "organisation", "programme") for f in c.forms]
    terms: list[str] = []
    dictionary: list[str] = []
    if not _CJK.search(question):
        # An English question meets Chinese labels through the glossary (Ministry of Education -> 教育部);
        # only whole multi-character names count, as a gloss of one word (education -> 教育) names too much.
        terms = dictionary = _english_terms(question)
        forms += [t for t in terms if len(t) >= 3]
        # Names the encoder aligned with the tables' own (Ministry of Culture -> 文化部) are whole names.
        aligned = [cell_key(n) for n in table_names]
        forms += aligned
        terms = aligned + terms
    years = {y for c in conditions if c.kind == "time" and c.required for y in c.years}
    spared = condition_words(conditions)
    # Named places and agencies (not the home country, which reports leave implicit) must stand in the
    # row or the table's caption or header; otherwise the table is about something else.
    named = [c for c in conditions if c.kind in ("place", "organisation") and c.strict and not c.home]
    named = [c for c in named if c.required]
    found: list[tuple[int, int, CellAnswer]] = []
    wording = _wording(question)
    glossed = " ".join(terms)
    # The measure's words: the question's and the dictionary's, not the row names it was aligned
    # with (數位建設 names a row; its 建設 says nothing of which table's figure is asked), nor the
    # header words of the kind asked ("share" -> 占比), which any table of shares states.
    words = _topic_terms(f"{question} {' '.join(dictionary)}")
    measure = asked_measure(question)
    for hit, table in _tables_of(hits, question):
        chunk = hit.chunk
        period = _period_cell(table, question_key, forms) if asks_period else None
        if period is not None:
            # A span of years asked of the one column named: its one span, whatever row is named.
            matched, column, missing = (period[0], 0, period[1]), period[1], ""
        elif which:
            column, missing = _asked_column(table, question_key), ""
            if column is None:
                column = _named_column(table, question_key)
            if column is None:
                continue
            matched = _row_match(table, question_key, forms, skip=column, question=question)
        else:
            matched = _row_match(table, question_key, forms, question=question)
            column, missing = _column_match(table, wording, years, glossed) if matched else (None, "")
        if matched is None or column is None:
            continue
        row = matched[0]
        cells = table.rows[row]
        if _kind_contradicted(measure, table, column, cells):
            continue
        scope = cell_key(" ".join(cells) + table.caption + " ".join(table.columns))
        if any(not any(f in scope for f in c.forms) for c in named):
            continue
        if other_kind_of(question_key, table.caption, cell_key(f"{chunk.title} {chunk.text}"), spared):
            continue
        value = cells[column] if column < len(cells) else ""
        line = _row_line(chunk, cells)
        if not value or line is None:
            continue
        if asks_year and not _column_years(value):
            continue  # 「哪一年開始」 is not answered by a plan's name
        empty = PLACEHOLDER.fullmatch(value.strip()) is not None  # 「-」: the table has no figure there
        # Among tables naming the row and column, the one whose caption and header share most of
        # the question's wording (the country's figure in the table of the asked measure). Pairs
        # with a digit do not count: a year or 113 stands in many captions and says nothing of
        # the measure (「重點政策經費」 is 表 1-3's column, not 表 1-1's 「113 年度預算法定數」).
        overlap = _measure_overlap(words, table)
        # An indicator row names the measure itself (數位經濟規模); a country or agency row does not.
        measured = words & (_topic_terms(" ".join(c for _, c in label_cells(cells))) - _topic_terms(spared))
        if overlap == 0 and not measured:
            # Found by its row and column alone (美國, 2023), a table must also share words of the
            # question's measure: a share of GDP is no count of researchers, a rank no expenditure.
            continue
        cell = CellAnswer(chunk, table, row, column, value, line, missing, matched[2], empty)
        found.append((not empty, overlap, -hit.rank, cell))
    if not found:
        return None
    return max(found, key=lambda f: (f[0], f[1], f[2]))[3]


# A share is written as a percentage or named as a rate in the caption, unit or column (canonical script).
SHARE_NAMED = re.compile(r"%|％|比率|占比|比例|百分比|率")


# A cell that holds no figure: a dash, an ellipsis, "n.a." (not available) or "x" (withheld).
PLACEHOLDER = re.compile(r"[-－—–‒…⋯]+|n\.?\s?a\.?|N/?A|x|X|\*+|…+", re.IGNORECASE)
# A column or caption that states a change (成長率, 增減, growth) rather than a level (canonical script).
CHANGE_NAMED = re.compile(
    r"成长|增长|增减|增加|减少|增幅|减幅|变动|变化|差异|差距|growth|change|increase|decrease", re.I
)


def _kind_contradicted(measure: Measure | None, table: Table, column: int, cells: Sequence[str]) -> bool:
    """A share asked of a row that states none (研發經費占 GDP 比率 against 附表 1's 百萬美元), an amount
    of money asked of a share column (經費 against 占比 (%)), either asked of a ranking column, or a
    growth asked of a column of levels: the table answers another question.
    A share may be named by the caption, the unit, the column or the row's labels (涵蓋率)."""
    if measure is None or measure.kind is None:
        return False
    name = table.columns[column] if column < len(table.columns) else ""
    if measure.change:
        # 「較 112 年度增長多少」 is not read from 113 年度's budget: a level is no change.
        return not CHANGE_NAMED.search(canonical(f"{table.caption} {name}"))
    if RANKING.search(name):
        return True  # a place in a ranking (「2024 排名」) is neither a share nor an amount
    if measure.kind == "percent":
        labels = " ".join(cells[j] for j, _ in label_cells(cells))
        return not SHARE_NAMED.search(canonical(f"{table.caption} {table.unit} {name} {labels}"))
    return measure.kind == "money" and bool(SHARE_NAMED.search(canonical(f"{table.unit} {name}")))


def _table_where(table: Table, language: Language) -> str:
    """How an answer names its table: 附表 2「…」, an unnumbered one 表「…」, "table “…”" in English."""
    name = table.number or ""
    title = table.title or table.caption
    if language == "en":
        return f"{name or 'table'} “{title}”" if title else name or "table"
    return f"{name or '表'}「{title}」" if title else name or "表"


def render_cell(cell: CellAnswer, number: int, language: Language) -> str:
    """「3.07（附表 2「…」，列「德國」，欄「2021」；單位：%）[1]」, or the absent column and its neighbour."""
    table = cell.table
    where = _table_where(table, language)
    if language == "en":
        unit = f"; unit: {table.unit}" if table.unit else ""
        row = f", row “{cell.label}”" if cell.label != cell.value else ""
        text = f"{cell.value} ({where}{row}, column “{cell.column_name}”{unit}) [{number}]"
        if cell.missing:
            return f"The table has no column for {cell.missing}; nearest: {text}"
        return text
    unit = f"；單位：{table.unit}" if table.unit else ""
    if language == "zh-Hans":
        unit = unit.replace("單位", "单位")
    row = f"，列「{cell.label}」" if cell.label != cell.value else ""
    text = f"{cell.value}（{where}{row}，欄「{cell.column_name}」{unit}）[{number}]"
    if language == "zh-Hans":
        text = text.replace("欄", "栏")
    if cell.missing:
        if language == "zh-Hans":
            return f"表中没有 {cell.missing} 年的栏位；最接近的是：{text}"
        return f"表中沒有 {cell.missing} 年的欄位；最接近的是：{text}"
    return text


def render_empty(cell: CellAnswer, number: int, language: Language) -> str:
    """The refusal for a cell that holds no figure, naming the cell and what it holds."""
    where = _table_where(cell.table, language)
    if language == "en":
        return (
            f"The reports give no figure for this: in {where}, row “{cell.label}”, column "
            f"“{cell.column_name}” holds “{cell.value}” [{number}]"
        )
    cell_of = f"「{cell.label}」列「{cell.column_name}」欄為「{cell.value}」[{number}]"
    if language == "zh-Hans":
        return f"报告中没有这个数字：{where}中" + cell_of.replace("」列「", "」行「").replace(
            "」欄為「", "」栏为「"
        )
    return f"報告中沒有這個數字：{where}中{cell_of}"


def _answer(
    question: str,
    language: Language,
    conditions: Sequence[Condition],
    hits: Sequence[Hit],
    started: float,
    cell: CellAnswer,
    text: str,
    figure: str,
    held: bool = False,
) -> Answer | None:
    """The cell's answer with its row cited, or None when a condition of the question blocks it.

    `held`: the question named the cell's value to find its row (「2025 年新增的是哪一項」), so the
    value is part of what the conditions are read in."""
    citation = build_citation(1, cell.chunk, cell.row_line)
    if citation is None:
        return None
    # An unnumbered caption is a lead-in title over the whole table (「…2024年階段達成情形」 above
    # both the target and the achieved column): the conditions read numbered captions only.
    caption = cell.table.caption if cell.table.number else ""
    evidence = Evidence(
        # The conditions are read in the row with its wrapped names whole; the quote stays verbatim.
        unit="\n".join((caption, " ".join(cell.table.columns), close_cjk_gaps(cell.row_line))),
        section=" > ".join(cell.chunk.section_path),
        passage=cell.chunk.text,
        title=cell.chunk.title,
        label=cell.label,
        column=f"{cell.column_name} {cell.value}" if held else cell.column_name,
        caption=caption,
    )
    checked = check_conditions(tuple(conditions), evidence)
    if any(r.blocking for r in checked):
        return None  # the condition check refuses it, naming what the reports do state
    rank = next((h.rank for h in hits if h.chunk.chunk_id == cell.chunk.chunk_id), len(hits) + 1)
    return Answer(
        question=question,
        text=text,
        abstained=cell.empty,
        # Row and column both named by the question: as sure as the passage's place in the ranking.
        confidence=0.0 if cell.empty else 1.0 / (1.0 + 0.1 * (rank - 1)),
        citations=[citation],
        related=list(hits),
        figure=None if cell.empty else figure,
        language=language,
        mode="extractive",
        latency_ms=(time.perf_counter() - started) * 1000.0,
        conditions=checked,
    )


def cell_answer(
    question: str,
    language: Language,
    conditions: Sequence[Condition],
    hits: Sequence[Hit],
    started: float,
    fetch: Callable[[str], Chunk | None] | None = None,
    table_names: Sequence[str] = (),
    table_rows: Sequence[Chunk] = (),
    deeper: Sequence[Hit] = (),
) -> Answer | None:
    """The answer read from table cells, or None to let sentence scoring answer.

    `fetch` reads a chunk by id: with it, a which-is-highest question reads every slice of its table.
    `table_names`: the row and column names an English question speaks of (qa/names.py);
    `table_rows`: the table chunks holding those rows, read besides the hits;
    `deeper`: hits ranked below the ones answered from, whose tables are read when none of the
    hits' tables names the row and column asked.
    """
    seen = {h.chunk.chunk_id for h in hits}
    extra = [c for c in table_rows if c.chunk_id not in seen]
    hits = [*hits, *(Hit(chunk=c, score=0.0, rank=len(hits) + i + 1) for i, c in enumerate(extra))]
    extreme = find_extreme(question, conditions, hits, fetch, table_names)
    if extreme is not None:
        text = render_extreme(extreme, 1, language)
        return _answer(question, language, conditions, hits, started, extreme.cell, text, extreme.cell.label)
    cell = find_cell(question, conditions, hits, table_names)
    if cell is None:
        holding = find_row_holding(question, hits, fetch) or find_rank_holder(
            question, conditions, hits, fetch
        )
        if holding is not None:
            text = render_row_holding(holding, 1, language)
            return _answer(
                question, language, conditions, hits, started, holding, text, holding.label, held=True
            )
    tables_below = [h for h in deeper if h.chunk.kind == "table" and h.chunk.chunk_id not in seen]
    if cell is None and tables_below:
        # A table slice holds many rows besides the one asked, so it ranks below prose that repeats
        # the row's name; a cell the question names by row and column is still the best answer.
        # Found below the passages answered from, a table must share words of the question's
        # measure with its caption or header, as every table answering by a cell must.
        hits = [*hits, *tables_below]
        cell = find_cell(question, conditions, hits, table_names)
    if cell is None or cell.missing:
        # A year the table lacks is refused by the condition check, which names the year the
        # reports do give with its cited fact: one wording for every refusal of that kind.
        return None
    text = render_empty(cell, 1, language) if cell.empty else render_cell(cell, 1, language)
    return _answer(question, language, conditions, hits, started, cell, text, cell.value)


# --- which row holds the highest / lowest figure of a column, over the whole table ---------------

# 「占比最低的是哪個主管機關」, "which country had the highest ...": the asked extreme (canonical script).
# 「排名最前面」 is the first place of a ranking, 「最后」 the last (canonical script).
_EXTREME_ZH = re.compile(r"最(高|大|多|长|前|低|小|少|短|后|末)")
_EXTREME_EN = re.compile(
    r"\b(highest|largest|biggest|most|longest|lowest|smallest|least|fewest|shortest)\b", re.I
)
_LOW = frozenset({"低", "小", "少", "短", "后", "末", "lowest", "smallest", "least", "fewest", "shortest"})
# A cell's figure: 「1,032,165」, 「0.7%」, 「<0.01%」 (below the figure written), 「19 ↗」.
# In a ranking the first place is the highest: 「排名最高」 is the smallest number (qa.figures.RANKING).
_CELL_FIGURE = re.compile(r"^([<>＜＞≦≧≤≥]?)\s*([-+]?\d[\d,]*(?:\.\d+)?)")
MAX_SLICES = 40  # table chunks walked each way from the one found (a table of a few hundred rows)


def _extreme(question: str) -> str | None:
    """'low' or 'high' for a question asking which row is highest or lowest, else None."""
    if _WHICH.search(question) is None:
        return None
    m = _EXTREME_ZH.search(canonical(question)) or _EXTREME_EN.search(question)
    if m is None:
        return None
    return "low" if m.group(1).lower() in _LOW else "high"


# The rows a which-question asks about: the word right after 哪 (哪個主管機關, 哪一項, 哪个国家).
_ASKED_ROWS = re.compile(r"哪(?:一|个)?([\u4e00-\u9fff])")
_ASKED_ROWS_EN = re.compile(r"\bwhich\s+([a-z]+)", re.IGNORECASE)


def _names_its_rows(table: Table, question: str) -> bool:
    """Whether the thing a which-question asks for (哪個「國家」) is what the table's rows are: the
    word's first character stands in the caption or the label column's header. 「哪一類專長」 is
    not asked of a table of agencies (表 1-1's rows are 主管機關)."""
    scope = canonical(table.caption + (table.columns[0] if table.columns else ""))
    m = _ASKED_ROWS.search(canonical(question))
    if m is not None:
        return m.group(1) in scope
    m = _ASKED_ROWS_EN.search(question)
    if m is None:
        return False
    glossed = _english_terms(m.group(1))
    return any(ch in scope for term in glossed for ch in term if _CJK.match(ch))


def _cell_figure(cell: str) -> float | None:
    m = _CELL_FIGURE.match(_MARKS.sub("", cell).replace("％", "%"))
    if m is None:
        return None
    value = float(m.group(2).replace(",", ""))
    # 「<0.01%」 is below any cell written 0.01: nudge it down (and 「>」 up) so the order holds.
    if m.group(1) in ("<", "＜", "≦", "≤"):
        value -= 1e-9
    elif m.group(1) in (">", "＞", "≧", "≥"):
        value += 1e-9
    return value


def _same_table(a: Table, b: Table) -> bool:
    return a.caption == b.caption and a.columns == b.columns


def table_slices(chunk: Chunk, fetch: Callable[[str], Chunk | None]) -> list[Chunk]:
    """Every chunk of the table `chunk` is a slice of, in order (neighbouring ordinals of the same
    document whose caption and header are the same); `fetch` reads a chunk by id."""
    own = read_table_text(chunk.text, chunk.table_header)
    if own is None:
        return [chunk]
    found = [chunk]
    for step in (-1, 1):
        ordinal = chunk.ordinal
        for _ in range(MAX_SLICES):
            ordinal += step
            other = fetch(f"{chunk.doc_id}:{ordinal}") if ordinal >= 0 else None
            if other is None or other.kind != "table":
                break
            table = read_table_text(other.text, other.table_header)
            if table is None or not _same_table(own, table):
                break
            if table.rows:  # a slice of only its source line has no rows to rank
                found.append(other)
    return sorted(found, key=lambda c: c.ordinal)


def _rows_of(
    chunk: Chunk, fetch: Callable[[str], Chunk | None] | None
) -> Iterator[tuple[Chunk, Table, int, tuple[str, ...]]]:
    """Every data row of the table `chunk` is a slice of (all slices when `fetch` can read them):
    (slice, its table, row index, cells)."""
    for piece in table_slices(chunk, fetch) if fetch is not None else [chunk]:
        part = read_table_text(piece.text, piece.table_header)
        if part is not None:
            for n, cells in enumerate(part.rows):
                yield piece, part, n, cells


@dataclass(frozen=True)
class ExtremeAnswer:
    """The row holding the highest or lowest figure of the asked column, over every slice."""

    cell: CellAnswer  # the winning row's cell in its own slice (for the citation)
    direction: str  # "high" or "low"
    rows: int  # data rows compared


def find_extreme(
    question: str,
    conditions: Sequence[Condition],
    hits: Sequence[Hit],
    fetch: Callable[[str], Chunk | None] | None,
    table_names: Sequence[str] = (),
) -> ExtremeAnswer | None:
    """For 「…最低的是哪個主管機關」: the first table among the hits whose column the question names,
    read whole, and the row at the asked end of that column (None on a tie or without figures)."""
    direction = _extreme(question)
    if direction is None:
        return None
    question_key = cell_key(question)
    years = {y for c in conditions if c.kind == "time" and c.required for y in c.years}
    wording = _wording(question)
    dictionary = " ".join(_english_terms(question)) if not _CJK.search(question) else ""
    glossed = " ".join([*table_names, dictionary]) if dictionary or table_names else ""
    words = _topic_terms(f"{wording} {dictionary}")  # the measure's words, not the rows' names
    found: list[tuple[int, int, ExtremeAnswer]] = []
    for hit, table in _tables_of(hits, question, whole=True):
        chunk = hit.chunk
        if not _names_its_rows(table, question):
            continue
        asked = _asked_column(table, question_key)
        values = _value_columns(table)
        if asked is not None and asked in values:
            continue  # 「哪一年」 over a by-year table asks for a column, not a row
        # A row is asked, not a cell: the column is the one the question names most completely.
        column, missing = _column_match(table, wording, years, glossed, complete=True)
        if column is None or missing:
            continue
        ranked: list[tuple[float, CellAnswer]] = []
        for piece, part, n, cells in _rows_of(chunk, fetch):
            labels = label_cells(cells)
            if not labels or column >= len(cells) or labels[0][1] in _TOTAL_LABELS:
                continue
            value = _cell_figure(cells[column])
            line = _row_line(piece, cells)
            if value is None or line is None:
                continue
            named = labels[-1][0] if asked is not None and asked == labels[-1][0] else labels[0][0]
            ranked.append((value, CellAnswer(piece, part, n, column, cells[column], line, "", named)))
        if len(ranked) < 2:
            continue
        ranking = RANKING.search(table.columns[column]) or RANKING.search(question)
        ranked.sort(key=lambda r: r[0], reverse=(direction == "high") != bool(ranking))
        if ranked[0][0] == ranked[1][0]:
            continue  # two rows share the end: no single answer
        overlap = _measure_overlap(words, table)
        found.append((overlap, -hit.rank, ExtremeAnswer(ranked[0][1], direction, len(ranked))))
    if not found:
        return None
    return max(found, key=lambda f: (f[0], f[1]))[2]


# Words after 哪 that ask for "which one" without saying what the rows are (哪一項, 哪個).
_GENERIC_ASKED = frozenset("项个些种")
MIN_HELD_CELL = 4  # characters of a cell the question must write out (「2025 年新增」, not 「是」)


def find_row_holding(
    question: str, hits: Sequence[Hit], fetch: Callable[[str], Chunk | None] | None
) -> CellAnswer | None:
    """For 「2025 年新增的是哪一項」: the one row of a table whose value cell the question writes out
    (its 備註 says 2025 年新增), read over every slice; None when no row or several rows hold it.

    The table must share words with the question beyond that cell (科學建設 in its caption), and a
    specific word after 哪 (哪個國家) must be what its rows are."""
    if _WHICH.search(question) is None or not _CJK.search(question) or _extreme(question) is not None:
        return None
    question_key = cell_key(question)
    asked = _ASKED_ROWS.search(canonical(question))
    for hit, table in _tables_of(hits, question, whole=True):
        chunk = hit.chunk
        if (
            asked is not None
            and asked.group(1) not in _GENERIC_ASKED
            and not _names_its_rows(table, question)
        ):
            continue
        holders: list[tuple[int, CellAnswer]] = []
        for piece, part, n, cells in _rows_of(chunk, fetch):
            labels = label_cells(cells)
            if not labels:
                continue
            named = {j for j, _ in labels}
            for j, cell in enumerate(cells):
                key = cell_key(cell)
                if j in named or is_numeric(cell) or len(key) < MIN_HELD_CELL or key not in question_key:
                    continue
                line = _row_line(piece, cells)
                if line is not None:
                    holders.append((len(key), CellAnswer(piece, part, n, j, cell, line, "", labels[0][0])))
        if not holders:
            continue
        longest = max(length for length, _ in holders)
        best = [c for length, c in holders if length == longest]
        if len(best) != 1:
            return None  # several rows hold it (優勢指標): no single row answers
        cell = best[0]
        rest = question_key.replace(cell_key(cell.value), "")
        if len(_topic_terms(rest) & _topic_terms(f"{table.caption} {' '.join(table.columns)}")) < 2:
            # The table is about something else that happens to hold those words: beyond the cell,
            # the question must name the table by more than one common word (指標).
            continue
        return cell
    return None


# A place in a ranking the question names: 第 1 名, 排名第三, "ranked 2nd" (canonical script).
_RANK_ASKED = re.compile(
    r"第\s*(\d{1,3}|[一二三四五六七八九十]{1,3})\s*(?:名|位)|排名第\s*(\d{1,3}|[一二三四五六七八九十]{1,3})"
    r"|\branked\s+(?:no\.\s*)?(\d{1,3})(?:st|nd|rd|th)?\b",
    re.IGNORECASE,
)
_CJK_DIGITS = {ch: n for n, ch in enumerate("零一二三四五六七八九", start=0)}


def _rank_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if all(ch in _CJK_DIGITS or ch == "十" for ch in text):
        if "十" not in text:
            return _CJK_DIGITS[text] if len(text) == 1 else None
        tens, _, ones = text.partition("十")
        return (_CJK_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CJK_DIGITS.get(ones, 0) if ones else 0)
    return None


def find_rank_holder(
    question: str,
    conditions: Sequence[Condition],
    hits: Sequence[Hit],
    fetch: Callable[[str], Chunk | None] | None,
) -> CellAnswer | None:
    """For 「2025 年總體競爭力第 1 名是哪個國家」: the one row of a ranking table whose cell in the
    asked year's column holds that place, read over every slice; None when no table or row fits."""
    if _WHICH.search(question) is None:
        return None
    m = _RANK_ASKED.search(canonical(question))
    place = _rank_number(next(g for g in m.groups() if g)) if m else None
    years = {y for c in conditions if c.kind == "time" and c.required for y in c.years}
    if place is None or len(years) != 1:
        return None
    question_key = cell_key(question)
    spared = condition_words(conditions)
    words = _topic_terms(_wording(question))
    for hit, table in _tables_of(hits, question, whole=True):
        names = table.columns
        if not RANKING.search(f"{table.caption} {' '.join(names)}"):
            continue
        if not words & _topic_terms(f"{table.caption} {' '.join(names)}"):
            continue  # a ranking of something else
        if other_kind_of(
            question_key, table.caption, cell_key(f"{hit.chunk.title} {hit.chunk.text}"), spared
        ):
            continue  # 數位競爭力 asked of a table of 總體競爭力
        column = next((j for j in range(1, len(names)) if years <= _column_years(names[j])), None)
        if column is None:
            continue
        holders: list[CellAnswer] = []
        for piece, part, n, cells in _rows_of(hit.chunk, fetch):
            labels = label_cells(cells)
            figure = _cell_figure(cells[column]) if column < len(cells) else None
            if labels and figure == place:
                line = _row_line(piece, cells)
                if line is not None:
                    holders.append(CellAnswer(piece, part, n, column, cells[column], line, "", labels[0][0]))
        if len(holders) == 1:
            return holders[0]
    return None


def render_row_holding(cell: CellAnswer, number: int, language: Language) -> str:
    """「AI 相關技術之專利公開件數（附表 8「…」，欄「備註」：2025 年新增）[1]」."""
    where = _table_where(cell.table, language)
    if language == "en":
        return f"{cell.label} ({where}, column “{cell.column_name}”: {cell.value}) [{number}]"
    text = f"{cell.label}（{where}，欄「{cell.column_name}」：{cell.value}）[{number}]"
    return text.replace("欄", "栏") if language == "zh-Hans" else text


def render_extreme(extreme: ExtremeAnswer, number: int, language: Language) -> str:
    """「僑務委員會（表 1-1「…」，欄「…占比 (%)」最低：<0.01%，共 40 列）[1]」."""
    cell = extreme.cell
    table = cell.table
    where = _table_where(table, language)
    if language == "en":
        end = "lowest" if extreme.direction == "low" else "highest"
        unit = f"; unit: {table.unit}" if table.unit else ""
        return (
            f"{cell.label} ({end} in column “{cell.column_name}” of {where}: {cell.value}, "
            f"of {extreme.rows} rows{unit}) [{number}]"
        )
    end = "最低" if extreme.direction == "low" else "最高"
    unit = f"；單位：{table.unit}" if table.unit else ""
    compared = f"共比較 {extreme.rows} 列"
    text = f"{cell.label}（{where}，欄「{cell.column_name}」{end}：{cell.value}，{compared}{unit}）[{number}]"
    if language == "zh-Hans":
        text = text.replace("單位", "单位").replace("欄", "栏").replace("較", "较")
    return text
