"""Conditions of a question (year, agency, place, programme, qualifier) and their check against evidence."""

from __future__ import annotations

import pytest

from qa.conditions import (
    Condition,
    Evidence,
    check_condition,
    conflicting_years,
    extract_conditions,
    places_in,
    written_as_is,
    year_mentions,
)


def kinds(question: str) -> dict[str, list[Condition]]:
    found: dict[str, list[Condition]] = {}
    for condition in extract_conditions(question):
        found.setdefault(condition.kind, []).append(condition)
    return found


def only(question: str, kind: str) -> Condition:
    [condition] = kinds(question)[kind]
    return condition


# -- extraction: time ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "years", "roc"),
    [
        ("司法院113年度的科技研發預算是多少？", {2024}, True),
        ("民國 112 年的研發經費是多少？", {2023}, True),
        ("日本2018年研發經費占GDP比率是多少？", {2018}, False),
        ("日本2018年研发经费占GDP比率是多少？", {2018}, False),
        ("What was Japan's R&D spending in 2021?", {2021}, False),
        ("2019 至 2023 年中國研發經費的年均複合成長率是多少？", {2019, 2020, 2021, 2022, 2023}, False),
        ("What was the growth from 2019 to 2023?", {2019, 2020, 2021, 2022, 2023}, False),
        ("109-113 年度的累計經費是多少？", {2020, 2021, 2022, 2023, 2024}, True),
    ],
)
def test_years_in_both_calendars(question: str, years: set[int], roc: bool) -> None:
    condition = only(question, "time")
    assert condition.years == years
    assert condition.roc is roc
    assert condition.text in question


def test_roc_and_western_years_are_the_same_year() -> None:
    assert only("113 年度研發預算", "time").years == only("2024 年研發預算", "time").years


@pytest.mark.parametrize(
    "question",
    [
        "癌症已連續 41 年居國人死因首位嗎？",
        "近 10 年的研發經費成長多少？",
        "研發經費是 2,079 億美元嗎？",
        "補助 2025 人參加嗎？",
        "How many 5G base stations were built?",
    ],
)
def test_durations_amounts_and_names_are_not_years(question: str) -> None:
    assert "time" not in kinds(question)


def test_the_reference_year_of_a_comparison_is_not_required() -> None:
    asked, reference = kinds("國科會 113 年度科技預算較 112 年度成長多少？")["time"]
    assert asked.required and asked.years == {2024}
    assert not reference.required and reference.years == {2023}


def test_year_mentions_keep_the_text_verbatim() -> None:
    text = "附表 2 2019-2023 年主要國家研發經費占 GDP 比率；113 年度"
    mentions = year_mentions(text)
    assert [m.text for m in mentions] == ["2019-2023 年", "113 年度"]
    assert all(text[m.start : m.end] == m.text for m in mentions)


# -- extraction: names and qualifiers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "text", "home"),
    [
        ("日本2018年研發經費占GDP比率是多少？", "日本", False),
        ("德国 2023 年的研发经费是多少？", "德国", False),
        ("What was Germany's R&D expenditure in 2023?", "Germany", False),
        ("越南在2024年IMD世界數位競爭力排名第幾？", "越南", False),
        ("我國 2024 年研發經費占 GDP 比率是多少？", "我國", True),
        ("台湾 2018 年的研发经费是多少？", "台湾", True),
        ("What share of Taiwan's researchers were women?", "Taiwan", True),
        ("2024 年高雄市的數位生活服務使用普及率是多少？", "高雄市", False),
        # Countries beyond the short forms come from ISO 3166 (pycountry) in all three scripts.
        ("卡達在 2025 年 IMD 世界競爭力排名第幾？", "卡達", False),
        ("卡塔尔在 2025 年排名第几？", "卡塔尔", False),
        ("What was Qatar's rank in 2025?", "Qatar", False),
        ("沙烏地阿拉伯的研發經費是多少？", "沙烏地阿拉伯", False),
        ("中華民國 113 年度科技預算是多少？", "中華民國", True),
    ],
)
def test_places_in_three_scripts(question: str, text: str, home: bool) -> None:
    condition = only(question, "place")
    assert condition.text == text
    assert condition.home is home


