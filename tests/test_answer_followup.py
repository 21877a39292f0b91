"""Follow-up questions become retrieval queries that reuse the earlier subject."""

from __future__ import annotations

import pytest

from qa.errors import QuestionError
from qa.followup import MAX_HISTORY_TURNS, contextualize, is_followup, recent_questions
from qa.query import MAX_QUESTION_CHARS


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


def test_a_long_chain_of_followups_is_walked_without_recursion() -> None:
    # Deeper than Python's recursion limit: the history comes from API callers and can be anything.
    history = ["2024 年研發經費是多少？"] + ["那 2023 年呢？"] * 5000
    assert contextualize("那 2022 年呢？", history) == "2022 年研發經費是多少？"


def test_combined_query_stays_within_the_question_limit() -> None:
    long_question = "經濟部的預算是多少？" + "並說明各項計畫" * 300
    for question in ("它的占比是多少？", "那 2023 年呢？"):
        query = contextualize(question, [long_question[:MAX_QUESTION_CHARS]] + [question] * 5)
        assert len(query) <= MAX_QUESTION_CHARS
        assert query.startswith("經濟部")
    pronoun_query = contextualize("它的占比是多少？", [long_question[:MAX_QUESTION_CHARS]])
    assert pronoun_query.endswith("它的占比是多少？")  # the new question is kept whole


def test_history_entries_are_cleaned_like_questions() -> None:
    assert recent_questions(["<b>2023 年</b>\x1b[31m研發經費\x00是多少？", "  ", "？？？"]) == [
        "2023 年 研發經費 是多少？"
    ]


def test_only_the_last_turns_are_kept_each_within_the_limit() -> None:
    history = [f"第 {i} 個問題" + "很長" * 3000 for i in range(20)] + ["2024 年研發經費是多少？"]
    recent = recent_questions(history)
    assert len(recent) == MAX_HISTORY_TURNS
    assert recent[-1] == "2024 年研發經費是多少？" and recent[0].startswith("第 17 個問題")
    assert all(len(q) <= MAX_QUESTION_CHARS for q in recent)
    assert recent_questions(None) == [] and recent_questions(()) == []


@pytest.mark.parametrize("history", [[None], [["2023 年呢"]], [1], ["ok", {"q": "x"}], "2024 年研發經費", 5])
def test_history_of_the_wrong_type_is_refused_clearly(history: object) -> None:
    with pytest.raises(QuestionError, match="history"):
        recent_questions(history)


@pytest.mark.parametrize("history", [[None], [7], ["那 2023 年呢？"] * 3000])
def test_pipeline_ask_checks_and_bounds_its_history(fixture_pipeline, history: list[object]) -> None:
    if all(isinstance(h, str) for h in history):
        answer = fixture_pipeline.ask("那 2024 年呢？", history=history)
        assert answer.question == "那 2024 年呢？"
    else:
        with pytest.raises(QuestionError, match="history"):
            fixture_pipeline.ask("那 2024 年呢？", history=history)
