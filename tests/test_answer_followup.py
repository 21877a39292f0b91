"""Follow-up questions become retrieval queries that reuse the earlier subject."""

from __future__ import annotations

import pytest

from qa.followup import contextualize, is_followup


@pytest.mark.parametrize(
    ("history", "question", "expected"),
    [
        (["2024 年研發經費是多少？"], "那 2023 年呢？", "2023 年研發經費是多少？"),
        (["113年中央政府科研預算總額是多少？"], "那 112 年呢？", "112年中央政府科研預算總額是多少？"),
        (["2024 年研发经费是多少？"], "那么 2023 年的呢？", "2023 年研发经费是多少？"),
        (["What was the R&D budget in 2024?"], "What about 2023?", "What was the R&D budget in 2023?"),
        (
            ["國家科學及技術委員會113年度預算法定數是多少？"],
            "那經濟部呢？",
            "經濟部113年度預算法定數是多少？",
        ),
        (["國科會的預算是多少？"], "那經濟部的呢？", "經濟部的預算是多少？"),
        # A chain of follow-ups keeps the subject of the first question.
        (["2024 年研發經費是多少？", "那 2023 年呢？"], "那 2022 年呢？", "2022 年研發經費是多少？"),
    ],
)
def test_followup_reuses_the_earlier_subject(history: list[str], question: str, expected: str) -> None:
    assert contextualize(question, history) == expected


def test_pronoun_followup_keeps_both_questions_for_retrieval() -> None:
    query = contextualize("它的占比是多少？", ["經濟部的預算是多少？"])
    assert "經濟部" in query and "占比" in query


@pytest.mark.parametrize(
    "question",
    [
        "智慧國家方案的主要目標是什麼？",
        "2023 年國家科學及技術委員會的研發經費是多少？",
        "How many AI professionals were trained?",
    ],
)
def test_standalone_question_is_returned_unchanged(question: str) -> None:
    assert not is_followup(question)
    assert contextualize(question, ["2024 年研發經費是多少？"]) == question


def test_without_history_the_question_is_unchanged() -> None:
    assert contextualize("那 2023 年呢？", []) == "那 2023 年呢？"