@pytest.mark.parametrize(
    "question",
    [
        "What was Taiwan's 2024 rank for R&D expenditure (US$ millions)?",
        "How much, in US dollars, did Taiwan spend on R&D?",
        "What was the budget in NT$ thousand?",
    ],
)
def test_a_currency_names_no_country(question: str) -> None:
    places = [c.text for c in extract_conditions(question) if c.kind == "place"]
    assert places in ([], ["Taiwan"])


def test_a_country_is_one_condition_in_any_spelling() -> None:
    assert only("日本的研發經費", "place").forms == only("Japan's R&D spending", "place").forms
    assert (
        only("卡達的排名", "place").forms
        == only("Qatar's rank", "place").forms
        == only("卡塔尔的排名", "place").forms
    )


@pytest.mark.parametrize(
    "question",
    [
        "康芮颱風試辦的沿海地區風力預報是幾級？",  # 海地 inside 沿海地區 is no Haiti
        "如何明智利用既有資源？",  # nor 智利 inside 明智利用
        "東加速發展的產業是哪些？",
        "Which turkey farms were subsidised?",  # an ISO name that is also a word keeps its case
    ],
)
def test_a_country_name_inside_another_word_is_no_place(question: str) -> None:
    assert [c.text for c in extract_conditions(question) if c.kind == "place"] == []


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("Which rainforest covers most of the basin in South America?", []),
        ("How did Latin America and North America differ?", []),
        ("How did South Korea rank in 2025?", ["South Korea"]),  # a country whose name has a compass word
        ("South Africa's R&D spending", ["South Africa"]),
        ("荷蘭語的名稱是什麼？", []),  # a language, not the country
        ("荷蘭的研發經費是多少？", ["荷蘭"]),
    ],
)
def test_a_region_or_a_language_is_no_country(text: str, places: list[str]) -> None:
    assert [p.text for p in places_in(text)] == places


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("司法院113年度的科技研發預算是多少？", "司法院"),
        ("國家科學及技術委員會的 113 年度科技預算法定數占比是多少？", "國家科學及技術委員會"),
        ("卫生福利部 113 年度科技预算法定数占比是多少？", "卫生福利部"),
        ("氣象署把海面預報延長為幾天？", "氣象署"),
    ],
)
def test_agencies(question: str, text: str) -> None:
    assert only(question, "organisation").text == text


def test_short_and_long_agency_names_are_one_condition() -> None:
    short = only("國科會 113 年核定多少件產學合作計畫？", "organisation")
    assert "国家科学及技术委员会" in short.forms


@pytest.mark.parametrize(
    "question", ["各部會發表的期刊論文有幾篇？", "委員會開了幾次會？", "數位包容分組的召集部會是哪一個部會？"]
)
def test_generic_agency_words_are_no_condition(question: str) -> None:
    assert "organisation" not in kinds(question)


def test_programmes_quoted_and_acronyms() -> None:
    found = {c.text: c for c in kinds("美國「晶片暨科學法案」與 IMD 評比")["programme"]}
    assert found["晶片暨科學法案"].strict
    assert not found["IMD"].strict  # acronyms are often spelled out: absence proves little
    assert "programme" not in kinds("研發經費占 GDP 比率是多少？")


def test_an_acronym_the_question_spells_out_must_be_stated_in_one_of_its_forms() -> None:
    question = "臺灣網際網路交換中心 (TWIX) 2024 年的服務可用率是多少？"
    condition = only(question, "programme")
    assert condition.strict and condition.forms == ("twix", "台湾网际网路交换中心")
    other = "2024 年 FOX 服務可用率平均達 99.968%。"
    assert check_condition(condition, sentence(other, passage="福爾摩沙開放網際網路交換中心")).blocking
    named = "臺灣網際網路交換中心 2024 年服務可用率達 99.9%。"
    assert check_condition(condition, sentence(named)).status == "met"
    assert check_condition(condition, sentence("今年服務可用率達 99.9%。", passage="(TWIX)")).status == "met"


