"""Cleaning what users type before it reaches retrieval."""

from __future__ import annotations

import html
import re
import unicodedata

from qa.errors import QuestionError

MAX_QUESTION_CHARS = 2000

_TAG = re.compile(r"<[^>]{0,500}>")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_SPACE = re.compile(r"\s+")


def clean_question(text: str, max_chars: int = MAX_QUESTION_CHARS) -> str:
    """Strip control characters and markup, bound the length; raise QuestionError if nothing is left.

    Markup is removed rather than escaped because it never carries meaning in a question and would
    otherwise reach the lexical index as tokens like `script`.
    """
    if not isinstance(text, str):
        raise QuestionError("The question must be text.")
    text = _ANSI.sub(" ", html.unescape(text))
    text = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} else ch
        for ch in unicodedata.normalize("NFC", text)
    )
    text = _TAG.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    if not text:
        raise QuestionError("Please type a question.")
    if not any(unicodedata.category(ch)[0] in "LN" for ch in text):
        raise QuestionError("The question has no words or numbers to search for.")
    if len(text) > max_chars:
        # Long pastes are usually a paragraph plus a question; the head keeps the subject.
        text = text[:max_chars].rstrip()
    return text


def cut_note(text: str, max_chars: int = MAX_QUESTION_CHARS) -> str | None:
    """The note to show when clean_question cuts `text` to its limit; None when it is kept whole."""
    if not isinstance(text, str) or len(text) <= max_chars:
        return None
    length = len(_SPACE.sub(" ", text).strip())
    if length <= max_chars:
        return None
    return f"note: the question is {length:,} characters long; only the first {max_chars:,} were used."
