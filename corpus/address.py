"""Citation addresses: where a passage sits (page or lines), written in the reader's language.

The corpus, the answer frame and the UI all write addresses through here, so a citation reads
「第 12 頁」 in a Traditional answer, 「第 12 页」 in a Simplified one and "p. 12" in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # corpus.types builds its addresses here: a runtime import would be circular
    from corpus.types import Language


@dataclass(frozen=True)
class AddressWords:
    """Templates of one language: page {label}, line {line}, lines {first} to {last}."""

    page: str
    line: str
    lines: str


ADDRESS_WORDS: dict[Language, AddressWords] = {
    "zh-Hant": AddressWords(page="第 {label} 頁", line="第 {line} 行", lines="第 {first}–{last} 行"),
    "zh-Hans": AddressWords(page="第 {label} 页", line="第 {line} 行", lines="第 {first}–{last} 行"),
    "en": AddressWords(page="p. {label}", line="line {line}", lines="lines {first}-{last}"),
}


def page_range_label(page_start: int, page_end: int | None = None, printed: str | None = None) -> str:
    """The page label shown: the printed label when the PDF has one, else the physical page range."""
    if printed:
        return printed
    if page_end in (None, page_start):
        return str(page_start)
    return f"{page_start}-{page_end}"


def format_address(
    *,
    page_start: int | None = None,
    page_end: int | None = None,
    page_label: str | None = None,
    line_start: int | None = None,
    line_end: int | None = None,
    ocr: bool = False,
    language: Language = "en",
) -> str:
    """Page(s) for PDFs, line(s) for text files, "" when neither is known.

    A page read by OCR carries a mark (「第 12 頁（OCR）」, "p. 12 (OCR)") so the reader knows to check
    the page image before quoting a figure.
    """
    words = ADDRESS_WORDS[language]
    if page_start is not None:
        mark = ("（OCR）" if language != "en" else " (OCR)") if ocr else ""
        return words.page.format(label=page_range_label(page_start, page_end, page_label)) + mark
    if line_start is not None:
        if line_end in (None, line_start):
            return words.line.format(line=line_start)
        return words.lines.format(first=line_start, last=line_end)
    return ""