@pytest.mark.parametrize(
    ("question", "names"),
    [
        (
            "How many startup teams has the Taiwan Startup Stadium program nurtured?",
            ["Taiwan Startup Stadium"],
        ),
        ("What is the Smart Nation Plan's 2025 target?", ["Smart Nation Plan"]),
        (
            "In the IMD World Competitiveness Ranking, where did Germany rank?",
            ["IMD World Competitiveness Ranking"],
        ),
        ("What was South Korea's R&D spending?", []),  # a place of two words is a place
        ("What did the Financial Supervisory Commission fund?", []),  # an agency is an organisation
        ("What share went to talent?", []),
    ],
)
def test_english_names_of_several_capitalised_words(question: str, names: list[str]) -> None:
    assert [c.text for c in kinds(question).get("programme", [])] == names


def test_an_english_name_must_be_stated_by_english_evidence_only() -> None:
    condition = only("How many startup teams has the Taiwan Startup Stadium program nurtured?", "programme")
    assert condition.strict
    other = "Participation by 40 tech startups in CES generated NT$4.2 billion in business."
    assert check_condition(condition, sentence(other)).blocking
    named = "The Taiwan Startup Stadium programs have nurtured 300 teams."
    assert check_condition(condition, sentence(named)).status == "met"  # a plural still names it
    chinese = Evidence(unit="新創團隊共 300 隊。", passage="新創團隊共 300 隊。", cross_script=True)
    assert not check_condition(condition, chinese).blocking  # an English name is not looked for in Chinese


def test_a_one_word_latin_name_is_held_to_chinese_text_that_writes_it_as_is() -> None:
    question = "What was the average user satisfaction rating of the AgePass platform?"
    [condition] = [c for c in extract_conditions(question) if c.kind == "programme"]
    assert condition.text == "AgePass" and condition.strict
    other = Evidence(
        unit="手語服務滿意度達 4.89 分。", passage="手語服務滿意度達 4.89 分。", cross_script=True
    )
    # No retrieved passage writes the name: Chinese evidence cannot be held to an English spelling.
    [unmarked] = written_as_is((condition,), ["手語服務滿意度達 4.89 分。"])
    assert not check_condition(unmarked, other).blocking
    # A passage writes 「樂齡好幫手 AgePass」: evidence that does not is about something else.
    [marked] = written_as_is(
        (condition,), ["【樂齡好幫手 AgePass】上架 15 項服務。", "手語服務滿意度達 4.89 分。"]
    )
    assert check_condition(marked, other).blocking
    own = Evidence(
        unit="上架 15 項服務。", passage="【樂齡好幫手 AgePass】上架 15 項服務。", cross_script=True
    )
    assert check_condition(marked, own).status == "met"


def test_a_name_of_several_words_is_not_held_to_chinese_text() -> None:
    # The reports write some English names beside their Chinese translation: the Chinese sentences
    # use only the translation.
    question = "How many participants attended the National Science and Technology Conference?"
    conditions = tuple(c for c in extract_conditions(question) if c.kind == "programme")
    passages = ["National Science and Technology Conference 全國科學技術會議", "會議共 1,200 人參與。"]
    [kept] = written_as_is(conditions, passages)
    evidence = Evidence(unit="會議共 1,200 人參與。", passage="會議共 1,200 人參與。", cross_script=True)
    assert not kept.written_as_is and not check_condition(kept, evidence).blocking


@pytest.mark.parametrize(
    ("question", "text", "opposite"),
    [
        ("2025 年非偏鄉 5G 人口涵蓋率目標", "非偏鄉", "偏乡"),
        ("2024 年偏乡地区的 5G 人口涵盖率是多少？", "偏乡", "非偏乡"),
        ("What is the 2025 target for 5G coverage?", "target", "达成"),
        ("累計核發了多少張？", "累計", "当年度"),
    ],
)
def test_qualifiers_and_their_opposites(question: str, text: str, opposite: str) -> None:
    found = {c.text: c for c in kinds(question)["qualifier"]}
    assert opposite in found[text].opposites


