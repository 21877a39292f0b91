"""Title, publisher and year read from a report's cover (its first lines)."""

from __future__ import annotations

import re
from collections.abc import Sequence

_ORG_SUFFIX = (
    r"(?:委員會|委员会|研究院|研究中心|資訊中心|资讯中心|中心|部|署|局|院|處|处"
    r"|基金會|基金会|協會|协会|大學|大学)"
)
_PUBLISHER = re.compile(
    rf"^(?:財團法人|财团法人)?([\u4e00-\u9fff（）()]{{2,40}}?{_ORG_SUFFIX})"
    r"(?:彙編|汇编|編印|编印|編|编|出版|印製|印制)?$"
)
_ROC_YEAR = re.compile(r"中華民國\s*(\d{2,3})\s*年|民國\s*(\d{2,3})\s*年")
_YEAR_MONTH = re.compile(r"^((?:19|20)\d{2})\s*年\s*\d{1,2}\s*月|^((?:19|20)\d{2})[./-]\d{1,2}$")
_TITLE_TAIL = re.compile(
    r"(?:報告|报告|彙編|汇编|白皮書|白皮书|計畫|计划|方案|Report|Compilation)\s*$", re.IGNORECASE
)
_COVER_END = re.compile(
    r"^(?:目次|目錄|目\s*錄|目录|摘要|執行摘要|执行摘要|Executive Summary|Abstract|Contents)$"
)


def cover_lines(lines: Sequence[str], limit: int = 40) -> list[str]:
    """Non-empty lines before the summary or table of contents starts."""
    out: list[str] = []
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if _COVER_END.match(text) or len(out) >= limit:
            break
        out.append(text)
    return out


def guess_title(lines: Sequence[str]) -> str:
    """First cover line, plus the next one when the first is only the start of the title."""
    cover = cover_lines(lines, limit=4)
    if not cover:
        return ""
    title = re.sub(r"\s+", " ", cover[0])
    if (
        len(cover) > 1
        and not _TITLE_TAIL.search(title)
        and _TITLE_TAIL.search(cover[1])
        and len(cover[1]) <= 30
    ):
        title = f"{title} {cover[1]}"
    return title


def guess_metadata(lines: Sequence[str]) -> dict[str, str]:
    """Publisher and (Gregorian) year where the cover states them."""
    meta: dict[str, str] = {}
    for text in cover_lines(lines):
        compact = re.sub(r"\s+", "", text)
        if "publisher" not in meta and len(compact) <= 40 and (m := _PUBLISHER.match(compact)):
            meta["publisher"] = m.group(1)
        if "year" not in meta:
            if m := _ROC_YEAR.search(compact):
                meta["year"] = str(int(m.group(1) or m.group(2)) + 1911)
            elif m := _YEAR_MONTH.match(text.strip()):
                meta["year"] = m.group(1) or m.group(2)
    return meta
