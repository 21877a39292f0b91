"""Recover a report's structure: headings into section paths, tables, captions, sentence units.

Everything is expressed as spans into `Document.text`, so chunks cut from it quote the display text
exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from corpus.cleaning import squash
from corpus.sentences import sentence_spans
from corpus.tables import header_row_count, is_note
from corpus.types import Document

BlockKind = Literal["text", "table"]

_CN_NUM = "一二三四五六七八九十百零〇"
_HEADING_STYLES: tuple[tuple[int, re.Pattern[str]], ...] = (
    (0, re.compile(rf"^第[{_CN_NUM}\d]+[篇部]\s*")),
    (1, re.compile(rf"^第[{_CN_NUM}\d]+章\s*")),
    (1, re.compile(r"^[壹貳參肆伍陸柒捌玖拾]+[、.．]\s*")),
    (1, re.compile(r"^(?:Chapter|CHAPTER|Part|PART)\s+[\dIVXLC]+[.:]?\s+")),
    (2, re.compile(rf"^[{_CN_NUM}]+[、．]\s*")),
    (3, re.compile(rf"^[（(][{_CN_NUM}]+[)）]\s*")),
    (4, re.compile(r"^\d{1,2}[.、．](?!\d)\s*")),
    (5, re.compile(r"^[（(]\d{1,2}[)）]\s*")),
)
_MARKDOWN = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_ENGLISH_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\.?\s+[A-Z][^.!?]{1,80}$")
_NAMED_SECTIONS = re.compile(
    r"^(?:摘要|執行摘要|执行摘要|目次|目錄|目\s*錄|目录|前言|結語|结语|結論|结论|附錄|附录|參考文獻|参考文献"
    r"|Executive Summary|Summary|Abstract|Contents|Table of Contents|Introduction|Conclusions?"
    r"|References|Appendix(?:\s+[A-Z\d]+)?)$",
    re.IGNORECASE,
)
_BACK_MATTER = re.compile(r"^(?:附錄|附录|參考文獻|参考文献|References|Appendix)", re.IGNORECASE)
_CAPTION = re.compile(
    r"^(?:附表|附圖|附图|圖|图|表|Figure|Fig\.|Table)\s*[\dA-Z一二三四五六七八九十]+(?:[-–.]\d+)*(?:\s|$|[：:、])"
)
_CAPTION_TAIL = re.compile(r"^(?:資料來源|资料来源|來源|来源|註|注|說明|说明|Source|Note)[：:\s]|^[（(]")
_PAGE_REF = re.compile(r"(?:\t\s*|\.{3,}\s*|…+\s*|\s)\d{1,3}\s*$")
_TERMINAL = "。！？；：!?;:…」』）)”.\"'"
_NUMERIC = re.compile(r"^[-+(]?(?:\d[\d,]*(?:\.\d+)?%?|[-–—])[)]?$")
_BULLET = re.compile(r"^[●◎•▪■□◆◇○※\-*]\s")


@dataclass(frozen=True)
class Span:
    """[start, end) in the document's display text."""

    start: int
    end: int


@dataclass
class Block:
    """Text (sentence units) or a table (row units); a unit is never split by chunking."""

    kind: BlockKind
    units: list[Span] = field(default_factory=list)
    header: str | None = None  # table: caption and header row, repeated in later pieces


@dataclass
class Section:
    """Everything under one heading up to the next heading of any level."""

    path: tuple[str, ...]
    blocks: list[Block] = field(default_factory=list)
    heading_only: bool = True  # nothing but its heading line


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str  # stripped

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    offset = 0
    for raw in text.split("\n"):
        stripped = raw.strip(" \u3000\r")
        if stripped:
            lead = len(raw) - len(raw.lstrip(" \u3000\r"))  # a row's leading tab (empty first cell) stays
            out.append(_Line(offset + lead, offset + lead + len(stripped), stripped))
        offset += len(raw) + 1
    return out


def _strip_number(text: str) -> str:
    for _rank, pattern in _HEADING_STYLES:
        if m := pattern.match(text):
            return text[m.end() :]
    return text


def numbered_heading(text: str) -> tuple[int, str] | None:
    """(rank, text) when the line looks like a numbered heading; 0 is the outermost rank."""
    if "\t" in text or _PAGE_REF.search(text):
        return None  # a contents line: the title followed by its page number
    if m := _MARKDOWN.match(text):
        return len(m.group(1)), m.group(2)
    if m := _ENGLISH_NUMBERED.match(text):
        return (4 + m.group(1).count(".")), text
    for rank, pattern in _HEADING_STYLES:
        if m := pattern.match(text):
            body = text[m.end() :].strip()
            limit = 30 if rank >= 4 else 48
            if not body or len(body) > limit or "。" in body or body[-1] in "。，；：,;:、":
                return None
            if rank >= 4 and ("，" in body or "," in body):
                return None
            return rank, text
    return None


