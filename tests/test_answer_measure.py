"""What the asked figure counts: 多少「位」使用者 is not answered with hours, 經費 not with machines."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.chunking import chunk_document
from corpus.reading import ReadingConfig, read_document
from index.types import Hit
from qa.answer import AnswerConfig, answer_question
from qa.cells import find_cell
from qa.conditions import extract_conditions
from qa.figures import asked_measure, find_figures, fits, states_a_quantity
from qa.types import Answer

REPORT = """示範研究中心年報

一、服務成果

示範光源中心 113 年度穩定運轉，共提供服務 143,036 小時。

二、人才培育

示範計畫 113 年度培育 158 名學生，並辦理 3 場國際研討會。

三、基礎建設

示範網路 113 年度累計建置 4,820 臺基地臺。
"""


def _ask(question: str, hits: list[Hit]) -> Answer:
    return answer_question(question, hits, embedder=None, config=AnswerConfig())


def _hits(tmp_path: Path, text: str = REPORT, name: str = "report.txt") -> list[Hit]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    chunks = chunk_document(read_document(path, ReadingConfig(cache_dir=None)))
    return [Hit(chunk=c, score=1.0, rank=i + 1) for i, c in enumerate(chunks)]


@pytest.mark.parametrize(
    ("question", "figure", "expected"),
    [
        ("共服務了多少位使用者？", "143,036 小時", False),  # users are no hours
        ("共提供多少小時的服務？", "3 天", True),  # durations answer each other
        ("累計服務了多少人次？", "20,071 人", True),  # 人次 and 人 both count people
        ("提供了多少種以上的服務？", "150 項", True),
        ("新核發了多少張憑證？", "30 元", False),  # a price is no number of cards
        ("被瀏覽了多少人次？", "1 億", None),  # a magnitude alone says nothing
        ("總建設經費是多少？", "48,195 臺", False),  # money asked, machines given
        ("涵蓋率是多少？", "1 件", False),
        ("總建設經費是多少？", "8", None),  # a bare number may be anything
        ("總建設經費是多少？", "98.15%", False),  # a share is no amount of money
        ("科技預算較去年成長多少？", "12.5%", None),  # but a growth may be given as a share
        ("涵蓋率是多少？", "NT$ 3 億", False),
        ("糧食播種面積約占總播種面積約多少比例？", "95%", None),  # a share of an area, not an area
        ("全臺新創家數是多少？", "21 萬人次", False),  # a count named by its counter and 數
        ("全臺新創家數是多少？", "1,158 家", True),
        ("總航行里程是多少？", "4 艘", False),  # a distance asked, ships counted
        ("總航行里程是多少？", "1,200 公里", True),
        ("智慧路燈共安裝了多少盞？", "1,200 盞", True),
        ("智慧路燈共安裝了多少盞？", "312 萬度", False),  # lamps asked, power generated
        ("潮流機組全年發電多少度？", "1,284 萬度", True),
        ("平臺的註冊人數目標是多少？", "42 個", None),  # the target of a count of people: 個 says nothing
        ("平臺的註冊人數目標是多少？", "62 項", False),
        ("教育雲的使用人次是多少？", "62 項", False),  # a noun ending in a two-character counter
        ("教育雲的使用人次是多少？", "3,000 萬人次", True),
        ("持卡人來自多少個國家？", "12,082 張", False),  # cards are no countries
        ("How many countries do the holders come from?", "12,082 張", False),
        ("已與幾個國家簽署合作協定？", "5 項", True),  # one agreement with each country
        # English questions count with English nouns, against Chinese counters or English units.
        ("How many employees work in the science parks?", "32.6 萬人", True),
        ("How many employees work in the science parks?", "NT$84.58 billion", False),
        ("How many academic publications were produced?", "443 projects", False),
        ("How many academic publications were produced?", "601 篇", True),
        ("How many times were the platforms used?", "32 million uses", True),
        ("How much does the certificate cost?", "32 million uses", False),
        ("How many times more did oil cost after the embargo?", "10 倍", True),  # a multiple, not a count
        # Seconds and minutes are durations (「7 秒」 was once shown as a bare 「7」).
        ("地震後最快多少秒就能發出警報？", "7 秒", True),
        ("地震後最快多少秒就能發出警報？", "11 站", None),
        ("等候時間縮短為幾分鐘？", "5 分鐘", True),
        ("等候時間縮短為幾分鐘？", "30 人", False),
        ("How many seconds does an earthquake alert take?", "10 seconds", True),
        ("How many minutes does the check take?", "7 秒", True),
        ("How many clinical trials did the hospital run?", "120 件", True),
        ("How many clinical trials did the hospital run?", "1,561 人次", False),  # consultations, not trials
        ("How many patients were served?", "1,561 人次", True),
        # The noun after 個 says what it counts.
        ("How many papers were published?", "14 個縣市", False),
        ("有多少縣市設置數位共學中心？", "14 個縣市", True),
        ("How many projects were funded?", "5 個計畫", True),
        ("How many projects were funded?", "20 個企業", False),
        ("How many registered accounts does the platform have?", "300 萬個帳號", True),
        ("How many registered accounts does the platform have?", "62 項", False),  # services, not accounts
        ("What share of manufacturers went digital?", "NT$ 3 億", False),
        # 門 counts courses, 部 machines and films; accounts are written 個帳號.
        ("How many registered accounts does the platform have?", "41 門", False),
        ("有多少門課程融入 AI？", "41 門", True),
        ("How many registered accounts does the platform have?", "2.2 萬部", False),
        ("How many registered accounts does the platform have?", "13 萬個測驗題", False),
        ("How many registered accounts does the platform have?", "13 萬", None),
        # A rating is a share, tenths or points; a count is none.
        ("What was the average user satisfaction rating of the platform?", "91%", True),
        ("What was the average user satisfaction rating of the platform?", "15 項", False),
        ("What was the average user satisfaction rating of the platform?", "42 個", False),
        ("遠距醫療的民眾滿意度是多少？", "9 成", True),
        ("遠距醫療的民眾滿意度是多少？", "4.89 分", True),
        ("遠距醫療的民眾滿意度是多少？", "4", None),
        ("遠距醫療的民眾滿意度是多少？", "1,561 人次", False),
    ],
)
def test_a_figure_fits_the_measure_the_question_asks(
    question: str, figure: str, expected: bool | None
) -> None:
    measure = asked_measure(question)
    assert measure is not None
    assert fits(measure, find_figures(figure)[0], figure) is expected


def test_countries_are_counted_by_the_noun_after_the_counter() -> None:
    measure = asked_measure("持卡人來自幾個國家？")
    assert measure is not None and measure.text == "國家"
    text = "持卡人來自 12 個國家，累計核發 12,082 張。"
    first, second = find_figures(text)
    assert (fits(measure, first, text), fits(measure, second, text)) == (True, False)


@pytest.mark.parametrize(
    "question",
    [
        "完成多少個三維建物模型？",
        "州內有幾個國家森林？",  # 國家 opening a compound counts no countries
        "How many GPUs does the supercomputer contain?",  # a noun of no known class
        "How many visits did the site receive?",  # people or times: not checked
        "計畫的主持人是誰？",
        "決議是在第幾次會議上通過的？",  # an ordinal asks which one, not how many
        "抗日戰爭是在西元幾年結束？",  # 西元 is no money (元)
        "民國元年為黃帝紀元幾年？",
        "What was Taiwan's IMD rating in 2024?",  # a rating alone may be a place in a ranking
        "我國 IMD 評分是多少？",
    ],
)
def test_no_measure_where_the_question_does_not_say_what_it_counts(question: str) -> None:
    assert asked_measure(question) is None  # 個 counts anything


def test_a_figure_of_another_measure_is_not_given(tmp_path: Path) -> None:
    question = "示範光源中心 113 年度共服務了多少位使用者？"
    assert asked_measure(question).text == "使用者"  # type: ignore[union-attr]  # named so in a refusal
    answer = _ask(question, _hits(tmp_path))
    assert answer.abstained and answer.figure is None
    assert "143,036" not in answer.text


def test_the_same_sentence_answers_the_measure_it_does_state(tmp_path: Path) -> None:
    answer = _ask("示範光源中心 113 年度共提供多少小時的服務？", _hits(tmp_path))
    assert not answer.abstained and answer.figure == "143,036 小時"


def test_a_figure_after_a_word_ending_in_a_label_character_is_a_figure(tmp_path: Path) -> None:
    # 表 ends 發表 (published) as well as naming a table (表 2): only the label makes a number a label.
    text = "示範學會年報\n\n一、論文\n\n示範學會 113 年度於各領域共發表 39,589 篇論文，如表 2 所示。\n"
    answer = _ask("示範學會 113 年度共發表多少篇論文？", _hits(tmp_path, text))
    assert not answer.abstained and answer.figure == "39,589 篇"


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("示範計畫 113 年度培育了多少名學生？", "158 名"),
        ("示範計畫 113 年度辦理了幾場國際研討會？", "3 場"),  # the figure of the asked counter, not the first
    ],
)
def test_of_two_figures_in_a_sentence_the_one_of_the_asked_counter(
    tmp_path: Path, question: str, figure: str
) -> None:
    answer = _ask(question, _hits(tmp_path))
    assert not answer.abstained and answer.figure == figure


def test_money_asked_of_a_sentence_counting_machines_is_refused(tmp_path: Path) -> None:
    answer = _ask("示範網路 113 年度的總建設經費是多少？", _hits(tmp_path))
    assert answer.abstained and answer.figure != "4,820 臺"


@pytest.mark.parametrize(
    ("text", "figure", "kind"),
    [
        ("累計核發逾 65 萬張", "65 萬張", "count"),
        ("查詢量逾 10 億次", "10 億次", "count"),
        ("投入 1,517.4 億臺幣", "1,517.4 億臺幣", "money"),
        ("警報時間縮短至 7 秒", "7 秒", "count"),
        ("等候時間縮短至 5 分鐘", "5 分鐘", "count"),
        ("累計培育教師達 9 萬5,660 人次", "9 萬5,660 人次", "count"),  # one number of 人次
        ("受訓人次共 13 萬 551 人次", "13 萬 551 人次", "count"),
        ("價格約為 9800日元", "9800日元", "money"),  # every currency is money, not a date (日)
        ("費用 300 英鎊", "300 英鎊", "money"),
    ],
)
def test_a_counter_after_a_magnitude_belongs_to_the_figure(text: str, figure: str, kind: str) -> None:
    found = find_figures(text)[0]
    assert (found.text, found.kind) == (figure, kind)


def test_a_clock_reading_is_no_duration() -> None:
    assert [(f.text, f.unit) for f in find_figures("比賽還剩 3 分 08 秒時領先")] == [("3", ""), ("08", "")]


def test_a_share_is_not_read_from_a_ranking_column(tmp_path: Path) -> None:
    text = (
        "示範競爭力報告\n\n附表 9 示範國家科學基礎建設指標排名\n\n"
        "指標\t2024 排名\t2025 排名\n全國研發經費占 GDP 比率\t3\t2\n研究人員數\t10\t9\n"
    )
    hits = _hits(tmp_path, text, "rank.txt")
    share = _ask("全國研發經費占 GDP 比率是多少？", hits)
    # Refused, naming what the table does state: a place in a ranking, not the share.
    assert share.abstained and share.figure is None
    assert share.text.startswith("報告中沒有「比率」的數字；報告列出的是「2024 排名」")
    rank = _ask("全國研發經費占 GDP 比率的 2025 排名是第幾？", hits)
    assert not rank.abstained and rank.figure == "2"


def test_an_english_question_is_not_answered_with_a_figure_of_another_count(tmp_path: Path) -> None:
    text = (
        "Summary\n\nThe programme funded 443 projects carried out by 27 ministries in 2024. "
        "Its researchers published 601 papers in SCIE journals in 2024.\n"
    )
    hits = _hits(tmp_path, text, "summary.txt")
    answer = _ask("How many papers did the programme's researchers publish in 2024?", hits)
    assert answer.figure == "601"
    projects = _ask("How many publications did the ministries produce in 2024?", hits)
    assert projects.figure != "443 projects"


@pytest.mark.parametrize(
    ("text", "states"),
    [
        ("(6) 應用投影技術呈現文物紋飾", False),  # a list marker counts nothing
        ("2. 推動示範計畫", False),
        ("（三）強化偏鄉地區 5G 寬頻服務", False),  # 5G is a name
        ("Taipei-1 是在臺建置的 AI 超級電腦", False),
        ("國立故宮博物院「沉浸故宮 2.0」數位展", False),  # a quoted title
        ("近五年各國研發經費占 GDP 比率如附表", False),  # a span of years is the caller's to set aside
        ("提供民眾放大億萬畫素圖像", False),
        ("一般科技施政計畫持續推動", False),
        ("參與企業成長三成", True),
        ("在雜誌排行全美第五", True),  # an ordinal in characters
        ("已有過半縣市導入", True),
        ("完成兩場國際研討會", True),
        ("共補助 3 案", True),
    ],
)
def test_what_states_a_quantity(text: str, states: bool) -> None:
    assert states_a_quantity(text) is states


def test_a_list_marker_or_a_name_is_no_figure_for_a_how_much_question(tmp_path: Path) -> None:
    text = (
        "示範博物館年報\n\n一、數位展示\n\n"
        "(6) 示範博物館「沉浸光影 2.0」數位展，以 4K 螢幕與投影技術呈現文物紋飾。\n\n"
        "(7) 示範博物館「沉浸光影 2.0」數位展 113 年度吸引 52,310 人次參觀。\n"
    )
    hits = _hits(tmp_path, text, "museum.txt")
    fee = _ask("「沉浸光影 2.0」數位展的門票收入是多少？", hits)
    assert fee.abstained and fee.figure is None
    visits = _ask("「沉浸光影 2.0」數位展 113 年度吸引多少人次參觀？", hits)
    assert not visits.abstained and visits.figure == "52,310 人次"


def test_an_english_amount_question_is_not_answered_by_a_sentence_without_one(tmp_path: Path) -> None:
    text = (
        "Summary\n\nThe science parks attracted new investment in 2024, and their firms opened "
        "laboratories in the southern parks.\n"
    )
    hits = _hits(tmp_path, text, "parks.txt")
    answer = _ask("What was the science parks' revenue in 2024?", hits)
    assert answer.abstained


BUILDING_TABLE = (
    "示範建設年報\n\n表 1-2 示範基礎建設 113 年度科技預算\n\n"
    "示範基礎建設項目\t113 年度預算法定數 (千元)\t占比 (%)\n"
    "數位建設\t17,830,903\t84.5%\n綠能建設\t2,244,858\t10.6%\n總計\t21,107,226\t100.0%\n"
)


def test_a_row_the_table_does_not_list_is_not_answered_by_its_siblings(tmp_path: Path) -> None:
    hits = _hits(tmp_path, BUILDING_TABLE, "building.txt")
    absent = _ask("示範基礎建設中，水環境建設的 113 年度預算法定數是多少？", hits)
    assert absent.abstained and absent.figure is None
    assert "17,830,903" not in absent.text and "21,107,226" not in absent.text
    listed = _ask("示範基礎建設中，綠能建設的 113 年度預算法定數是多少？", hits)
    assert not listed.abstained and "2,244,858" in listed.text


RANKING_TABLE = (
    "示範競爭力年報\n\n附表 5 2023-2025 年主要國家總體競爭力排名\n\n"
    "國家\t2023\t2024\t2025\n卡達\t12\t11\t9\n新加坡\t4\t1\t2\n\n"
    "附表 9 2023-2025 年主要國家數位競爭力排名\n\n"
    "國家\t2023\t2024\t2025\n新加坡\t3\t1\t1\n瑞士\t5\t2\t3\n"
)


@pytest.mark.parametrize(
    ("question", "answered"),
    [
        ("卡達在 2025 年 IMD 世界數位競爭力評比中排名第幾？", None),  # only the overall table lists 卡達
        ("卡達在 2025 年總體競爭力排名第幾？", "9"),
        ("新加坡在 2025 年數位競爭力排名第幾？", "1"),
    ],
)
def test_a_measure_of_another_kind_than_the_caption_is_not_read_from_it(
    tmp_path: Path, question: str, answered: str | None
) -> None:
    answer = _ask(question, _hits(tmp_path, RANKING_TABLE, "rank.txt"))
    if answered is None:
        assert answer.abstained and "9" not in answer.text
    else:
        assert not answer.abstained and answered in (answer.figure or answer.text.split("（")[0])


def test_a_paragraph_cut_by_chunking_keeps_its_subject_for_the_checks() -> None:
    from corpus.types import Chunk
    from qa.answer import paragraph_lead

    document = (
        "一、研究設施\n"
        "國家示範輻射中心穩定運轉兩座光源，113 年度共提供服務 143,036 小時。"
        "同時鏈結國際夥伴，升級海外實驗設施。113 年度發表論文 601 篇。\n"
        "二、其他\n"
    )
    cuts = [(0, 50), (40, 80), (70, len(document))]  # overlapping slices, the second inside the paragraph
    chunks = {
        f"d:{n}": Chunk(f"d:{n}", "d", n, "r.txt", "示範年報", document[a:b], a, b, ("一、研究設施",))
        for n, (a, b) in enumerate(cuts)
    }
    last = chunks["d:2"]
    lead = paragraph_lead(last, chunks.get)
    assert lead.startswith("國家示範輻射中心") and (lead + last.text) in document
    assert paragraph_lead(chunks["d:0"], chunks.get) == ""  # the document's first chunk
    assert paragraph_lead(last, None) == ""  # no index to read the chunks before from


def test_a_set_counted_with_組_is_no_amount_of_money() -> None:
    measure = asked_measure("數位展的門票收入是多少？")
    assert measure is not None and fits(measure, find_figures("3 組")[0]) is False


RESEARCHERS = (
    "示範研究人力年報\n\n附表 2 2021-2023 年主要國家研發經費占 GDP 比率 (%)\n\n"
    "國家\t2021\t2022\t2023\n以色列\t5.76\t6.18\t6.35\n美國\t3.48\t3.59\t3.45\n\n"
    "附表 3 2021-2023 年主要國家研究人員 (單位：FTE)\n\n"
    "國家\t2021\t2022\t2023\n美國\t1,664,939\t1,681,676\t-\n日本\t690,400\t704,500\t711,300\n"
)


@pytest.mark.parametrize(
    ("question", "answered"),
    [
        ("美國 2023 年研究人員的全時約當數是多少？", None),  # 「-」: the table has no figure there
        ("美國 2022 年研究人員的全時約當數是多少？", "1,681,676"),
        ("依附表 3，以色列 2023 年研究人員的全時約當數是多少？", None),  # 以色列 is only in 附表 2
        ("依附表 3，日本 2023 年研究人員的全時約當數是多少？", "711,300"),
    ],
)
def test_a_cell_without_a_figure_or_in_another_table_is_not_the_answer(
    tmp_path: Path, question: str, answered: str | None
) -> None:
    hits = _hits(tmp_path, RESEARCHERS, "researchers.txt")
    answer = _ask(question, hits)
    if answered is None:
        assert answer.abstained and "6.35" not in answer.text and "1,664,939" not in answer.text
    else:
        assert not answer.abstained and answer.text.startswith(answered)


def test_an_empty_cell_is_refused_naming_the_cell(tmp_path: Path) -> None:
    hits = _hits(tmp_path, RESEARCHERS, "researchers.txt")
    answer = _ask("美國 2023 年研究人員的全時約當數是多少？", hits)
    assert answer.abstained and answer.figure is None
    assert answer.text.startswith("報告中沒有這個數字：附表 3「")
    assert "「美國」列「2023」欄為「-」[1]" in answer.text
    assert answer.citations and answer.citations[0].quote.startswith("美國")
    simplified = _ask("美国 2023 年研究人员的全时约当数是多少？", hits)
    assert simplified.abstained and simplified.text.startswith("报告中没有这个数字：")


BUDGETS = (
    "示範預算年報\n\n表 1-1 各主管機關 113 年度科技研發經費預算法定數\n\n"
    "主管機關\t113 年度預算法定數 (千元)\t占比 (%)\n數位發展部\t10,580,859\t7.0%\n農業部\t5,112,300\t3.4%\n\n"
    "二、成長\n\n經濟部 113 年度科技預算較 112 年度增加 1,203,000 千元。\n"
)


@pytest.mark.parametrize(
    ("question", "answered"),
    [
        ("數位發展部 113 年度科技預算較 112 年度增長多少？", None),  # the table holds levels, no growth
        ("By what percentage did the Ministry of Agriculture's S&T budget grow in 2024?", None),
        ("經濟部 113 年度科技預算較 112 年度增加多少？", "1,203,000 千元"),  # a sentence stating the change
        ("數位發展部 113 年度科技預算法定數是多少？", "10,580,859"),
    ],
)
def test_a_growth_is_not_read_from_a_level(tmp_path: Path, question: str, answered: str | None) -> None:
    answer = _ask(question, _hits(tmp_path, BUDGETS, "budgets.txt"))
    if answered is None:  # refused; the level may be named as the neighbouring fact, never as the answer
        assert answer.abstained and answer.figure is None
    else:
        assert not answer.abstained and answered in answer.text.split("[")[0]


def test_another_member_of_a_numbered_series_is_not_the_answer(tmp_path: Path) -> None:
    text = (
        "示範運算年報\n\n一、運算主機\n\n"
        "完成高速運算主機建置，將接替示範杉一號，提供 3.53 petaFLOPS 算力服務。\n\n"
        "示範杉二號於 113 年度提供 9.0 petaFLOPS 算力服務，並邀請 10 組應用團隊測試。\n"
    )
    hits = _hits(tmp_path, text, "hpc.txt")
    third = _ask("示範杉三號的算力是多少 petaFLOPS？", hits)
    assert third.abstained and third.text.startswith("報告中沒有「示範杉三號」")
    second = _ask("示範杉二號的算力是多少 petaFLOPS？", hits)
    assert not second.abstained and second.figure == "9.0"  # the figure of the unit asked, not 10 組


@pytest.mark.parametrize(
    ("question", "figure", "expected"),
    [
        ("算力是多少 petaFLOPS？", "3.53 petaFLOPS", True),
        ("算力是多少 petaFLOPS？", "10 組", False),
        ("算力是多少 petaFLOPS？", "16", None),
        ("裝置容量是幾 MW？", "1,200 MW", True),
    ],
)
def test_a_unit_written_after_how_much_is_the_unit_of_the_answer(
    question: str, figure: str, expected: bool | None
) -> None:
    measure = asked_measure(question)
    assert measure is not None
    assert fits(measure, find_figures(figure)[0], figure) is expected


def test_a_span_of_years_counts_only_when_years_are_asked() -> None:
    assert not states_a_quantity("近五年各國研發經費持續成長")
    assert states_a_quantity("議員的任期不會超過五年", years=True)


def test_how_many_years_is_answered_by_a_span_in_characters(tmp_path: Path) -> None:
    text = (
        "示範國會簡介\n\n一、任期\n\n"
        "示範國首相會在五年任期後提請解散國會，所以示範國議員的任期不會超過五年。\n"
    )
    answer = _ask("示範國議員的任期最多不會超過多少年？", _hits(tmp_path, text, "term.txt"))
    assert not answer.abstained and "五年" in answer.text


@pytest.mark.parametrize(
    ("question", "change"),
    [
        ("By what percentage did the ministry's budget grow from 2023 to 2024?", True),
        ("How much did R&D spending increase in 2024?", True),
        ("What percentage of the cleared land is used for growing livestock?", False),  # an adjective
        ("What share of firms spend more than NT$1 million on R&D?", False),
        ("科技預算較 112 年度增長多少？", True),
    ],
)
def test_a_change_is_asked_by_its_verb_or_noun(question: str, change: bool) -> None:
    measure = asked_measure(question)
    assert measure is not None and measure.change is change


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Over what distance was quantum key distribution demonstrated?", None),  # no "rate" in it
        ("How much fundamental research did the institute publish?", None),  # no "fund" either
        ("What share of GDP went to R&D?", "percent"),
        ("How much funding did the platform receive?", "money"),
        ("What was Norway's R&D expenditure in 2022?", "money"),
        ("When did the platform open?", "year"),
    ],
)
def test_english_cues_of_a_figure_kind_are_whole_words(question: str, kind: str | None) -> None:
    from qa.figures import expected_kind

    assert expected_kind(question) == kind


def test_an_amount_is_not_answered_by_figures_that_all_count_something_else(tmp_path: Path) -> None:
    text = (
        "Summary\n\nIn 2024 the council's wireless programme reached 8 所 veterans' homes "
        "and trained 120 名 caregivers.\n"
    )
    hits = _hits(tmp_path, text, "homes.txt")
    answer = _ask("What was the council's wireless programme budget in 2024?", hits)
    assert answer.abstained and answer.figure is None


def test_an_indicator_row_names_the_measure_itself(tmp_path: Path) -> None:
    text = (
        "示範方案年報\n\n示範方案總體指標 2024 年階段達成情形\n\n"
        "項目\t2025 年 (總體指標)\t2024 年 (達成情形)\n數位經濟規模\t6.5 兆元\t9.3 兆元\n"
        "數位服務經濟規模\t2.9 兆元\t4.2 兆元\n"
    )
    hits = _hits(tmp_path, text, "indicators.txt")
    answer = _ask("2024年數位經濟規模達到多少？", hits)
    # Read from the cell, though the caption shares no word with the question: the row is the measure.
    assert answer.text.startswith("9.3 兆元（表「示範方案總體指標 2024 年階段達成情形」，列「數位經濟規模」")


GROWTH_TABLE = (
    "示範研發年報\n\n附表 1 2021-2023 年主要國家研發經費 (百萬美元)\n\n"
    "國家\t2021\t2022\t2023\t年均複合成長率\n芬蘭\t43,244\t49,051\t57,004\t14.8%\n"
    "德國\t153,293\t150,789\t160,159\t2.2%\n\n"
    "附表 5 2021-2023 年主要國家總體競爭力排名\n\n國家\t2021\t2022\t2023\n挪威\t12\t11\t9\n"
)


def test_an_english_expenditure_question_asks_an_amount_and_a_ranking_holds_none(tmp_path: Path) -> None:
    from qa.figures import is_figure_question

    question = "What was Norway's R&D expenditure in 2022?"
    assert is_figure_question(question) and asked_measure(question) is not None
    # 丙國 stands only in the ranking table (its caption says 排名): no expenditure of it is given.
    answer = _ask(
        "What was the R&D expenditure of 丙國 in 2022?", _hits(tmp_path, GROWTH_TABLE, "growth.txt")
    )
    assert answer.abstained and answer.figure is None


def test_a_growth_over_years_is_read_from_the_growth_column(tmp_path: Path) -> None:
    question = "In the national R&D expenditure table, what was Finland's compound annual growth rate?"
    answer = _ask(question, _hits(tmp_path, GROWTH_TABLE, "growth.txt"))
    assert not answer.abstained and answer.figure == "14.8%"


TWO_COUNTS = """示範人才年報

