"""Display-text cleaning: extraction markup, running headers/footers, PDF line reflow."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence

from corpus.normalize import fold_width, is_cjk

_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^<>\s]+|[\w.+-]+@[\w-]+\.[\w.]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_FOOTNOTE = re.compile(r"\^\[[^\]\s]{1,6}\]|\[\^[^\]\s]{1,12}\]")
_ESCAPE = re.compile(r"\\([$*_#\[\]()`~>|\\-])")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
# Terminal escape sequences (CSI, 8-bit CSI, OSC, two-character escapes) go whole, then any other C0
# control but tab and the line ends, DEL and C1 controls: a stray NUL or escape in a report would
# otherwise reach terminals (`qa search`), exports and the index verbatim.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-9:;<=>?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]{0,200}(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]\s*)?(?:第\s*)?\d{1,4}(?:\s*頁|\s*页)?(?:\s*[-–—])?$"
    r"|^(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$"
    r"|^\d{1,4}\s*/\s*\d{1,4}$",
    re.IGNORECASE,
)
_TERMINAL = "。！？；：!?;:…」』）)"


def strip_controls(text: str) -> str:
    """The text without control characters (tabs and line ends stay)."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


def clean_markup(line: str) -> str:
    """Remove markup and control characters left over from extraction, keeping the text it wraps."""
    line = strip_controls(line)
    if "<" in line:
        line = _AUTOLINK.sub(r"\1", line)
        line = _HTML_TAG.sub("", line)
    if "**" in line or "__" in line:
        line = _BOLD.sub(lambda m: m.group(1) or m.group(2), line)
    if "^[" in line or "[^" in line:
        line = _FOOTNOTE.sub("", line)
    if "\\" in line:
        line = _ESCAPE.sub(r"\1", line)
    if "&" in line and _ENTITY.search(line):
        line = html.unescape(line)
    return line


def squash(text: str) -> str:
    """Comparison key: widths folded, all whitespace removed."""
    return re.sub(r"\s+", "", fold_width(text))


def is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER.match(line.strip()))


def repeated_title_lines(lines: Sequence[str], title: str, min_count: int = 3) -> set[int]:
    """Indices of running-header copies of the title (all but its first occurrence)."""
    key = squash(title)
    if not key:
        return set()
    hits = [i for i, line in enumerate(lines) if line.strip() and squash(line) == key]
    return set(hits[1:]) if len(hits) >= min_count else set()


def page_number_lines(lines: Sequence[str], min_count: int = 3) -> set[int]:
    """Indices of lines that hold nothing but a page number, when the file has several."""
    hits = {i for i, line in enumerate(lines) if line.strip() and is_page_number(line)}
    return hits if len(hits) >= min_count else set()


def margin_lines(pages: Sequence[list[str]], depth: int = 2, min_share: float = 0.3) -> list[set[int]]:
    """Per page, indices of top/bottom lines that recur across pages (digits ignored) or are page numbers."""

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", squash(line))

    counts: Counter[str] = Counter()
    for lines in pages:
        margin = {key(line) for line in lines[:depth] + lines[-depth:] if line.strip()}
        counts.update(margin)
    threshold = max(3, int(min_share * len(pages)))
    frequent = {k for k, n in counts.items() if n >= threshold and k}
    drop: list[set[int]] = []
    for lines in pages:
        positions = list(range(min(depth, len(lines)))) + list(range(max(0, len(lines) - depth), len(lines)))
        drop.append({i for i in positions if is_page_number(lines[i]) or key(lines[i]) in frequent})
    return drop


def _width(text: str) -> int:
    return sum(2 if is_cjk(c) or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef" else 1 for c in text)


_BLOCK_START = re.compile(
    r"^(?:[●◎•▪■□◆◇○\-*]\s|[（(]?[一二三四五六七八九十壹貳參肆伍陸柒捌玖拾\d]+[、.)）]|圖\s|表\s|附表)"
)


def _is_cjk_like(char: str) -> bool:
    return is_cjk(char) or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"


def _joins_tight(prev: str, nxt: str) -> bool:
    """Wrapped CJK needs no space; a wrap next to Latin or digits stood at a space."""
    return (_is_cjk_like(prev) and _is_cjk_like(nxt)) or prev in "（(/-" or nxt in "，。、；：）)"


def wrap_joint(last: str, text: str, full_width: float) -> str | None:
    """How `text` joins the line `last` when `last` wrapped into it ("" or " "), or None when `last`
    ended its paragraph: a wrap is nearly as wide as the text column and ends no sentence. A line
    ending in a hyphenated word is no wrap here: `matching_text` joins it, since the hyphen may be real."""
    last, text = last.strip(), text.strip()
    if not last or not text or "\t" in last or "\t" in text:
        return None
    prev = last[-1]
    if _width(last) < 0.85 * full_width or prev in _TERMINAL or _BLOCK_START.match(text):
        return None
    if prev == "-" and text[0].islower():
        return None
    return "" if _joins_tight(prev, text[0]) else " "


def reflow(lines: list[str], full_width: float) -> list[str]:
    """Join a PDF page's wrapped lines into paragraphs (see `wrap_joint`)."""
    out: list[str] = []
    current = ""
    last = ""
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if current:
            joint = wrap_joint(last, text, full_width)
            if joint is not None:
                current += joint + text
                last = text
                continue
            out.append(current)
        current = last = text
    if current:
        out.append(current)
    return out


def column_width(pages: Sequence[list[str]]) -> float:
    """Typical width of a full text line (90th percentile of non-trivial lines)."""
    widths = sorted(_width(line.strip()) for lines in pages for line in lines if len(line.strip()) > 10)
    if not widths:
        return 80.0
    return float(widths[int(0.9 * (len(widths) - 1))])
