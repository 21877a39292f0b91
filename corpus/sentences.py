"""The one sentence splitter: chunking, answer units and generated answers cut sentences alike.

A sentence ends at 。！？；!?… (with any closing quotes or brackets) or, in English, at a full stop
followed by a space and a capital, digit or opening quote; a line break always ends one, as the
reports keep one paragraph (or table row) per line.
"""

from __future__ import annotations

import re

_CLOSERS = r"[」』”’）)\]\"']*"
_CJK_END = re.compile(rf"[。！？；!?…]+{_CLOSERS}")
# A model's reply cites at the end of a sentence, not after each clause: ； does not end a claim.
_CJK_END_NO_SEMICOLON = re.compile(rf"[。！？!?…]+{_CLOSERS}")
# Not after a capital, so that U.S. and Dr. stay inside their sentence.
_EN_END = re.compile(r"(?<=[a-z0-9%)\]\"'”’])\.[\"'”’)]*(?=\s+[A-Z0-9(\"“「])")


def sentence_spans(text: str, *, semicolon_ends: bool = True) -> list[tuple[int, int]]:
    """[start, end) of every sentence of `text`, in order.

    The spans cover each line exactly (line breaks excluded, empty pieces dropped); callers trim
    whitespace or list bullets as their units need.
    """
    cjk_end = _CJK_END if semicolon_ends else _CJK_END_NO_SEMICOLON
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        cuts = {m.end() for m in cjk_end.finditer(line)} | {m.end() for m in _EN_END.finditer(line)}
        previous = 0
        for cut in sorted(cuts | {len(line)}):
            if cut > previous:
                spans.append((offset + previous, offset + cut))
            previous = cut
        offset += len(line) + 1
    return spans


def split_sentences(text: str, *, semicolon_ends: bool = True) -> list[str]:
    """The sentences of `text` as strings (see sentence_spans)."""
    return [text[start:end] for start, end in sentence_spans(text, semicolon_ends=semicolon_ends)]