一、學生培育

示範計畫 113 年度培育 158 名學生，結業率達九成。

二、教師培訓

示範計畫 113 年度另培訓 96 名教師，分布於 12 所學校。

三、學生培育（續）

前述 158 名學生中，女性占四成。
"""


def test_beside_a_figure_other_passages_are_shown_only_when_they_state_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hits = _hits(tmp_path, TWO_COUNTS)
    everything = AnswerConfig(keep_ratio=0.0, same_passage_ratio=0.0, max_sentences=4)
    question = "示範計畫 113 年度培育了多少名學生？"
    answer = answer_question(question, hits, embedder=None, config=everything)
    assert answer.figure == "158 名"
    assert "前述 158 名學生" in answer.text  # another passage, the same number: it corroborates
    assert "96 名教師" not in answer.text  # another passage, another count: another question's answer
    assert len(answer.citations) == 2
    # the sentence would be shown but for that rule
    monkeypatch.setattr("qa.answer._standing_with", lambda info, chosen: chosen)
    assert "96 名教師" in answer_question(question, hits, embedder=None, config=everything).text


SHARES_AND_COUNTS = """示範科技年報

一、研發人力

近年各國研究人員持續增加，變化如附表 3。

附表 3 2021-2023 年主要國家研究人員 (全時約當數, FTE)