def test_asking_about_both_sides_is_no_qualifier() -> None:
    assert "qualifier" not in kinds("2025 年目標與 2024 年達成情形各是多少？")


def test_conflicting_years() -> None:
    for question in ("2023年的2019年預算", "2018年和2020年的同一個數字", "2018 年与 2020 年同一个数值是多少"):
        assert conflicting_years(question, extract_conditions(question)) is not None
    fine_questions = (
        "2023 年與 2019 年的預算",
        "2019 至 2023 年的預算",
        "113 年度較 112 年度成長多少？",
        "2021 年啟動的計畫截至 2024 年累計補助多少案？",
        "2018 年和 2020 年的研發經費各是多少？",
    )
    for fine in fine_questions:
        assert conflicting_years(fine, extract_conditions(fine)) is None


def test_a_wall_of_text_has_a_bounded_number_of_conditions() -> None:
    wall = "".join(f"{year} 年日本、德國與經濟部的「計畫{year}」" for year in range(1990, 2030))
    assert len(extract_conditions(wall)) <= 8


# -- checking ------------------------------------------------------------------------------------

TABLE_HEADER = (
    "附表 2 2019-2023 年主要國家研發經費占 GDP 比率 (百分比, %)\n年度\t2019\t2020\t2021\t2022\t2023"
)
TABLE = TABLE_HEADER + "\n臺灣\t3.48\t3.59\t3.77\t3.93\t3.97\n日本\t3.22\t3.27\t3.27\t3.40\t3.44"


def row(label: str, column: str = "2023") -> Evidence:
    line = next(r for r in TABLE.split("\n") if r.startswith(label))
    return Evidence(
        unit=f"{TABLE_HEADER}\n{line}",
        passage=TABLE,
        title="113年度中央政府科技研發績效彙編",
        label=label,
        column=column,
        caption=TABLE_HEADER.split("\n")[0],
    )


def sentence(text: str, passage: str = "", section: str = "", title: str = "") -> Evidence:
    return Evidence(unit=text, passage=passage or text, section=section, title=title)


def check(question: str, kind: str, evidence: Evidence):
    return check_condition(only(question, kind), evidence)


@pytest.mark.parametrize(
    "question",
    [
        "日本2018年研發經費占GDP比率是多少？",
        "日本2018年研发经费占GDP比率是多少？",
        "Japan's R&D share of GDP in 2018?",
    ],
)
def test_a_year_outside_the_table_is_contradicted_by_its_header(question: str) -> None:
    result = check(question, "time", row("日本"))
    assert result.status == "contradicted" and result.blocking
    assert result.evidence == "2019-2023 年"  # the header's own words


def test_a_year_inside_the_table_is_met_by_its_column_only() -> None:
    result = check("日本2021年研發經費占GDP比率是多少？", "time", row("日本", "2021"))
    assert result.status == "met"
    # The 2023 cell is no 2021 figure, though the caption covers 2019-2023.
    other = check("日本2021年研發經費占GDP比率是多少？", "time", row("日本", "2023"))
    assert (other.status, other.evidence, other.blocking) == ("contradicted", "2023", True)


@pytest.mark.parametrize(
    "question", ["日本2023年研發經費占GDP比率是多少？", "Japan's R&D share of GDP in 2023?"]
)
def test_a_row_of_another_country_is_contradicted(question: str) -> None:
    assert check(question, "place", row("日本")).status == "met"
    result = check(question, "place", row("臺灣"))
    assert result.status == "contradicted" and result.evidence == "臺灣"


def test_english_names_meet_english_evidence() -> None:
    text = "Japan's R&D intensity reached 3.44% in 2023, above the US average."
    assert check("What was Japan's R&D share of GDP in 2023?", "place", sentence(text)).evidence == "Japan"
    assert check("What did the United States spend?", "place", sentence(text)).evidence == "US"
    assert check("What did the US spend?", "place", sentence("Tell us more.")).status == "missing"


def test_a_sentence_led_by_taiwan_is_not_about_the_country_it_compares_with() -> None:
    text = "我國近年研發經費占 GDP 比率穩定提升，2023 年達 3.97%，優於美國、日本與德國等國家。"
    result = check("日本2023年研發經費占GDP比率是多少？", "place", sentence(text))
    assert result.status == "contradicted" and result.evidence == "我國"


