"""Decode text files whose encoding is detected, not assumed (UTF-8/16, Big5/CP950, GB18030)."""

from __future__ import annotations

import codecs
import logging
import re
from pathlib import Path

from corpus.cleaning import strip_controls
from corpus.types import CorpusError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters other than tab/newline/CR/form feed; real text has (almost) none.
_CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r\f"} | {"\x7f"}
# Well-formed UTF-8 sequences of two to four bytes: other encodings of Chinese (Big5, GB18030)
# almost never form them, so many of these and few invalid bytes mean damaged UTF-8.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
DAMAGED_UTF8_SHARE = 0.01  # invalid bytes per well-formed multi-byte character, at most

log = logging.getLogger(__name__)


def decode_text(path: Path, data: bytes) -> str:
    """The file's text; raises CorpusError for binary content or an unknown encoding."""
    text = _decode(path, data)
    sample = text[:20000]
    if sample and sum(1 for c in sample if c in _CONTROL) > 0.01 * len(sample):
        raise CorpusError(path, "binary content, not a text file")
    # A few stray controls do not make a file binary, but they go now: the title and cover are
    # read from these lines before any other cleaning.
    return strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))


def _decode(path: Path, data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise CorpusError(path, f"invalid {encoding} text ({exc.reason})") from None
    if b"\x00" not in data:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            repaired = _damaged_utf8(path, data)
            if repaired is not None:
                return repaired
    from charset_normalizer import from_bytes

    best = from_bytes(
        data,
        cp_isolation=[
            "big5",
            "cp950",
            "gb18030",
            "gbk",
            "utf_16_le",
            "utf_16_be",
            "utf_8",
            "cp1252",
            "latin_1",
        ],
    ).best()
    if best is None:
        raise CorpusError(path, "binary content or unknown text encoding")
    encoding = best.encoding
    # Big5 proper lacks the CP950 extensions used in Taiwanese documents; CP950 is a superset.
    if encoding == "big5":
        encoding = "cp950"
    if encoding == "gbk":
        encoding = "gb18030"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return str(best)


def _damaged_utf8(path: Path, data: bytes) -> str | None:
    """UTF-8 text with a few invalid bytes (a bad copy, a cut-off end), each shown as U+FFFD.

    Left to encoding detection otherwise: a file in another encoding would be read as mojibake.
    """
    wellformed = len(_UTF8_MULTIBYTE.findall(data))
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd") - data.count("\ufffd".encode())
    if wellformed < 20 or invalid > DAMAGED_UTF8_SHARE * wellformed:
        return None
    log.warning("%s: %d invalid UTF-8 byte sequence(s) replaced by U+FFFD", path.name, invalid)
    return text
