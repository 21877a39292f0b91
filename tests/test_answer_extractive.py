"""Extractive answers: figures first, verified citations, scripts and languages, abstention."""

from __future__ import annotations

import dataclasses

import pytest
from ci_guard import skip_or_fail
from fixtures.answer.reports import COASTAL, OCEAN, load_report, rank, real_embedder

from qa.answer import (
    CONFIDENCE_MODES,
    AnswerConfig,
    Selectable,
    answer_question,
    candidate_records,
    effective_threshold,
    select_indices,
)
from qa.citations import build_citation, verify_quote
from qa.config import Config
from qa.errors import QAError
from qa.language import detect_language
from qa.types import Answer

CONFIG = AnswerConfig()
# Without an embedder no candidate has a vector, so the hand weights and their threshold decide
# (the learned models were fitted on embedded candidates only).
UNEMBEDDED_THRESHOLD = effective_threshold(dataclasses.replace(CONFIG, confidence="hand"))


def ask(question: str, *, embedder: object | None = None, config: AnswerConfig = CONFIG) -> Answer:
    chunks = load_report(OCEAN).chunks + load_report(COASTAL).chunks
    return answer_question(question, rank(question, chunks, embedder), embedder=embedder, config=config)


def assert_citations_verbatim(answer: Answer) -> None:
    """Every shown citation quotes the document's display text exactly at its offsets."""
    texts = {report.chunks[0].doc_id: report.text for report in map(load_report, (OCEAN, COASTAL))}
    assert answer.citations
    for number, citation in enumerate(answer.citations, start=1):
        assert citation.number == number
        assert texts[citation.doc_id][citation.quote_start : citation.quote_end] == citation.quote
        assert f"[{number}]" in answer.text
        assert citation.address


def test_figure_question_answered_from_a_sentence() -> None:
    answer = ask("2024 年海洋科技研發經費總額是多少？")
    assert not answer.abstained
    assert answer.figure == "86.5 億臺幣"
    assert answer.text.startswith("86.5 億臺幣 [1]")
    assert "86.5 億臺幣" in answer.citations[0].quote
    assert answer.language == "zh-Hant"
    assert_citations_verbatim(answer)


def test_figure_question_answered_from_a_table_row_names_the_column() -> None:
    answer = ask("交通部 2024 年的海洋科技經費是多少？")
    assert not answer.abstained
    assert answer.figure == "785"
    first_line = answer.text.splitlines()[0]
    assert first_line.startswith("785")
    assert "2024 年經費 (百萬元)" in first_line  # the column: year and unit
    assert "交通部" in first_line
    assert answer.citations[0].quote == "交通部\t785\t9.1%"
    assert_citations_verbatim(answer)


def test_share_question_takes_the_percentage_column() -> None:
    answer = ask("經濟部的海洋科技經費占比是多少？")
    assert answer.figure == "14.0%"
    assert "占比 (%)" in answer.text.splitlines()[0]


def test_simplified_question_gets_simplified_frame_around_verbatim_traditional_quote() -> None:
    answer = ask("2024 年海洋科技研发经费总额是多少？")
    assert answer.language == "zh-Hans"
    assert not answer.abstained
    assert answer.figure == "86.5 億臺幣"
    assert answer.text.startswith("「86.5 億臺幣」[1]")
    quote = answer.citations[0].quote
    assert "研發經費" in quote  # never converted to 研发经费
    assert f"「{quote}」" in answer.text
    assert "根据" in answer.text and "根據" not in answer.text
    assert_citations_verbatim(answer)


def test_english_question_about_chinese_text_gets_an_english_frame() -> None:
    chinese_only = tuple(c for c in load_report(OCEAN).chunks if detect_language(c.text) != "en")
    question = (
        "How many marine weather observation stations did the offshore wind farm network complete in 2024?"
    )
    hits = rank("離岸風場 海氣象觀測站 2024", chinese_only)  # what cross-lingual retrieval returns
    answer = answer_question(
        question, hits, embedder=None, config=dataclasses.replace(CONFIG, abstain_below=0.0)
    )
    assert answer.language == "en"
    assert "According to 海洋科技發展年報 (" in answer.text
    assert "18 座" in answer.text
    quote = answer.citations[0].quote
    assert f"「{quote}」" in answer.text
    assert answer.figure == "18 座"
    assert_citations_verbatim(answer)


