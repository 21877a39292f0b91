"""Answer units of a chunk: sentences of prose and rows of tables, with offsets.

They live in the corpus layer so that the index can give every unit a vector at build time and
the answer step reads the same units back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.sentences import sentence_spans
from corpus.types import Chunk

_BULLET = re.compile(r"^[\s●•■◆◇○◎▪▶►★※\-\*–—]+")
_MIN_CHARS = 4


@dataclass(frozen=True)
class Sentence:
    """One answer unit; `text == chunk.text[start:end]`."""

    text: str
    start: int  # offsets into chunk.text
    end: int
    is_row: bool = False
    header: str | None = None  # for rows: the table's caption line (if any) and header row


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets without surrounding whitespace and leading list bullets."""
    piece = text[start:end]
    bullet = _BULLET.match(piece)
    lead = bullet.end() if bullet else 0
    stripped = piece[lead:]
    start += lead + (len(stripped) - len(stripped.lstrip()))
    end -= len(piece) - len(piece.rstrip())
    return start, end


def _row_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets of a table row without surrounding spaces; tabs stay, because a leading tab is the
    row's empty first cell (a header's blank corner, a row without a label) and dropping it would
    shift every cell one column to the left of its header."""
    piece = text[start:end]
    start += len(piece) - len(piece.lstrip(" \u3000"))
    end -= len(piece) - len(piece.rstrip(" \u3000"))
    return start, end


def split_units(chunk: Chunk) -> list[Sentence]:
    """Sentences of prose lines and rows of tab-separated lines, in document order.

    The header of a table is `chunk.table_header` when the chunker repeated it, else the first
    tab-separated line of the chunk (which is then not offered as an answer itself).
    """
    text = chunk.text
    units: list[Sentence] = []
    header = chunk.table_header
    caption = ""  # the last prose line before a table names it (表 2-1 各機關經費)
    in_table = False
    offset = 0
    for line in text.split("\n"):
        line_start, line_end = offset, offset + len(line)
        offset = line_end + 1
        if "\t" in line:
            start, end = _row_span(text, line_start, line_end)
            row = text[start:end]
            if not in_table and chunk.table_header is None:
                header = row  # a new table starts with its header row
            in_table = True
            if row == header or len(row.replace("\t", "").strip()) < 2:
                continue
            context = f"{caption}\n{header}" if caption else header
            units.append(Sentence(row, start, end, is_row=True, header=context))
            continue
        if line.strip():
            in_table = False
            caption = line.strip()
        # Sentences are cut by the splitter that cut the chunk's units (corpus/sentences.py).
        for span_start, span_end in sentence_spans(line):
            start, end = _trimmed(text, line_start + span_start, line_start + span_end)
            if end - start >= _MIN_CHARS:
                units.append(Sentence(text[start:end], start, end))
    return units


def unit_text(unit: Sentence) -> str:
    """The text a unit is embedded and matched as: a row is read under its caption and header."""
    return f"{unit.header}\n{unit.text}" if unit.is_row and unit.header else unit.text


# A sentence that opens with one of these points back at the one before it (「他也以 39 歲…」,
# 「該計畫…」, "These devices…"): read alone, it does not say who or what. 此外 and 其他 open
# sentences without pointing back, so the longer forms are tested first and let through.
_NOT_ANAPHORIC = ("此外", "其他", "其它", "其實", "其次", "這次", "这次", "他國", "他国")
_ANAPHORIC = re.compile(
    r"^(?:[他她它牠][們们]?|這|这|該|该|此|其|上述|前述|"
    r"(?:He|She|It|They|This|These|That|Those|Such|Its|Their|His|Her)\b)"
)


def leans_on_previous(text: str) -> bool:
    """Whether a sentence opens by pointing back at the one before it (a pronoun or demonstrative)."""
    stripped = text.lstrip(" \u3000「『\"'（(")
    return not stripped.startswith(_NOT_ANAPHORIC) and bool(_ANAPHORIC.match(stripped))


def with_antecedent(chunk: Chunk, unit: Sentence) -> Sentence:
    """The unit widened to start at the prose sentence before it when it points back at that one;
    otherwise the unit itself. The result is still a verbatim span of the chunk."""
    if unit.is_row or not leans_on_previous(unit.text):
        return unit
    before = [u for u in split_units(chunk) if u.end <= unit.start and not u.is_row]
    if not before or "\n\n" in chunk.text[before[-1].end : unit.start]:
        return unit
    start = before[-1].start
    return Sentence(chunk.text[start : unit.end], start, unit.end)