def test_another_country_in_the_sentence_contradicts() -> None:
    text = "2024 年我國在 IMD 世界數位競爭力評比中排名第 9 名。"
    result = check("越南在2024年IMD世界數位競爭力排名第幾？", "place", sentence(text))
    assert result.status == "contradicted" and result.blocking


def test_taiwan_goes_unsaid_in_the_reports() -> None:
    result = check(
        "我國 2024 年 5G 基地臺建置多少臺？", "place", sentence("2024 年建置 5G 基地臺 48,195 臺。")
    )
    assert result.status == "met" and result.where == "implicit"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("美國、日本與德國則維持在 3%–3.5% 之間。", "contradicted"),  # another country's sentence
        ("(2) 日本於 2021 年公布計畫。", "contradicted"),
        ("與日本京都大學簽署共同投資備忘錄。", "met"),  # Taiwan signed: its own country goes unsaid
        ("美國、日本與我國的研發經費。", "met"),
    ],
)
def test_a_sentence_opening_on_another_country_is_not_about_taiwan(text: str, status: str) -> None:
    assert check("我國 2023 年研發經費占 GDP 比率是多少？", "place", sentence(text)).status == status


def test_an_agency_no_evidence_names_is_missing() -> None:
    text = "113 年度中央政府科技研發預算法定數總額為 1,517.4 億臺幣。"
    result = check("司法院113年度的科技研發預算是多少？", "organisation", sentence(text))
    assert result.status == "missing" and result.blocking


def test_another_agency_in_a_row_is_contradicted_and_aliases_meet() -> None:
    passage = "國家科學及技術委員會（以下簡稱國科會）預算最高。\n經濟部\t1,215\n國科會\t2,530"
    evidence = Evidence(unit="機關\t經費\n經濟部\t1,215", passage=passage, label="經濟部", column="經費")
    assert check("交通部的經費是多少？", "organisation", evidence).status == "contradicted"
    ours = Evidence(unit="機關\t經費\n國科會\t2,530", passage=passage, label="國科會", column="經費")
    assert check("國家科學及技術委員會的經費是多少？", "organisation", ours).status == "met"


@pytest.mark.parametrize(
    "text",
    [
        "113 年度各部會在重要國內外期刊之論文發表總數為 47,267 篇。",
        "In 2024, NT$151.7 billion funded 443 projects implemented by 27 ministries.",
    ],
)
def test_a_total_over_all_agencies_is_no_one_agency_s_figure(text: str) -> None:
    passage = f"國家科學及技術委員會（以下簡稱國科會）推動基礎科研。{text}"
    result = check("國科會 113 年度共發表多少篇論文？", "organisation", sentence(text, passage=passage))
    assert result.status == "contradicted" and result.blocking
    # A sentence naming the asked agency beside all the others is still about it.
    both = "國科會與各部會共同發表 39,589 篇論文。"
    assert check("國科會 113 年度共發表多少篇論文？", "organisation", sentence(both)).status == "met"


def test_the_report_title_year_does_not_cover_a_sentence_about_another_year() -> None:
    text = "我國近年研發經費占 GDP 比率穩定提升，2023 年達 3.97%。"
    evidence = sentence(text, title="113年度中央政府科技研發績效彙編")
    assert check("我國 2024 年研發經費占 GDP 比率是多少？", "time", evidence).status == "contradicted"
    unsaid = sentence("研發經費占 GDP 比率穩定提升。", title="113年度中央政府科技研發績效彙編")
    assert check("我國 113 年研發經費占 GDP 比率是多少？", "time", unsaid).status == "met"


def test_a_section_path_meets_a_year() -> None:
    evidence = sentence("完成 18 座觀測站。", section="2024 年研究成果")
    result = check("2024 年完成幾座觀測站？", "time", evidence)
    assert result.status == "met" and result.where == "section"