def test_english_question_about_english_text_is_answered_plainly() -> None:
    answer = ask("How much was the coastal resilience funding in 2024?")
    assert answer.language == "en"
    assert answer.figure == "NT$3.2 billion"
    assert answer.text.startswith("NT$3.2 billion [1]")
    assert "According to" not in answer.text
    assert_citations_verbatim(answer)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("2030 年火星探測計畫的預算是多少？", "報告中沒有找到相關資訊"),
        ("2030 年火星探测计划的预算是多少？", "报告中没有找到相关信息"),
        (
            "How much did the lunar mining programme cost in 2030?",
            "The reports do not contain information about this.",
        ),
    ],
)
def test_unanswerable_question_abstains_and_lists_related_passages(question: str, message: str) -> None:
    answer = ask(question)
    assert answer.abstained
    assert answer.text == message
    assert answer.citations == []
    assert answer.figure is None
    assert 1 <= len(answer.related) <= CONFIG.passages
    assert answer.confidence < UNEMBEDDED_THRESHOLD


def test_confidence_separates_answerable_from_unanswerable() -> None:
    answerable = [
        ask(q).confidence
        for q in ("海洋生物多樣性資料庫收錄多少種物種紀錄？", "有多少所大學執行海洋調查計畫？")
    ]
    unanswerable = [
        ask(q).confidence for q in ("2030 年火星探測計畫的預算是多少？", "太空中心培育多少名太空人？")
    ]
    assert min(answerable) > max(unanswerable)


def test_no_hits_abstains() -> None:
    answer = answer_question("2024 年海洋科技研發經費總額是多少？", [], embedder=None, config=CONFIG)
    assert answer.abstained and answer.confidence == 0.0 and answer.related == []


def test_a_citation_that_fails_verification_is_dropped() -> None:
    chunk = next(c for c in load_report(OCEAN).chunks if "86.5 億臺幣" in c.text)
    assert verify_quote(chunk, "2024 年海洋科技研發經費總額達 99.9 億臺幣") is None
    assert verify_quote(chunk, "2024 年海洋科技研发经费总额") is None  # converted script is not verbatim
    assert verify_quote(chunk, "") is None
    assert build_citation(1, chunk, "經費總額達 99.9 億臺幣") is None
    start, end = verify_quote(chunk, "86.5 億臺幣") or (0, 0)
    assert load_report(OCEAN).text[start:end] == "86.5 億臺幣"


def test_answer_sentences_are_limited_and_cited_in_order() -> None:
    config = dataclasses.replace(CONFIG, max_sentences=1)
    answer = ask("離岸風場環境監測網完成了什麼？", config=config)
    assert len(answer.citations) == 1
    assert answer.text.endswith("[1]")
    assert "18 座海氣象觀測站" in answer.text


def test_the_best_sentences_own_passage_keeps_weaker_sentences_than_other_passages() -> None:
    def item(score: float, passage: str, form: str) -> Selectable:
        return Selectable(
            score, coverage=score, cross_script=False, blocked=False, form=form, passage=passage
        )

    items = [item(1.0, "p1", "a"), item(0.7, "p2", "b"), item(0.6, "p1", "c"), item(0.3, "p1", "d")]
    # keep_ratio 0.8 alone: nothing else comes close enough to the best sentence
    assert select_indices(items, 3, 0.8) == [0]
    # its own passage's third sentence (0.6 of its score) joins; the other passage's 0.7 does not
    assert select_indices(items, 3, 0.8, same_passage_ratio=0.5) == [0, 2]
    # the limit still holds, and an unknown passage ("") is never taken for the same one
    assert select_indices(items, 1, 0.8, same_passage_ratio=0.1) == [0]
    unknown = [item(1.0, "", "a"), item(0.6, "", "c")]
    assert select_indices(unknown, 3, 0.8, same_passage_ratio=0.5) == [0]


def test_sentences_of_one_passage_share_one_citation_quoting_both() -> None:
    config = dataclasses.replace(CONFIG, same_passage_ratio=0.0)  # keep every sentence of the passage
    answer = ask("海洋委員會補助多少所大學？", config=config)
    assert not answer.abstained and len(answer.text.splitlines()) >= 3  # the figure and two sentences
    assert len(answer.citations) == 1 and answer.text.count("[2]") == 0
    quote = answer.citations[0].quote
    # widened from the sentence over the table row below it, both of the same passage
    assert quote.startswith("海洋委員會另補助 42 所大學") and quote.endswith("海洋委員會\t4,120\t47.6%")
    assert_citations_verbatim(answer)


