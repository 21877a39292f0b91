"""Conversation context: turn a follow-up question into a query that stands on its own.

「2024 年研發經費是多少？」 followed by 「那 2023 年呢？」 becomes 「2023 年研發經費是多少？」: the new
question's year (or agency) replaces the matching slot of the earlier question, which supplies the
subject. Questions that already name their own subject are returned unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from qa.errors import QuestionError
from qa.language import matching_form, question_terms
from qa.query import MAX_QUESTION_CHARS, clean_question

# Earlier questions that can shape a follow-up; older ones are dropped (a follow-up leans on the last).
MAX_HISTORY_TURNS = 4

_LEAD = re.compile(
    r"^\s*(?:那麼|那么|那|而|還有|还有|另外|至於|至于|換成|换成|如果是|and what about|what about|how about|"
    r"and for|and in|and|what of|same for)\s*[,，]?\s*",
    re.IGNORECASE,
)
_TAIL = re.compile(r"\s*(?:的情況|的情况|的話|的话|呢|嗎|吗|then|instead)?\s*[？?。.!！\s]*$", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(?:19\d\d|20\d\d|\d{2,3}(?=\s*年))(?!\d)")
_PRONOUN = re.compile(r"它們|它们|它|其|該|该|此|這些|这些|\b(?:it|its|they|their|them|that|those)\b", re.I)
_MAX_FOLLOWUP_WEIGHT = 2.0
_AGENCY_ENDINGS = frozenset("部會会院署局處处所")
_CJK_NAME_CHAR = re.compile(r"[\u4e00-\u9fff](?<![的之與与和請请問问])")


def _content_weight(question: str) -> float:
    """How much subject a question names itself: words count 1, single characters 0.5."""
    without_pronouns = _PRONOUN.sub(" ", question)
    return sum(
        1.0 if len(t.text) >= 2 else 0.5 for t in question_terms(without_pronouns) if t.kind != "number"
    )


def is_followup(question: str) -> bool:
    """A short question that leans on the previous one: 「那 2023 年呢？」, "What about 2023?"."""
    folded = unicodedata.normalize("NFKC", question)
    weight = _content_weight(folded)
    marked = (
        bool(_LEAD.match(folded)) or folded.rstrip(" ？?").endswith("呢") or bool(_PRONOUN.search(folded))
    )
    return (marked and weight <= _MAX_FOLLOWUP_WEIGHT) or (weight == 0 and bool(_YEAR.search(folded)))


def _substitute_years(base: str, years: list[str]) -> str:
    if not years:
        return base
    replacement = years[0]
    return _YEAR.sub(replacement, base) if _YEAR.search(base) else base


def _same_role(original: str, word: str) -> bool:
    if original == word:
        return False
    if original[-1] in _AGENCY_ENDINGS and word[-1] in _AGENCY_ENDINGS:
        return True  # one agency for another: 經濟部 for 國家科學及技術委員會
    return original[-1] == word[-1]


def _substitute_word(base: str, word: str) -> str | None:
    """Replace the word of the base question that plays the same role as `word`, if there is one."""
    for term in question_terms(base):
        if term.kind != "cjk" or len(term.text) < 2:
            continue
        for start in range(len(base) - len(term.text) + 1):
            original = base[start : start + len(term.text)]
            if matching_form(original) == term.text and _same_role(original, word):
                end = start + len(original)
                if original[-1] in _AGENCY_ENDINGS:
                    # Agency names are several jieba words (國家/科學/及/技術/委員會): take the whole run.
                    while start > 0 and _CJK_NAME_CHAR.match(base[start - 1]):
                        start -= 1
                return base[:start] + word + base[end:]
    return None


def recent_questions(history: object) -> list[str]:
    """The last few earlier questions, cleaned like a question; raises QuestionError on a bad history.

    The history comes from API callers as well as the chat, so its type is checked here rather than
    trusted, and entries that clean to nothing (blank, punctuation only) are dropped.
    """
    if history is None:
        return []
    if not isinstance(history, list | tuple):
        raise QuestionError("The history must be a list of earlier questions (strings), oldest first.")
    cleaned: list[str] = []
    for position, entry in enumerate(history, 1):
        if not isinstance(entry, str):
            raise QuestionError(
                f"The history must be a list of earlier questions (strings); entry {position} is "
                f"{type(entry).__name__}."
            )
        try:
            cleaned.append(clean_question(entry))
        except QuestionError:
            continue
    return cleaned[-MAX_HISTORY_TURNS:]


def _join(head: str, tail: str, limit: int) -> str:
    """`head tail`, shortening head (the older context) so that the whole fits in `limit`."""
    room = limit - len(tail) - 1
    if room <= 0:
        return tail[:limit]
    return f"{head[:room].rstrip()} {tail}"


def _follow(question: str, base: str, limit: int) -> str:
    """`question` read as a follow-up of the stand-alone query `base`."""
    folded = unicodedata.normalize("NFKC", question)
    if _PRONOUN.search(folded):
        # 「它的占比是多少？」: the pronoun stands for the earlier subject; keep both for retrieval.
        return _join(base, question, limit)
    rest = _TAIL.sub("", _LEAD.sub("", folded))
    years = _YEAR.findall(rest)
    merged = _substitute_years(base, years)
    remainder = _YEAR.sub("", rest).strip()
    remainder = re.sub(r"^年度?|年度?$", "", remainder).strip(" ，,的")
    if remainder:
        substituted = _substitute_word(merged, remainder)
        # The new words lead; when too long, the older context loses its end.
        merged = substituted if substituted is not None else f"{remainder} {merged}"
    return merged[:limit]


def contextualize(question: str, history: Sequence[str], limit: int = MAX_QUESTION_CHARS) -> str:
    """A retrieval query for `question` given the earlier questions of the conversation (oldest first).

    Walks the conversation forwards: each follow-up is resolved against the query before it, and a
    question that stands on its own starts afresh. The result is at most `limit` characters.
    """
    if not history or not is_followup(question):
        return question[:limit]
    query: str | None = None
    for turn in [*history, question]:
        query = turn[:limit] if query is None or not is_followup(turn) else _follow(turn, query, limit)
    return query or question[:limit]