@pytest.mark.parametrize(
    ("question", "text", "status"),
    [
        ("2024 年偏鄉地區的 5G 人口涵蓋率是多少？", "5G 網路非偏鄉電波人口涵蓋率已達 98.15%", "contradicted"),
        ("2024 年非偏乡 5G 人口涵盖率是多少？", "5G 網路非偏鄉電波人口涵蓋率已達 98.15%", "met"),
        ("2024 年偏鄉地區的 5G 人口涵蓋率是多少？", "偏鄉地區 5G 人口涵蓋率達 90%", "met"),
        ("累計核發多少張？", "當年度核發 65 萬張", "contradicted"),
        ("累计核发多少张？", "行動自然人憑證累計核發 65 萬張", "met"),
        ("累計核發多少張？", "行動自然人憑證核發 65 萬張", "missing"),
    ],
)
def test_qualifiers_are_checked_in_the_sentence(question: str, text: str, status: str) -> None:
    result = check(question, "qualifier", sentence(text))
    assert result.status == status
    assert not (status == "missing" and result.blocking)  # an unstated qualifier is no reason to refuse


@pytest.mark.parametrize(
    ("question", "text", "status"),
    [
        # One figure for both sides (listed together) is neither side's.
        ("針對非金融業辦理了幾場訓練？", "針對金融業、非金融業辦理訓練計 2,555 場", "contradicted"),
        ("针对非金融业办理了几场训练？", "針對非金融業辦理訓練 300 場", "met"),
        ("針對非金融業辦理了幾場訓練？", "針對金融業辦理訓練 2,000 場", "contradicted"),
        ("針對非金融業辦理了幾場訓練？", "針對金融業及非金融業分別辦理 2,000 場及 555 場", "met"),
        ("2024 年非偏鄉 5G 人口涵蓋率是多少？", "偏鄉及非偏鄉人口涵蓋率達 98%", "contradicted"),
        (
            "How many sessions were held for non-financial firms?",
            "Sessions for financial firms: 2,000",
            "contradicted",
        ),
    ],
)
def test_the_part_that_is_not_x_is_a_qualifier(question: str, text: str, status: str) -> None:
    assert check(question, "qualifier", sentence(text)).status == status


@pytest.mark.parametrize(
    "question",
    [
        "針對金融業與非金融業辦理了幾場訓練？",  # both sides asked
        "非洲國家有幾個？",
        "這項計畫並非目標嗎？",
        "非常多的廠商參與了幾場活動？",
    ],
)
def test_non_without_a_part_asked_is_no_qualifier(question: str) -> None:
    assert "qualifier" not in kinds(question)


@pytest.mark.parametrize(
    ("question", "text", "status", "blocking"),
    [
        ("2024 年當年度教育雲的使用人次是多少？", "至 2024 年累計使用達 3,767 萬人次", "contradicted", True),
        # A target is named where it is stated (目標, 總體指標, 預計); a figure passed already is reached.
        ("平台的注册人数目标是多少？", "平臺正式上線，註冊人數 1.7 萬人", "missing", True),
        ("平台的注册人数目标是多少？", "平臺註冊人數已逾 1.7 萬人", "contradicted", True),
        ("平台的注册人数目标是多少？", "平臺註冊人數預計 2025 年達 3 萬人", "met", False),
        ("今年新增幾座基地臺？", "偏鄉地區建置 120 座基地臺", "missing", True),  # 新增 unsaid
        ("今年新增幾座基地臺？", "累計建置 120 座基地臺", "contradicted", True),
        ("寬頻在偏鄉家戶的涵蓋率是多少？", "寬頻服務涵蓋率提升至 83.3%", "missing", True),  # the whole
        ("What is the coverage target?", "目標 2025 年達 85%", "met", False),
    ],
)
def test_a_subset_the_sentence_does_not_name_is_not_answered(
    question: str, text: str, status: str, blocking: bool
) -> None:
    result = check(question, "qualifier", sentence(text))
    assert (result.status, result.blocking) == (status, blocking)


def test_english_qualifiers_are_whole_words() -> None:
    assert "qualifier" not in kinds("Which groups were targeted by the programme?")