def test_names_the_candidates_own_passage_lacks_are_counted() -> None:
    question = "海洋生物多樣性資料庫收錄了多少種物種紀錄？"
    chunks = load_report(OCEAN).chunks
    prepared = candidate_records(question, rank(question, chunks), embedder=None, config=CONFIG)
    absent = {}
    for candidate in prepared.candidates:
        assert candidate.features is not None
        absent[candidate.unit.text] = candidate.features.names_absent
    # the database's own passage states every name; the funding sentences state neither 多樣性 nor 資料庫
    assert absent[next(t for t in absent if "9,850" in t)] == 0.0
    assert absent[next(t for t in absent if "86.5" in t)] >= 2.0


def test_english_words_the_chinese_sentence_does_not_translate_are_counted() -> None:
    chinese_only = tuple(c for c in load_report(OCEAN).chunks if detect_language(c.text) != "en")
    question = "How many species records does the marine biodiversity database hold?"
    prepared = candidate_records(question, rank(question, chinese_only), embedder=None, config=CONFIG)
    absent = {c.unit.text: c.features for c in prepared.candidates if c.features is not None}
    database = absent[next(t for t in absent if "9,850" in t)]
    funding = absent[next(t for t in absent if "86.5" in t)]
    # 物種, 紀錄, 生物多樣性 and 資料庫 translate the question's words; the funding sentence has none
    assert database.gloss_unit_absent < 0.5 < funding.gloss_unit_absent
    assert database.gloss_absent < funding.gloss_absent
    # a Chinese question reads Chinese words directly: nothing is translated
    asked = "海洋生物多樣性資料庫收錄了多少種物種紀錄？"
    chinese = candidate_records(asked, rank(asked, chinese_only), embedder=None, config=CONFIG)
    assert all(c.features is not None and c.features.gloss_absent == 0.0 for c in chinese.candidates)


def test_chinese_words_the_english_sentence_does_not_translate_are_counted() -> None:
    chunks = load_report(COASTAL).chunks
    question = "海岸韌性計畫 2024 年的經費是多少？"
    prepared = candidate_records(question, rank(question, chunks), embedder=None, config=CONFIG)
    absent = {c.unit.text: c.features for c in prepared.candidates if c.features is not None}
    funding = absent[next(t for t in absent if "NT$3.2 billion" in t)]
    gauges = absent[next(t for t in absent if "tide gauges" in t)]
    # "resilience" and "funding" translate 韌性 and 經費; the tide-gauge sentence states neither
    assert funding.gloss_unit_absent < gauges.gloss_unit_absent == 1.0
    assert funding.cross_script == 1.0


@pytest.fixture(scope="module")
def embedder() -> object:
    loaded = real_embedder()
    if loaded is None:
        skip_or_fail("the default embedder is not usable here")
    return loaded


@pytest.mark.slow
def test_dense_feature_answers_a_cross_lingual_question(embedder: object) -> None:
    chinese_only = tuple(c for c in load_report(OCEAN).chunks if detect_language(c.text) != "en")
    question = "How many species records does the marine biodiversity database hold?"
    hits = rank(question, chinese_only, embedder)
    answer = answer_question(question, hits, embedder=embedder, config=CONFIG)  # type: ignore[arg-type]
    assert not answer.abstained, answer.confidence
    assert answer.figure == "9,850 種"
    assert_citations_verbatim(answer)


@pytest.mark.slow
def test_dense_feature_keeps_unanswerable_questions_refused(embedder: object) -> None:
    answer = ask("2030 年火星探測計畫的預算是多少？", embedder=embedder)
    assert answer.abstained, answer.confidence


# -- conditions of the question (qa/conditions.py) ------------------------------------------------


def ocean_only(question: str) -> Answer:
    chunks = load_report(OCEAN).chunks
    return answer_question(question, rank(question, chunks), embedder=None, config=CONFIG)


@pytest.mark.parametrize(
    ("question", "opening"),
    [
        ("交通部 2022 年的海洋科技經費是多少？", "報告中沒有 2022 年的數字；報告列出的是 2024 年"),
        ("交通部 2022 年的海洋科技经费是多少？", "报告中没有 2022 年的数字；报告列出的是 2024 年"),
    ],
)
def test_a_year_the_table_lacks_is_refused_naming_the_year_it_has(question: str, opening: str) -> None:
    answer = ask(question)
    assert answer.abstained
    assert answer.text.startswith(opening)
    assert "785" in answer.text and answer.text.endswith("[1]")  # the neighbouring fact, cited
    assert answer.citations[0].quote == "交通部\t785\t9.1%"
    assert answer.figure is None
    assert answer.confidence < UNEMBEDDED_THRESHOLD
    assert_citations_verbatim(answer)
    [time] = [r for r in answer.conditions if r.kind == "time"]
    assert (time.text, time.status, time.blocking) == ("2022", "contradicted", True)