def _is_toc_row(line: _Line) -> bool:
    cells = line.text.split("\t")
    if len(cells) == 2 and re.fullmatch(r"\s*\d{0,3}\s*", cells[1]):
        return not re.search(r"\d$", cells[0].strip())
    if re.search(r"(?:\.{3,}|…{2,})\s*\d{1,3}$", line.text):
        return True
    # Without tabs (PDF): a numbered title followed by a page number, e.g. 「一、前言 06」.
    title = re.sub(r"\s\d{1,3}$", "", line.text)
    return title != line.text and numbered_heading(title) is not None


def _is_tab_row(line: _Line) -> bool:
    """A tab-separated row, or a Markdown pipe-table row."""
    text = line.text
    if "\t" in text:
        return len(text.split("\t")) >= 2
    return text.startswith("|") and text.endswith("|") and text.count("|") >= 3


def _is_aligned_row(line: _Line) -> bool:
    """A table row whose cells lost their tabs (PDF): mostly numeric space-separated cells."""
    if "。" in line.text or len(line.text) > 120:
        return False
    tokens = line.text.split()
    numeric = sum(1 for t in tokens if _NUMERIC.match(t))
    return numeric >= 2 and numeric * 2 >= len(tokens) - 1


class _HeadingOracle:
    """Decides which lines are headings, confirmed by PDF bookmarks or the table of contents."""

    def __init__(self, doc: Document, lines: list[_Line]) -> None:
        self.confirmed: dict[str, int] = {}  # squashed title -> rank
        self.outline_ranks: set[int] = set()
        self.has_outline = False
        for _level, title in doc.outline:
            if not title.strip():
                continue
            self.has_outline = True
            found = numbered_heading(title.strip())
            self.confirmed[squash(title)] = found[0] if found else 1
            if found:
                self.outline_ranks.add(found[0])
        for line in lines:
            if _is_toc_row(line):
                title = re.sub(r"(?:\.{3,}|…+)?\s*\d{0,3}\s*$", "", line.text.split("\t")[0]).strip()
                if title:
                    # A contents entry confirms the heading with or without its number, at the
                    # entry's own rank (so 「二、X」 in the contents makes a bare 「X」 a rank-2 heading).
                    found = numbered_heading(title)
                    rank = found[0] if found else 1
                    for key in (squash(_strip_number(title)), squash(title)):
                        # The contents' numbering (第一篇) outranks an unnumbered bookmark of the same title.
                        self.confirmed[key] = min(rank, self.confirmed.get(key, rank))

    def rank(self, line: _Line) -> int | None:
        text = line.text
        if len(text) > 80 or "\t" in text:
            return None
        found = numbered_heading(text)
        key = squash(text)
        named = _NAMED_SECTIONS.match(text)
        if (found is not None or named) and self.has_outline and key not in self.confirmed:
            # Bookmarks list every heading down to some depth: above it, an unlisted line is not one.
            rank = found[0] if found else 1
            if rank <= max(self.outline_ranks, default=1):
                return None
        if found is not None:
            return found[0]
        if named:
            # Back matter stands beside the parts, not inside the last one.
            return 0 if _BACK_MATTER.match(text) else 1
        if len(text) > 40 or text[-1] in _TERMINAL:
            return None
        if key in self.confirmed:
            return self.confirmed[key]
        parts = text.split()
        if 2 <= len(parts) <= 3 and all(squash(p) in self.confirmed for p in parts):
            # e.g. 「五大信賴產業 半導體」: a group name and an item, both listed in the contents
            return min(1, *(self.confirmed[squash(p)] for p in parts))
        return None


def _sentence_spans(line: _Line) -> list[Span]:
    """Sentence units of one line, without the spaces that follow a sentence end."""
    spans: list[Span] = []
    for start, end in sentence_spans(line.text):
        piece = line.text[start:end]
        start += len(piece) - len(piece.lstrip(" "))
        if line.text[start:end].strip():
            spans.append(Span(line.start + start, line.start + end))
    return spans or [line.span]  # a line of blanks (tabs) is still one unit: callers need one


def _continues(prev: _Line, nxt: _Line) -> bool:
    """A paragraph broken mid-sentence (e.g. by a page end in the source): join for chunking."""
    if prev.text[-1] in _TERMINAL or len(prev.text) < 20 or _BULLET.match(nxt.text):
        return False
    first = nxt.text[0]
    return "\u4e00" <= first <= "\u9fff" or first.islower() or first in "，、）)"


