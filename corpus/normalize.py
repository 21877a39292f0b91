"""Script folding, the one owner of OpenCC: matching text, script conversion, script detection.

Every layer that compares text across Traditional and Simplified Chinese converts through here, so
the lexical index, answer scoring, condition checks and highlighting all fold scripts the same way.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

from corpus.types import Language, Script

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"\u3000-\u303f\uff00-\uff65"
_HAN_RE = re.compile(f"[{_CJK}]")
_LATIN_RE = re.compile(r"[A-Za-z]")

# Full-width ASCII (U+FF01..U+FF5E) maps 1:1 onto ASCII; the ideographic space onto a space.
_WIDTH_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_HYPHEN_BREAK = re.compile(r"(?<=[a-z])-\n[ \t]*(?=[a-z])")
# A line break (even a blank line) between CJK characters is layout, unless a sentence ended there.
_CJK_BREAK = re.compile(f"(?<=[{_CJK}，、「」『』（）《》〈〉])\\s*\n\\s*(?=[{_CJK}{_CJK_PUNCT}])")
_CJK_SPACE = re.compile(f"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f]+")
_NEWLINES = re.compile(r"\s*\n\s*")
_WHITESPACE = re.compile(r"\s+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")

# Characters that OpenCC maps to a Traditional form but which are also ordinary Traditional
# characters (台灣, 才, 里長 ...): they are no evidence of Simplified script.
_SHARED_CHARS = frozenset("台才里于干后面只制系余松冲云卷范丑谷志咸征胡回采向舍斗了占划尽借准")


def fold_width(text: str) -> str:
    """Full-width digits, Latin and punctuation to half-width; length-preserving."""
    return text.translate(_WIDTH_TABLE)


def matching_text(text: str) -> str:
    """Text for lexical and dense matching; the display text itself is never changed.

    Folds widths, undoes PDF line-end hyphenation, joins line breaks (and stray spaces) between
    CJK characters, and collapses whitespace runs.
    """
    text = fold_width(text)
    text = _HYPHEN_BREAK.sub("", text)
    text = _CJK_BREAK.sub("", text)
    text = _CJK_SPACE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _NEWLINES.sub("\n", text)
    return text.strip()


class _Converters:
    """OpenCC converters, built once on first use (building one takes ~50 ms)."""

    _lock = threading.Lock()
    _t2s: Any = None
    _s2t: Any = None
    _tw2sp: Any = None

    @classmethod
    def get(cls) -> tuple[Any, Any]:
        if cls._t2s is None:
            with cls._lock:
                if cls._t2s is None:
                    import opencc

                    cls._s2t = opencc.OpenCC("s2t")
                    cls._t2s = opencc.OpenCC("t2s")
        return cls._t2s, cls._s2t

    @classmethod
    def taiwan_to_mainland(cls) -> Any:
        if cls._tw2sp is None:
            with cls._lock:
                if cls._tw2sp is None:
                    import opencc

                    cls._tw2sp = opencc.OpenCC("tw2sp")
        return cls._tw2sp


@lru_cache(maxsize=65536)
def _char_t2s(char: str) -> str:
    converted = _Converters.get()[0].convert(char)
    return converted if len(converted) == 1 else char


@lru_cache(maxsize=65536)
def _char_s2t(char: str) -> str:
    converted = _Converters.get()[1].convert(char)
    return converted if len(converted) == 1 else char


def to_canonical_script(text: str) -> str:
    """Traditional -> Simplified Chinese (OpenCC t2s), the single script used for matching.

    Length-preserving, so offsets into the result are offsets into `text`: phrase-level conversion
    is kept when it preserves length, otherwise the text is converted character by character.
    """
    if not text or not _HAN_RE.search(text):
        return text
    converted = _Converters.get()[0].convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(_char_t2s(c) if _HAN_RE.match(c) else c for c in text)


def to_traditional_script(text: str) -> str:
    """Simplified -> Traditional Chinese (OpenCC s2t), length-preserving like to_canonical_script."""
    if not text or not _HAN_RE.search(text):
        return text
    converted = _Converters.get()[1].convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(_char_s2t(c) if _HAN_RE.match(c) else c for c in text)


def to_simplified_text(text: str, *, mainland_phrases: bool = False) -> str:
    """Simplified Chinese for people to read; unlike to_canonical_script, lengths may change.

    `mainland_phrases` also swaps Taiwan wording for mainland wording (OpenCC tw2sp), which reads
    better in interface text but must never be used for matching.
    """
    if not text or not _HAN_RE.search(text):
        return text
    if mainland_phrases:
        return str(_Converters.taiwan_to_mainland().convert(text))
    return str(_Converters.get()[0].convert(text))


def compact_form(text: str) -> str:
    """Text for substring tests of words in sentences: NFKC, one script, lower case, no whitespace."""
    folded = unicodedata.normalize("NFKC", text)
    return _WHITESPACE.sub("", to_canonical_script(folded).lower())


def detect_script(text: str) -> Script:
    """zh-Hant, zh-Hans, en or mixed, from the share of Han vs Latin letters and script-specific Han.

    Han text without any script-specific character (e.g. 「研究」) counts as zh-Hant, the script of
    the corpus this product was built for.
    """
    han = _HAN_RE.findall(text)
    latin = len(_LATIN_RE.findall(text))
    if not han and not latin:
        return "mixed"
    # A Han character carries about as much as a short English word: weigh it like three letters.
    latin_share = latin / (3 * len(han) + latin)
    if latin_share > 0.9:
        return "en"
    if latin_share > 0.5:
        return "mixed"
    traditional = sum(1 for c in han if _char_t2s(c) != c)
    simplified = sum(1 for c in han if _char_s2t(c) != c)
    if traditional and simplified and min(traditional, simplified) * 4 > max(traditional, simplified):
        return "mixed"
    return "zh-Hans" if simplified > traditional else "zh-Hant"


def detect_language(text: str) -> Language:
    """Language of a question, for the answer's frame: English when Latin words dominate, else 简体
    or 繁體 by its script-specific characters.

    Unlike detect_script (which weighs letters for passages), this counts words, and text with no
    distinguishing characters reads as Traditional: the reports are Traditional.
    """
    cjk = _HAN_RE.findall(text)
    words = _LATIN_WORD.findall(text)
    if not cjk or (len(words) >= 3 and 2 * len(words) >= len(cjk)):
        return "en" if words or not cjk else "zh-Hant"
    traditional = sum(1 for c in cjk if _char_t2s(c) != c)
    simplified = sum(1 for c in cjk if c not in _SHARED_CHARS and _char_s2t(c) != c)
    return "zh-Hans" if simplified > traditional else "zh-Hant"


def is_cjk(char: str) -> bool:
    return bool(_HAN_RE.match(char))