def test_two_missing_years_name_the_stated_year_once() -> None:
    answer = ask("交通部2021年和2022年的海洋科技經費是多少？")
    assert answer.abstained
    assert answer.text.startswith("報告中沒有 2021 年 2022 年的數字；報告列出的是 2024 年：785")


def test_a_year_the_english_text_lacks_is_refused_in_english() -> None:
    answer = ask("How much was the coastal resilience funding in 2022?")
    assert answer.abstained
    assert answer.text.startswith("The reports give no figure for 2022; they give one for 2024: ")
    assert "NT$3.2 billion [1]" in answer.text
    assert_citations_verbatim(answer)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "日本 2024 年海洋科技研發經費總額是多少？",
            "報告中沒有找到相關資訊：找到的段落都沒有提到「日本」。",
        ),
        (
            "日本 2024 年海洋科技研发经费总额是多少？",
            "报告中没有找到相关信息：找到的段落都没有提到「日本」。",
        ),
    ],
)
def test_another_country_is_refused(question: str, expected: str) -> None:
    answer = ask(question)
    assert answer.abstained
    assert answer.text == expected
    assert answer.citations == [] and answer.figure is None
    assert any(r.kind == "place" and r.status == "missing" and r.blocking for r in answer.conditions)


def test_another_country_is_refused_in_english() -> None:
    answer = ask("How much was Japan's coastal resilience funding in 2024?")
    assert answer.abstained
    assert "Japan" in answer.text


@pytest.mark.parametrize(
    ("question", "agency"),
    [("教育部 2024 年的海洋科技經費是多少？", "教育部"), ("司法院 2024 年的海洋科技經費是多少？", "司法院")],
)
def test_another_agency_is_refused(question: str, agency: str) -> None:
    answer = ocean_only(question)
    assert answer.abstained
    assert f"「{agency}」" in answer.text
    assert any(r.kind == "organisation" and r.blocking for r in answer.conditions)


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("交通部 2024 年的海洋科技經費是多少？", "785"),
        ("交通部 113 年度的海洋科技經費是多少？", "785"),  # 民國 113 年 is 2024
        ("How much was the coastal resilience funding in 2024?", "NT$3.2 billion"),
    ],
)
def test_questions_whose_conditions_hold_are_still_answered(question: str, figure: str) -> None:
    answer = ask(question)
    assert not answer.abstained
    assert answer.figure == figure
    assert answer.conditions and all(r.status == "met" for r in answer.conditions)


def test_questions_without_conditions_have_none() -> None:
    answer = ask("海洋生物多樣性資料庫收錄多少種物種紀錄？")
    assert not answer.abstained and answer.conditions == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("2018年？", "問題只指定了 2018 年，沒有說明要查詢什麼；請補充要問的內容。"),
        ("Japan?", "The question only names Japan; please say what you would like to know."),
        ("2023年的2019年預算", "問題同時指定了 2023 年與 2019 年兩個不同的年份；請只問其中一個年份。"),
        ("2023年的2019年预算", "问题同时指定了 2023 年与 2019 年两个不同的年份；请只问其中一个年份。"),
        (
            "2018年和2020年的同一個數字",
            "問題同時指定了 2018 年與 2020 年兩個不同的年份；請只問其中一個年份。",
        ),
    ],
)
def test_questions_of_conditions_only_or_conflicting_years_get_a_clear_message(
    fixture_pipeline, question: str, expected: str
) -> None:
    answer = fixture_pipeline.ask(question)
    assert answer.abstained
    assert answer.text == expected
    assert answer.citations == []


def test_a_wall_of_text_is_answered_or_refused_without_error(fixture_pipeline) -> None:
    paragraph = load_report(OCEAN).text.replace("\n", " ")
    wall = (paragraph * 4)[:1900] + " 2021 年日本交通部的經費是多少？"
    answer = fixture_pipeline.ask(wall)
    assert answer.text
    assert len(answer.conditions) <= 8


def test_the_pipeline_refuses_a_year_outside_a_report_table(fixture_pipeline) -> None:
    answer = fixture_pipeline.ask("潮流一號 2020 年的發電量是多少？")
    assert answer.abstained