年度\t2021\t2022\t2023
日本\t704,502\t705,551\t699,232
臺灣\t167,766\t171,618\t175,832

二、研發經費

各國研發經費占 GDP 比率如附表 2。

附表 2 2021-2023 年主要國家研發經費占 GDP 比率 (百分比, %)

年度\t2021\t2022\t2023
日本\t3.28\t3.41\t3.44
臺灣\t3.78\t3.96\t3.97
"""


@pytest.mark.parametrize(
    ("question", "cell"),
    [
        ("2023 年臺灣的研發經費占 GDP 比率是多少？", "3.97"),
        ("What share of GDP did Taiwan spend on R&D in 2023?", "3.97"),
        # Row and column named, and "a share": but a share of women among researchers is in neither
        # table (the count table states no share, the share table another measure).
        ("2023 年臺灣研究人員中女性的占比是多少？", None),
        ("What share of Taiwan's researchers were women in 2023?", None),
    ],
)
def test_a_table_of_shares_answers_only_a_share_of_its_own_measure(
    tmp_path: Path, question: str, cell: str | None
) -> None:
    found = find_cell(question, extract_conditions(question), _hits(tmp_path, SHARES_AND_COUNTS))
    assert (found.value if found else None) == cell


def test_a_share_is_not_read_from_a_table_of_counts(tmp_path: Path) -> None:
    counts = SHARES_AND_COUNTS.split("二、研發經費")[0]
    answer = _ask("2023 年臺灣研究人員中女性的占比是多少？", _hits(tmp_path, counts))
    assert answer.abstained and "175,832" not in answer.text
    control = _ask("2023 年臺灣的研究人員有多少人？", _hits(tmp_path, counts))
    assert not control.abstained and control.figure is not None and "175,832" in control.figure


SATISFACTION = """示範數位服務年報