def test_a_qualifier_of_a_row_is_read_from_its_column() -> None:
    evidence = Evidence(
        unit="指標\t2024 年達成情形\t2025 年目標\n數位經濟規模\t5.8 兆元\t6.5 兆元",
        label="數位經濟規模",
        column="2025 年目標",
    )
    assert check("數位經濟規模的 2025 年目標是多少？", "qualifier", evidence).status == "met"
    achieved = Evidence(unit=evidence.unit, label="數位經濟規模", column="2024 年達成情形")
    assert check("數位經濟規模的 2025 年目標是多少？", "qualifier", achieved).status == "contradicted"


def test_names_cannot_be_checked_in_a_passage_of_another_language() -> None:
    evidence = Evidence(
        unit="Funding reached NT$3.2 billion.", passage="Funding reached NT$3.2 billion.", cross_script=True
    )
    # An agency known by no English name cannot be looked for in English text ...
    result = check("示範署的經費是多少？", "organisation", evidence)
    assert result.status == "missing" and not result.blocking
    # ... one with an English name (Ministry of Education) can.
    assert check("教育部的經費是多少？", "organisation", evidence).blocking


def test_ask_json_lists_the_checked_conditions() -> None:
    from qa.cli import answer_to_dict
    from qa.types import Answer, ConditionResult

    result = ConditionResult("2018", "time", "contradicted", "2023", "row", True)
    answer = Answer(question="q", text="t", abstained=True, confidence=0.1, conditions=[result])
    assert answer_to_dict(answer)["conditions"] == [
        {
            "text": "2018",
            "kind": "time",
            "status": "contradicted",
            "evidence": "2023",
            "where": "row",
            "blocking": True,
        }
    ]


# -- agencies named in English -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "forms"),
    [
        (
            "How many papers did the Ministry of Education publish in 2024?",
            {"教育部", "ministry of education"},
        ),
        (
            "What was the Veterans Affairs Council's S&T budget for 2024?",
            {"退辅会", "veterans affairs council"},
        ),
        ("How much did the NSTC spend on AI?", {"国科会", "国家科学及技术委员会"}),
        ("水利署連結了多少支監視器？", {"水利署", "经济部水利署", "water resources agency"}),
    ],
)
def test_an_agency_is_one_condition_in_chinese_and_english(question: str, forms: set[str]) -> None:
    condition = only(question, "organisation")
    assert forms <= set(condition.forms) and condition.strict


@pytest.mark.parametrize(
    ("text", "status", "blocking"),
    [
        ("教育部 113 年度補助 153 所學校", "met", False),
        ("The Ministry of Education funded 153 schools.", "met", False),
        ("國科會 113 年度補助 153 所學校", "contradicted", True),  # another agency in the sentence
        ("The National Science and Technology Council funded 153 schools.", "contradicted", True),
        ("113 年度補助 153 所學校", "missing", True),
    ],
)
def test_an_english_agency_is_checked_in_chinese_and_english_evidence(
    text: str, status: str, blocking: bool
) -> None:
    result = check(
        "How many schools did the Ministry of Education fund in 2024?", "organisation", sentence(text)
    )
    assert (result.status, result.blocking) == (status, blocking)


def test_a_target_is_a_qualifier_of_figures_only() -> None:
    assert "qualifier" in kinds("平臺的註冊人數目標是多少？")
    assert "qualifier" not in kinds("設置小型合作農場的主要目標是？")  # asks what the aim is


def test_a_place_the_question_also_names_is_no_other_place() -> None:
    question = "喬治亞北方與俄羅斯聯邦比鄰的邊界長達多少公里？"
    georgia = next(c for c in extract_conditions(question) if c.text == "喬治亞")
    text = "北方與俄羅斯聯邦比鄰，邊界長達 723 公里。"
    passage = "喬治亞位於高加索地區。" + text
    assert check_condition(georgia, sentence(text, passage)).status == "met"
    # A third country in the sentence still contradicts it.
    other = "北方與亞美尼亞比鄰，邊界長達 164 公里。"
    assert (
        check_condition(georgia, sentence(other, "喬治亞位於高加索地區。" + other)).status == "contradicted"
    )