@pytest.mark.parametrize("mode", CONFIDENCE_MODES)
def test_both_confidence_modes_answer_figures_and_refuse_what_the_reports_lack(
    mode: str, default_embedder: object
) -> None:
    # `[answer] confidence = "hand"` keeps the hand-set weights of earlier releases as a fallback.
    config = dataclasses.replace(CONFIG, confidence=mode)
    answer = ask("2024 年海洋科技研發經費總額是多少？", config=config, embedder=default_embedder)
    assert not answer.abstained and answer.figure == "86.5 億臺幣"
    assert answer.confidence >= effective_threshold(config)
    refused = ask("2030 年火星探測計畫的預算是多少？", config=config, embedder=default_embedder)
    assert refused.abstained and refused.confidence < effective_threshold(config)
    other_year = ask("2019 年海洋科技研發經費總額是多少？", config=config, embedder=default_embedder)
    assert other_year.abstained and any(r.kind == "time" and r.blocking for r in other_year.conditions)


@pytest.mark.parametrize(
    "question", ["2024 年海洋科技研發經費總額是多少？", "2030 年火星探測計畫的預算是多少？"]
)
def test_without_vectors_the_learned_mode_answers_as_the_hand_weights_do(question: str) -> None:
    learned = ask(question, config=dataclasses.replace(CONFIG, confidence="learned"))
    hand = ask(question, config=dataclasses.replace(CONFIG, confidence="hand"))
    assert (learned.text, learned.abstained, learned.confidence) == (
        hand.text,
        hand.abstained,
        hand.confidence,
    )


def test_an_unknown_confidence_mode_is_one_line() -> None:
    with pytest.raises(QAError, match=r"answer\.confidence") as caught:
        Config.load(None, **{"answer.confidence": "dice"})
    assert "\n" not in str(caught.value)


def _one_chunk_hits(text: str) -> list:
    from corpus.types import Chunk
    from index.types import Hit

    chunk = Chunk(
        chunk_id="d:0", doc_id="d", ordinal=0, file_name="r.txt", title="海洋年報", text=text,
        char_start=0, char_end=len(text), section_path=("研究船",), line_start=1, line_end=1,
    )  # fmt: skip
    return [Hit(chunk=chunk, score=1.0, rank=1, lexical_score=1.0)]


def test_a_sentence_that_points_back_is_quoted_with_the_sentence_it_points_at() -> None:
    text = "海洋委員會於 2024 年啟用新研究船「海研五號」，船長 72 公尺。該船每年執行 120 航次海洋調查任務。"
    answer = answer_question(
        "海研五號每年執行多少航次海洋調查任務？", _one_chunk_hits(text), embedder=None, config=CONFIG
    )
    assert not answer.abstained
    assert answer.figure == "120"
    # 「該船…」 alone does not say which ship: the quote starts at the sentence naming it.
    assert answer.citations[0].quote == text
    assert text[answer.citations[0].quote_start : answer.citations[0].quote_end] == text


def test_a_sentence_that_stands_alone_is_quoted_alone() -> None:
    text = (
        "海洋委員會於 2024 年啟用新研究船「海研五號」，船長 72 公尺。"
        "此外，海研五號每年執行 120 航次海洋調查任務。"
    )
    answer = answer_question(
        "海研五號每年執行多少航次海洋調查任務？", _one_chunk_hits(text), embedder=None, config=CONFIG
    )
    assert answer.citations[0].quote == "此外，海研五號每年執行 120 航次海洋調查任務。"


@pytest.mark.parametrize(
    ("question", "text", "refused"),
    [
        # The sentence speaks of the supercomputer's GPUs but counts none: no answer to "how many".
        (
            "How many GPUs does the Hsinchu supercomputer have?",
            "The Hsinchu supercomputer has GPUs for research.",
            True,
        ),
        ("新竹超級電腦設有多少顆 GPU？", "新竹超級電腦設有 GPU 供學研使用。", True),
        # Years and table numbers say when and where, not how much.
        ("新竹超級電腦 2024 年設有多少顆 GPU？", "新竹超級電腦於 2024 年設有 GPU，如附表 3。", True),
        # A question asking for a year is answered by one.
        ("國會是在西元幾年通過主權宣言？", "1991 年 10 月，國會通過了主權宣言。", False),
        # A digit, or a number in characters, may be the answer: left to the sentence scorer.
        (
            "How many GPUs does the Hsinchu supercomputer have?",
            "The Hsinchu supercomputer has 2,000 GPUs.",
            False,
        ),
        ("新竹超級電腦設有多少顆 GPU？", "新竹超級電腦設有兩千顆 GPU 供學研使用。", False),
        # A which-question asks for a name even when it speaks of a rank.
        ("Which supercomputer ranked highest?", "The Hsinchu supercomputer ranked highest.", False),
    ],
)
def test_a_how_much_question_is_not_answered_by_a_sentence_without_any_number(
    question: str, text: str, refused: bool
) -> None:
    answer = answer_question(question, _one_chunk_hits(text), embedder=None, config=CONFIG)
    assert answer.abstained is refused