def parse_sections(doc: Document) -> list[Section]:
    """Split the document into sections (heading path + blocks of units)."""
    lines = _lines(doc.text)
    oracle = _HeadingOracle(doc, lines)
    sections: list[Section] = [Section(path=())]
    stack: list[tuple[int, str]] = []
    text_block: Block | None = None
    pending: Span | None = None  # an unfinished sentence carried over a line break
    prev_text_line: _Line | None = None

    def close_text() -> None:
        nonlocal text_block, pending, prev_text_line
        if text_block is not None and pending is not None:
            text_block.units.append(pending)
        text_block, pending, prev_text_line = None, None, None

    def add_block(block: Block) -> None:
        sections[-1].blocks.append(block)
        sections[-1].heading_only = False

    i = 0
    while i < len(lines):
        line = lines[i]
        if _is_toc_row(line) or (_is_tab_row(line) and _toc_context(lines, i)):
            # A table of contents is text, one line per unit, never a source of headings.
            close_text()
            block = Block("text")
            while i < len(lines) and (_is_toc_row(lines[i]) or _is_tab_row(lines[i])):
                block.units.append(lines[i].span)
                i += 1
            add_block(block)
            continue
        rank = oracle.rank(line)
        if (
            rank is not None
            and numbered_heading(line.text) is None
            and _clean_title(line.text) in {t for _r, t in stack}
        ):
            # An unnumbered heading repeating one of its own ancestors is a running header
            # (a part title printed on every page of the source): not a heading, not content.
            i += 1
            continue
        if rank is not None:
            close_text()
            while stack and stack[-1][0] >= rank:
                stack.pop()
            title = _clean_title(line.text)
            stack.append((rank, title))
            sections.append(Section(path=tuple(t for _r, t in stack), blocks=[Block("text", [line.span])]))
            i += 1
            continue
        if _CAPTION.match(line.text) or _is_tab_row(line) or _is_aligned_row(line):
            table, consumed = _table_at(lines, i)
            if table is not None:
                close_text()
                add_block(table)
                i += consumed
                continue
            if _CAPTION.match(line.text):
                # A figure caption and its source/notes lines stay one unit.
                close_text()
                end = i + 1
                while end < len(lines) and _is_caption_tail(lines[end]):
                    end += 1
                add_block(Block("text", [Span(line.start, lines[end - 1].end)]))
                i = end
                continue
        if text_block is None:
            text_block = Block("text")
            add_block(text_block)
        spans = _sentence_spans(line)
        if pending is not None and prev_text_line is not None and _continues(prev_text_line, line):
            spans[0] = Span(pending.start, spans[0].end)
        elif pending is not None:
            text_block.units.append(pending)
        text_block.units.extend(spans[:-1])
        pending = spans[-1]
        prev_text_line = line
        i += 1
    close_text()
    return [s for s in sections if s.blocks]


def _clean_title(text: str) -> str:
    """Heading text for the breadcrumb: Markdown marks dropped, spaces between CJK removed."""
    text = re.sub(r"\s+", " ", _MARKDOWN.sub(r"\2", text)).strip()
    body = _strip_number(text)
    prefix = text[: len(text) - len(body)]
    # Spaces inside CJK titles are layout artefacts (「總體 研發績效」); the one after a number is not.
    return prefix + re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", body)


def _is_caption_tail(line: _Line) -> bool:
    return bool(_CAPTION_TAIL.match(line.text)) and len(line.text) <= 120


_CONTENTS = re.compile(r"目\s*[次錄录]|(?:Table of )?Contents", re.IGNORECASE)


def _toc_context(lines: list[_Line], i: int) -> bool:
    """Tab rows directly under a 目次/Contents heading belong to the table of contents."""
    j = i - 1
    while j >= 0 and (_is_tab_row(lines[j]) or _is_toc_row(lines[j])):
        j -= 1
    return j >= 0 and bool(_CONTENTS.fullmatch(lines[j].text))


def _table_at(lines: list[_Line], i: int) -> tuple[Block | None, int]:
    """A table starting at line i (optionally its caption line first): block and lines consumed."""
    caption: _Line | None = None
    j = i
    if _CAPTION.match(lines[i].text) and not _is_tab_row(lines[i]):
        caption = lines[i]
        j = i + 1
    if j >= len(lines):
        return None, 0
    if _is_tab_row(lines[j]):
        is_row = _is_tab_row
    elif _is_aligned_row(lines[j]) or (
        caption is not None and j + 1 < len(lines) and _is_aligned_row(lines[j + 1])
    ):
        is_row = _is_aligned_row
    else:
        return None, 0
    rows: list[_Line] = []
    k = j
    if is_row is _is_aligned_row and not _is_aligned_row(lines[k]):
        rows.append(lines[k])  # a header line above numeric rows
        k += 1
    while k < len(lines) and is_row(lines[k]):
        rows.append(lines[k])
        k += 1
    if len(rows) < (2 if caption or is_row is _is_tab_row else 3):
        return None, 0
    # Source and note lines right under the table (資料來源：…) travel with its last rows.
    while k < len(lines) and is_note(lines[k].text) and len(lines[k].text) <= 200:
        rows.append(lines[k])
        k += 1
    units = [r.span for r in rows]
    header_row = rows[0].text if is_row is _is_tab_row or not _is_aligned_row(rows[0]) else None
    if is_row is _is_tab_row:
        # Every level of a header under merged cells is repeated, or later slices lose their years.
        header_row = "\n".join(r.text for r in rows[: header_row_count([r.text for r in rows])])
    header_parts = [p for p in (caption.text if caption else None, header_row) if p]
    if caption is not None:
        units[0] = Span(caption.start, units[0].end)  # the caption travels with the first row
    return Block("table", units, "\n".join(header_parts) or None), k - i