一、高齡學習平臺

「樂齡好幫手 AgePass」平臺上架 15 項服務資源，使用涵蓋率已達 16%。

二、手語視訊服務

手語視訊轉譯服務累計 873 名會員，服務滿意度高達 4.89 分。
"""


def test_a_rating_is_answered_only_by_a_sentence_that_names_one(tmp_path: Path) -> None:
    hits = _hits(tmp_path, SATISFACTION)
    # The platform's sentence holds a count and a coverage share, neither of them a rating; the only
    # rating in the report is another service's, which does not name AgePass.
    answer = _ask("What was the average user satisfaction rating of the AgePass platform?", hits)
    assert answer.abstained and "4.89" not in (answer.figure or "")
    chinese = _ask("AgePass 平臺的使用者滿意度是多少？", hits)
    assert chinese.abstained
    control = _ask("手語視訊轉譯服務的滿意度是多少？", hits)
    assert not control.abstained and control.figure == "4.89"  # shown beside 「4.89 分」 in the sentence


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("K-12 師生共 300 萬人", ["300 萬人"]),
        ("FORMOSAT-7 provided 6,000 daily observations", ["6,000"]),
        ("COVID-19 疫情期間", []),
        ("NT$500 億", ["NT$500 億"]),
        ("2019-2023 年", ["2019", "2023 年"]),
    ],
)
def test_a_number_written_onto_a_latin_name_is_part_of_the_name(text: str, figures: list[str]) -> None:
    assert [f.text for f in find_figures(text)] == figures
