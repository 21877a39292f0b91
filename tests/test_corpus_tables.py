"""Tables as tables: bordered PDF tables, tab and Markdown tables, table chunks, cell answers, display."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import FIXTURES, load_script

from corpus.chunking import chunk_document
from corpus.reading import ReadingConfig, read_document
from corpus.tables import caption_parts, document_tables, join_wrapped, parse_table, read_table_text
from corpus.types import Chunk
from index.types import Hit
from qa.cells import CellAnswer, find_cell, render_cell
from qa.conditions import extract_conditions
from ui.citations import table_csv
from ui.render import render_page_view, table_html

pdfgen = load_script(FIXTURES / "corpus" / "pdfgen.py", "corpus_pdfgen")
needs_font = pytest.mark.skipif(pdfgen.fonts_missing(), reason="fixture CJK fonts not installed")

TAB_REPORT = """示範報告

附表 1 主要國家研發投入 (單位：百萬美元)

國家\t研發經費\t\t研究人員\t
\t2022\t2023\t2022\t2023
臺灣\t1,200\t1,310\t160\t171
日本\t2,100\t\t700\t705
韓國\t1,500\t1,620
註：空白表示尚未公布。\t\t\t\t

資料來源：示範統計資料庫
"""

MARKDOWN_REPORT = """# 示範報告

附表 1 主要國家研發投入 (單位：百萬美元)

| 國家 | 研發經費 | | 研究人員 | |
| --- | --- | --- | --- | --- |
| | 2022 | 2023 | 2022 | 2023 |
| 臺灣 | 1,200 | 1,310 | 160 | 171 |
| 日本 | 2,100 | | 700 | 705 |
| 韓國 | 1,500 | 1,620 | | |
| 註：空白表示尚未公布。 | | | | |

資料來源：示範統計資料庫
"""


@pytest.fixture(scope="module", params=sorted(pdfgen.FONTS))
def table_pdf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both fixture fonts: noto's embedded-CMap encoding is one pdfminer cannot decode (pdfium reads it)."""
    if pdfgen.fonts_missing():
        pytest.skip("fixture CJK fonts not installed")
    path = tmp_path_factory.mktemp("tables") / "tables.pdf"
    path.write_bytes(pdfgen.build_pdf(pdfgen.table_items(), outline=False, font_name=request.param))
    return path


@pytest.fixture(scope="module")
def pdf_tables(table_pdf: Path):
    return document_tables(read_document(table_pdf, ReadingConfig(cache_dir=None)))


def _merged_table_checks(table) -> None:
    assert table.number == "附表 1"
    assert table.title == "主要國家研發投入"
    assert table.unit == "百萬美元"
    assert len(table.header_rows) == 2  # merged parent cells over a row of years
    assert table.columns == ["國家", "研發經費 2022", "研發經費 2023", "研究人員 2022", "研究人員 2023"]
    assert table.row_labels == ["臺灣", "日本", "韓國"]
    assert table.rows[1] == ("日本", "2,100", "", "700", "705")  # the empty cell stays in its column
    assert table.rows[2] == ("韓國", "1,500", "1,620", "", "")  # ragged row padded, not shifted
    assert table.notes == ("註：空白表示尚未公布。", "資料來源：示範統計資料庫")


@needs_font
def test_pdf_table_with_merged_header_ragged_row_and_notes(pdf_tables) -> None:
    _merged_table_checks(pdf_tables[0])
    assert pdf_tables[0].pages == (1,)


@needs_font
def test_pdf_table_split_over_pages_is_one_table_without_repeated_headers(pdf_tables) -> None:
    table = pdf_tables[1]
    assert len(table.pages) >= 2  # the case under test: the table continues on later pages
    assert table.header_rows == (("部會", "預算 (千元)", "占比 (%)"),)
    assert len(table.rows) == pdfgen.LONG_TABLE_ROWS
    assert table.row_labels == [f"第{i}號機關" for i in range(1, pdfgen.LONG_TABLE_ROWS + 1)]
    assert all(label != "部會" for label in table.row_labels)


@pytest.mark.parametrize(("name", "text"), [("report.txt", TAB_REPORT), ("report.md", MARKDOWN_REPORT)])
def test_text_and_markdown_tables_give_the_same_record(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    tables = document_tables(read_document(path, ReadingConfig(cache_dir=None)))
    assert len(tables) == 1
    _merged_table_checks(tables[0])


@needs_font
def test_pdf_and_text_records_agree(pdf_tables, tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_text(TAB_REPORT, encoding="utf-8")
    (text_table,) = document_tables(read_document(path, ReadingConfig(cache_dir=None)))
    assert pdf_tables[0].header_rows == text_table.header_rows
    assert pdf_tables[0].rows == text_table.rows


def test_caption_parts_and_wrapped_cells() -> None:
    assert caption_parts("附表 2 2019-2023 年主要國家研發經費占 GDP 比率 (百分比, %)") == (
        "附表 2",
        "2019-2023 年主要國家研發經費占 GDP 比率",
        "%",
    )
    assert caption_parts("表 1-3 各主管機關科技研發經費預算法定數 (單位：千元)")[::2] == ("表 1-3", "千元")
    assert caption_parts("附表 4 主要國家平均研究人員 (人年 / 每千就業人口)")[2] == "人年 / 每千就業人口"
    assert join_wrapped("2025 年\n(總體指\n標)") == "2025 年 (總體指標)"
    assert join_wrapped("430,1\n60") == "430,160"  # a number wrapped in a narrow column
    assert join_wrapped("digital\neconomy") == "digital economy"


def test_footnote_row_inside_table_is_a_note() -> None:
    table = parse_table("表 3 示範", ["項目\t數值", "甲\t1", "註：甲為估計值。\t"], [])
    assert table.rows == (("甲", "1"),)
    assert table.notes == ("註：甲為估計值。",)


# ---- table chunks ----


def _long_text_report(rows: int = 40) -> str:
    body = "\n".join(f"第{i}號機關\t{1000 + i:,}\t{i / 10:.1f}" for i in range(1, rows + 1))
    caption = "表 2 各機關預算 (單位：千元)"
    return f"示範報告\n\n{caption}\n\n部會\t預算\t占比 (%)\n{body}\n\n資料來源：示範\n\n後記一段文字。\n"


def test_table_chunks_repeat_caption_and_header_and_read_back_as_the_table(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text(_long_text_report(), encoding="utf-8")
    doc = read_document(path, ReadingConfig(cache_dir=None))
    chunks = [c for c in chunk_document(doc) if c.kind == "table"]
    assert len(chunks) >= 3
    seen: list[str] = []
    for chunk in chunks:
        table = read_table_text(chunk.text, chunk.table_header)
        assert table is not None
        assert table.number == "表 2" and table.unit == "千元"
        assert table.header_rows == (("部會", "預算", "占比 (%)"),)
        # A short closing line may join the last slice; it is never read as a row or a note.
        assert not any("後記" in "".join(row) for row in table.rows) and "後記" not in "".join(table.notes)
        seen.extend(table.row_labels)
    assert seen == [f"第{i}號機關" for i in range(1, 41)]  # every row once, in order
    assert "資料來源：示範" in chunks[-1].text


# ---- answers from cells ----


def _hits(text: str, tmp_path: Path, name: str = "r.txt") -> list[Hit]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    chunks = chunk_document(read_document(path, ReadingConfig(cache_dir=None)))
    return [Hit(chunk=c, score=1.0, rank=i + 1) for i, c in enumerate(chunks)]


def _cell(question: str, report: str, tmp_path: Path) -> CellAnswer | None:
    """The cell `find_cell` reads for the question from the report's chunks."""
    return find_cell(question, extract_conditions(question), _hits(report, tmp_path))


GDP_REPORT = """示範報告

附表 2 2019-2023 年主要國家研發經費占 GDP 比率 (百分比, %)

年度\t2019\t2020\t2021\t2022\t2023
臺灣\t3.48\t3.59\t3.77\t3.93\t3.97
德國\t3.11\t3.09\t3.07\t3.04\t3.13
英國\t2.67\t2.94\t2.90\t2.75\t2.68

資料來源：示範
"""


@pytest.mark.parametrize(
    ("question", "value", "row", "column"),
    [
        ("德國2021年研發經費占GDP比率是多少？", "3.07", "德國", "2021"),
        ("英國2020年研發經費占GDP比率是多少？", "2.94", "英國", "2020"),
    ],
)
def test_cell_answer_names_table_row_column_and_unit(
    tmp_path: Path, question: str, value: str, row: str, column: str
) -> None:
    hits = _hits(GDP_REPORT, tmp_path)
    cell = find_cell(question, extract_conditions(question), hits)
    assert cell is not None and not cell.missing
    assert (cell.value, cell.label, cell.column_name) == (value, row, column)
    table = "附表 2「2019-2023 年主要國家研發經費占 GDP 比率」"
    assert render_cell(cell, 1, "zh-Hant") == f"{value}（{table}，列「{row}」，欄「{column}」；單位：%）[1]"
    assert cell.row_line.startswith(row + "\t") and cell.row_line in cell.chunk.text


def test_absent_column_is_said_with_the_neighbouring_cell(tmp_path: Path) -> None:
    question = "德國2024年研發經費占GDP比率是多少？"
    cell = _cell(question, GDP_REPORT, tmp_path)
    assert cell is not None and cell.missing == "2024"
    text = render_cell(cell, 1, "zh-Hant")
    assert text.startswith("表中沒有 2024 年的欄位")
    assert "3.13" in text and "欄「2023」" in text


def test_absent_row_gives_no_cell(tmp_path: Path) -> None:
    question = "法國2021年研發經費占GDP比率是多少？"
    assert _cell(question, GDP_REPORT, tmp_path) is None


def test_answer_question_uses_the_cell(tmp_path: Path) -> None:
    from qa.answer import answer_question
    from qa.config import AnswerConfig

    question = "德國2021年研發經費占GDP比率是多少？"
    answer = answer_question(question, _hits(GDP_REPORT, tmp_path), embedder=None, config=AnswerConfig())
    assert not answer.abstained
    assert answer.text.startswith("3.07（附表 2")
    assert answer.citations[0].quote == "德國\t3.11\t3.09\t3.07\t3.04\t3.13"


# ---- shown as tables ----


def _table_chunk(tmp_path: Path) -> Chunk:
    return next(h.chunk for h in _hits(GDP_REPORT, tmp_path) if h.chunk.kind == "table")


def test_table_chunk_renders_as_html_table_with_the_answer_cell_marked(tmp_path: Path) -> None:
    chunk = _table_chunk(tmp_path)
    html = table_html(chunk, "德國\t3.11\t3.09\t3.07\t3.04\t3.13", "3.07")
    assert html is not None
    assert "<caption>附表 2 2019-2023 年主要國家研發經費占 GDP 比率 (百分比, %)</caption>" in html
    assert '<th scope="col">2021</th>' in html
    assert '<tr class="rq-row-cited"><th scope="row">德國</th>' in html
    assert '<td class="rq-cell-answer"><mark>3.07</mark></td>' in html
    assert html.count("<mark>") == 1
    assert "資料來源：示範" in html


def test_table_html_escapes_cells() -> None:
    chunk = Chunk("d:0", "d", 0, "f.txt", "T", "表 1 X\na\tb\n<script>\t1", 0, 20, (), kind="table")
    html = table_html(chunk)
    assert html is not None and "<script>" not in html and "&lt;script&gt;" in html


def test_page_view_shows_tab_rows_as_a_table() -> None:
    html = render_page_view("p. 1", "前文\n國家\t2021\n德國\t3.07\n後文", (3, 10))
    assert "<table" in html and "<td>3.07</td>" in html and "前文" in html and "後文" in html


def test_cited_table_exports_as_csv(tmp_path: Path) -> None:
    csv_text = table_csv(_table_chunk(tmp_path))
    assert csv_text is not None
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == ["附表 2 2019-2023 年主要國家研發經費占 GDP 比率 (百分比, %)"]
    assert rows[1] == ["年度", "2019", "2020", "2021", "2022", "2023"]
    assert ["德國", "3.11", "3.09", "3.07", "3.04", "3.13"] in rows
    assert ["資料來源：示範"] in rows
    assert rows[-1][0].startswith("Source 出處: r.txt")


BUDGET_REPORT = """示範報告

表 1-1 各主管機關 113 年度科技研發經費預算法定數

主管機關\t113 年度預算法定數 (千元)\t113 年度預算法定數占比 (%)
國家科學及技術委員會 ¹\t62,066,801\t40.9%
經濟部 ²\t43,387,723\t28.6%
總計\t151,737,388\t100.0%
"""


@pytest.mark.parametrize(
    ("question", "value", "row"),
    [
        ("國科會的 113 年度科技預算法定數占比是多少？", "40.9%", "國家科學及技術委員會"),  # alias, ROC year
        ("經濟部 113 年度科技預算法定數是多少千元？", "43,387,723", "經濟部"),
        ("113 年度科技預算法定數總計是多少千元？", "151,737,388", "總計"),
    ],
)
def test_cell_column_chosen_by_wording_among_columns_of_the_year(
    tmp_path: Path, question: str, value: str, row: str
) -> None:
    cell = _cell(question, BUDGET_REPORT, tmp_path)
    assert cell is not None and (cell.value, cell.label) == (value, row)


@pytest.mark.parametrize(
    "question",
    [
        "國科會 113 年度科技預算較 112 年度成長多少？",  # both columns are of 113 年度: neither is asked
        "113 年度科技預算法定數占比最高的是哪個主管機關？",  # asks for a row label, not a value
        "高雄市 113 年度經濟部科技預算法定數是多少千元？",  # a place the table does not cover
    ],
)
def test_questions_a_cell_does_not_answer(tmp_path: Path, question: str) -> None:
    assert _cell(question, BUDGET_REPORT, tmp_path) is None


@needs_font
def test_pdf_table_chunks_stay_on_one_page(table_pdf: Path) -> None:
    doc = read_document(table_pdf, ReadingConfig(cache_dir=None))
    chunks = [c for c in chunk_document(doc) if c.kind == "table" and "機關" in c.text]
    assert len({c.page_start for c in chunks}) >= 2  # the table continues over pages
    assert all(c.page_start == c.page_end for c in chunks)  # so a cited row names its one page
    labels = [label for c in chunks for label in read_table_text(c.text, c.table_header).row_labels]
    assert labels == [f"第{i}號機關" for i in range(1, pdfgen.LONG_TABLE_ROWS + 1)]


CATEGORY_REPORT = """113年度示範彙編

表 1-3 各主管機關科技研發經費預算法定數 - 依計畫額度類別 (單位：千元)

主管機關\t基礎研究\t重點政策\t主管機關 合計
國家科學及技術 委員會\t36,448,718\t15,840,859\t62,066,801
經濟部\t\t29,341,415\t43,387,723
中央研究院\t12,001,797\t811,704\t12,882,200
"""


def test_wrapped_agency_name_meets_its_alias(tmp_path: Path) -> None:
    """A row label wrapped in its cell (a space inside the name) is the agency the question names."""
    from qa.answer import answer_question
    from qa.config import AnswerConfig

    question = "国科会 113 年度的基础研究经费是多少千元？"
    hits = _hits(CATEGORY_REPORT, tmp_path)
    answer = answer_question(question, hits, embedder=None, config=AnswerConfig())
    assert not answer.abstained
    assert answer.text.startswith("36,448,718（表 1-3「")
    assert "列「國家科學及技術委員會」，栏「基礎研究」" in answer.text  # a Simplified question: 栏
    assert answer.citations[0].quote == "國家科學及技術 委員會\t36,448,718\t15,840,859\t62,066,801"


# ---- cells named in other words: the column by its characters, the row by a same-length word ----

SHARE_REPORT = """示範彙編

表 4 各部會 114 年度研發預算法定數

部會\t114 年度預算法定數 (千元)\t114 年度預算法定數占比 (%)
甲部\t3,000\t30.0%
乙部\t7,000\t70.0%
"""


def test_column_chosen_by_characters_when_word_pairs_tie(tmp_path: Path) -> None:
    # 「比例」 shares no character pair with either column, but its 比 (and 占) stand only in the share's.
    question = "甲部 114 年度預算占全部預算的比例是多少？"
    cell = _cell(question, SHARE_REPORT, tmp_path)
    assert cell is not None and (cell.value, cell.column_name) == ("30.0%", "114 年度預算法定數占比 (%)")


INDICATOR_REPORT = """示範方案

表 5 方案指標達成情形

項目\t2026 年 (目標)\t2025 年 (達成)
寬頻網路偏鄉家戶涵蓋率\t95%\t91.5%
數位經濟規模\t7.0 兆元\t8.8 兆元
數位服務經濟規模\t3.0 兆元\t4.1 兆元
"""


def test_row_named_with_another_word_of_the_same_length(tmp_path: Path) -> None:
    question = "宽频网络偏乡家户涵盖率 2025 年达成多少？"  # 网络 where the table writes 網路
    cell = _cell(question, INDICATOR_REPORT, tmp_path)
    assert cell is not None and (cell.value, cell.label) == ("91.5%", "寬頻網路偏鄉家戶涵蓋率")


@pytest.mark.parametrize(
    "question",
    [
        "數位產業經濟規模 2025 年達成多少？",  # words added: a measure the table does not give
        "智慧城市服務涵蓋率 2025 年達成多少？",  # another indicator altogether
    ],
)
def test_row_not_named_gives_no_cell(tmp_path: Path, question: str) -> None:
    assert _cell(question, INDICATOR_REPORT, tmp_path) is None


PLAN_REPORT = """示範彙編

議題\t次議題\t計畫名稱\t部會
智慧科技\t半導體\t示範晶片研發計畫\t甲部
\t量子\t示範量子計算計畫\t乙部
均衡社會\t防災\t示範雷達預警計畫\t丙部
"""


@pytest.mark.parametrize(
    ("question", "value", "label"),
    [
        ("「示範量子計算計畫」由哪個部會執行？", "乙部", "示範量子計算計畫"),
        ("「防災」次议题下的计划由哪个部会负责？", "丙部", "防災"),
    ],
)
def test_which_question_naming_a_column_reads_that_cell(
    tmp_path: Path, question: str, value: str, label: str
) -> None:
    cell = _cell(question, PLAN_REPORT, tmp_path)
    assert cell is not None and (cell.value, cell.column_name) == (value, "部會")
    assert cell.label == label  # the cell that names the row, not its group's empty label


def test_which_row_question_is_still_left_to_sentences(tmp_path: Path) -> None:
    question = "哪個部會負責最多計畫？"  # asks which row, naming none
    assert _cell(question, PLAN_REPORT, tmp_path) is None


# Places side by side as columns, the attributes as rows; the header's corner cell and the first
# data row's label are empty, so both lines open with a tab.
SIDE_BY_SIDE_REPORT = (
    "示範報告\n\n"
    + "各國近年相繼提出漁業政策，以因應資源減少與氣候變遷帶來的挑戰。" * 8
    + """

\t甲國\t乙國\t丙國
\t2022-2026\t2025-2029\t2023-2027
政策\t海洋永續 行動綱領\t漁業振興計畫\t近海資源 管理計畫
目標\t復育漁場\t穩定供給\t保護物種
圖 2-1 示範國家漁業政策對照圖
"""
)


@pytest.mark.parametrize(
    ("question", "value", "column"),
    [
        ("示範國家漁業政策對照中，乙國的漁業政策是哪一項計畫？", "漁業振興計畫", "乙國"),
        ("示範國家漁業政策對照中，丙國的政策是哪一個？", "近海資源 管理計畫", "丙國"),
    ],
)
def test_which_question_naming_a_column_header_reads_its_cell(
    tmp_path: Path, question: str, value: str, column: str
) -> None:
    cell = _cell(question, SIDE_BY_SIDE_REPORT, tmp_path)
    assert cell is not None and (cell.value, cell.column_name, cell.label) == (value, column, "政策")


def test_rows_with_an_empty_first_cell_stay_under_their_headers(tmp_path: Path) -> None:
    from corpus.units import split_units
    from qa.sentences import header_cells, row_cells

    chunk = next(h.chunk for h in _hits(SIDE_BY_SIDE_REPORT, tmp_path) if h.chunk.kind == "table")
    rows = [u for u in split_units(chunk) if u.is_row]
    assert all(u.text == chunk.text[u.start : u.end] for u in rows)
    by_column = {
        u.text.split("\t")[0] or "(empty)": dict(zip(header_cells(u), row_cells(u.text), strict=False))
        for u in rows
    }
    assert by_column["(empty)"]["乙國"] == "2025-2029"
    assert by_column["政策"]["甲國"] == "海洋永續 行動綱領"


def test_a_table_drawn_as_a_figure_takes_its_caption_from_below(tmp_path: Path) -> None:
    chunk = next(h.chunk for h in _hits(SIDE_BY_SIDE_REPORT, tmp_path) if h.chunk.kind == "table")
    table = read_table_text(chunk.text, chunk.table_header)
    assert table is not None and table.caption == "圖 2-1 示範國家漁業政策對照圖"
    assert list(table.columns[1:]) == ["甲國", "乙國", "丙國"] and len(table.rows) == 3


@pytest.mark.parametrize(
    ("question", "value", "column"),
    [
        ("示範國家漁業政策對照中，乙國的計畫期程是哪幾年？", "2025-2029", "乙國"),
        ("示範国家渔业政策对照里，丙国政策的期程为何？", "2023-2027", "丙國"),
    ],
)
def test_a_period_asked_of_a_named_column_is_its_one_span_of_years(
    tmp_path: Path, question: str, value: str, column: str
) -> None:
    cell = _cell(question, SIDE_BY_SIDE_REPORT, tmp_path)
    assert cell is not None and (cell.value, cell.column_name) == (value, column)
    shown = render_cell(cell, 1, "zh-Hant")
    assert shown.startswith(
        f"{value}（表「圖 2-1 示範國家漁業政策對照圖」，欄「{column}」"
    )  # no empty row label


@pytest.mark.parametrize(
    "question",
    [
        "示範國家漁業政策對照中，乙國的計畫是哪一年開始？",  # a year, not a period
        "示範國家漁業政策對照中，丁國的計畫期程是哪幾年？",  # a column the table lacks
    ],
)
def test_no_period_cell_without_a_period_asked_of_a_named_column(tmp_path: Path, question: str) -> None:
    assert _cell(question, SIDE_BY_SIDE_REPORT, tmp_path) is None


def test_which_question_naming_two_column_headers_reads_no_cell(tmp_path: Path) -> None:
    question = "示範國家漁業政策對照中，甲國與乙國的政策是哪一項？"
    assert _cell(question, SIDE_BY_SIDE_REPORT, tmp_path) is None


def test_title_row_over_the_header_row_is_a_header_level() -> None:
    rows = ["課程安排\t\t", "日期\t時間\t單元", "6/1\t09:00-10:00\t導論", "\t10:00-12:00\t實作"]
    table = parse_table("", rows, [])
    assert table.columns == ["課程安排 日期", "時間", "單元"]
    assert table.rows[1] == ("", "10:00-12:00", "實作")


GROWTH_REPORT = """示範彙編

附表 1 2021-2022 年主要國家研發經費 (百萬美元)

年度\t2021\t2022\t年均複合成長率
德國\t1,000\t1,100\t10.0%
法國\t800\t820\t2.5%
"""


def test_english_question_meets_a_measure_column_through_the_glossary(tmp_path: Path) -> None:
    question = "What was Germany's compound annual growth rate of R&D expenditure over 2021-2022?"
    cell = _cell(question, GROWTH_REPORT, tmp_path)
    assert cell is not None and (cell.value, cell.column_name) == ("10.0%", "年均複合成長率")


COURSE_REPORT = """示範課程

課程安排\t\t
日期\t時間\t單元
6/3 (一)\t09:00-12:00\t資料治理導論
\t14:00-16:00\t開放資料實作
6/4 (二)\t09:00-12:00\t資料視覺化
"""


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("6 月 3 日下午 2 點到 4 點上的是哪個單元？", "開放資料實作"),  # the date stands in the row above
        ("6 月 4 日上午 9 點到 12 點是哪個單元？", "資料視覺化"),  # the same hours on another day
    ],
)
def test_dates_and_times_written_otherwise_name_the_row(tmp_path: Path, question: str, value: str) -> None:
    cell = _cell(question, COURSE_REPORT, tmp_path)
    assert cell is not None and (cell.value, cell.column_name) == (value, "單元")


CAPTIONED_REPORT = """示範方案

三、指標達成情形

為掌握示範方案推動進度，本方案就數位經濟、網路社會與寬頻環境三大面向設定總體指標，為掌握示範方案推動進度，本方案就數位經濟、網路社會與寬頻環境三大面向設定總體指標，各指標達成情形整理如下：

示範方案總體指標達成情形

項目\t2026 年 (目標)\t2025 年 (達成)
第1項示範數位服務指標使用普及率\t81%\t71.5%
第2項示範數位服務指標使用普及率\t82%\t72.5%
第3項示範數位服務指標使用普及率\t83%\t73.5%
第4項示範數位服務指標使用普及率\t84%\t74.5%
第5項示範數位服務指標使用普及率\t85%\t75.5%
第6項示範數位服務指標使用普及率\t86%\t76.5%

上述各項指標由主辦機關每年檢視一次，未達目標者須提出改善措施並說明原因，上述各項指標由主辦機關每年檢視一次，未達目標者須提出改善措施並說明原因，上述各項指標由主辦機關每年檢視一次，未達目標者須提出改善措施並說明原因，以利滾動修正。
"""


def test_unnumbered_caption_line_travels_with_its_table(tmp_path: Path) -> None:
    hits = _hits(CAPTIONED_REPORT, tmp_path)
    (table_chunk,) = [h.chunk for h in hits if h.chunk.kind == "table"]
    assert table_chunk.text.startswith("示範方案總體指標達成情形\n")
    table = read_table_text(table_chunk.text, table_chunk.table_header)
    assert table is not None and table.caption == "示範方案總體指標達成情形"
    assert table.row_labels == [f"第{i}項示範數位服務指標使用普及率" for i in range(1, 7)]
    # The lead-in sentence above it stays text, and no text chunk keeps the caption.
    text = "\n".join(h.chunk.text for h in hits if h.chunk.kind == "text")
    assert "整理如下：" in text and "總體指標達成情形" not in text


TWO_BUDGET_TABLES = """示範彙編

表 1 各部會 114 年度研發預算法定數

部會\t114 年度預算法定數 (千元)\t114 年度預算法定數占比 (%)
甲部\t3,000\t30.0%
乙部\t7,000\t70.0%

表 2 各部會研發預算法定數 - 依計畫類別 (單位：千元)

部會\t基礎研究\t重點政策
甲部\t1,200\t1,800
乙部\t2,500\t4,500
"""

TWO_RESEARCHER_TABLES = """示範彙編

附表 3 2020-2021 年主要國家研究人員 (全時約當數)

年度\t2020\t2021
加拿大\t196,010\t211,080

附表 4 2020-2021 年主要國家平均研究人員 (人年 / 每千就業人口)

年度\t2020\t2021
加拿大\t11.06\t11.01
"""


@pytest.mark.parametrize(
    ("report", "question", "value"),
    [
        # The year stands in table 1's header only; the measure (重點政策) in table 2's.
        (TWO_BUDGET_TABLES, "甲部 114 年度的重點政策經費是多少千元？", "1,800"),
        (TWO_RESEARCHER_TABLES, "Canada's researchers per thousand employed in 2020?", "11.06"),
    ],
)
def test_table_of_the_asked_measure_wins_over_one_sharing_only_years(
    tmp_path: Path, report: str, question: str, value: str
) -> None:
    cell = _cell(question, report, tmp_path)
    assert cell is not None and cell.value == value


def test_unnumbered_caption_does_not_contradict_the_column_asked(tmp_path: Path) -> None:
    """A lead-in title saying 達成情形 over a table with a target column does not refuse the target."""
    from qa.answer import answer_question
    from qa.config import AnswerConfig

    report = CAPTIONED_REPORT.replace("2026 年 (目標)", "2026 年 (總體指標)")
    question = "第2項示範數位服務指標使用普及率 2026 年的總體指標目標是多少？"
    answer = answer_question(question, _hits(report, tmp_path), embedder=None, config=AnswerConfig())
    assert not answer.abstained
    assert answer.text.startswith("82%（表「示範方案總體指標達成情形」，列「第2項示範")


EXPENDITURE_REPORT = """示範報告

附表 1 2019-2023 年主要國家研發經費 (百萬美元)

年度\t2019\t2020\t2021\t2022\t2023
加拿大\t28,512\t29,170\t31,001\t33,402\t35,118
德國\t131,930\t129,430\t141,470\t150,900\t160,010
"""


def test_a_share_is_not_read_from_a_table_of_amounts(tmp_path: Path) -> None:
    # 附表 1 has Canada's 2023 cell, but in million dollars: no share of GDP.
    question = "加拿大 2023 年研發經費占 GDP 比率是多少？"
    hits = _hits(EXPENDITURE_REPORT, tmp_path)
    assert find_cell(question, extract_conditions(question), hits) is None
    amount = "加拿大 2023 年研發經費是多少百萬美元？"
    cell = find_cell(amount, extract_conditions(amount), hits)
    assert cell is not None and cell.value == "35,118"


def test_a_share_named_by_the_row_label_is_read(tmp_path: Path) -> None:
    text = "示範報告\n\n指標\t2024 年 (目標)\t2025 年 (目標)\n寬頻服務涵蓋率\t80%\t90%\n"
    question = "寬頻服務涵蓋率的 2025 年目標是多少？"
    cell = _cell(question, text, tmp_path)
    assert cell is not None and cell.value == "90%"


def _below_prose(sentence: str, table: str, tmp_path: Path) -> list[Hit]:
    """Six one-sentence reports (`sentence` numbered 1-6) ranked above the table report's chunks."""
    prose = [h.chunk for i in range(1, 7) for h in _hits(sentence.format(i), tmp_path, f"p{i}.txt")]
    chunks = prose + [h.chunk for h in _hits(table, tmp_path)]
    return [Hit(chunk=c, score=1.0, rank=i + 1) for i, c in enumerate(chunks)]


def test_a_table_ranked_below_the_passages_answered_from_is_read_for_its_cell(tmp_path: Path) -> None:
    from qa.answer import answer_question
    from qa.config import AnswerConfig

    # Passages repeating the plan's name outrank the table slice that lists it among others.
    hits = _below_prose("示範量子計算計畫第 {} 期成果豐碩，持續推動。\n", PLAN_REPORT, tmp_path)
    config = AnswerConfig()
    table_rank = next(h.rank for h in hits if h.chunk.kind == "table")
    assert table_rank > config.passages
    question = "「示範量子計算計畫」由哪個部會執行？"
    answer = answer_question(question, hits, embedder=None, config=config)
    assert answer.text.startswith("乙部（")
    assert answer.citations[0].quote == "\t量子\t示範量子計算計畫\t乙部"
    # Read from below the top five, it is less sure than a cell of the best passage.
    assert answer.confidence == pytest.approx(1.0 / (1.0 + 0.1 * (table_rank - 1)))
    # Without the deeper hits (a caller passing only the top five), the cell is not found.
    top = answer_question(question, hits[: config.passages], embedder=None, config=config)
    assert not top.text.startswith("乙部（")


INDICATOR_RANKS = """示範彙編

附表 8 示範國家科學建設之細項指標

科學建設\t2024 排名\t2025 排名\t備註
全國研發經費\t10\t10\t
研發經費占 GDP 比率\t3\t2\t優勢指標
專利核准件數\t7\t7\t優勢指標
AI 專利公開件數\t-\t-\t2025 年新增
"""


def test_which_row_holds_the_value_the_question_writes_out(tmp_path: Path) -> None:
    from qa.answer import answer_question
    from qa.cells import find_row_holding
    from qa.config import AnswerConfig

    hits = _hits(INDICATOR_RANKS, tmp_path)
    question = "我国科学建设细项指标中，2025 年新增的是哪一项？"
    cell = find_row_holding(question, hits, None)
    assert cell is not None and (cell.label, cell.column_name, cell.value) == (
        "AI 專利公開件數",
        "備註",
        "2025 年新增",
    )
    answer = answer_question(question, hits, embedder=None, config=AnswerConfig())
    assert (
        answer.text == "AI 專利公開件數（附表 8「示範國家科學建設之細項指標」，栏「備註」：2025 年新增）[1]"
    )
    assert answer.citations[0].quote == "AI 專利公開件數\t-\t-\t2025 年新增"


@pytest.mark.parametrize(
    "question",
    [
        "科學建設細項指標中，哪一項是優勢指標？",  # two rows hold it: no single answer
        "數位競爭力的指標中，2025 年新增的是哪一項？",  # the table is about something else
        "科學建設細項指標中，哪一項排名第 2？",  # a figure, not a written-out cell
    ],
)
def test_no_single_row_holds_it(tmp_path: Path, question: str) -> None:
    from qa.cells import find_row_holding

    assert find_row_holding(question, _hits(INDICATOR_RANKS, tmp_path), None) is None


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("依附表 3，以色列 2023 年的研究人員是多少？", {"附表 3"}),
        ("如表2-1所示", {"表 2-1"}),
        ("In Table 2, what was Germany's share?", {"Table 2"}),
        ("每位代表 3 人出席", set()),
    ],
)
def test_table_numbers_a_question_names(text: str, numbers: set[str]) -> None:
    from corpus.tables import table_numbers_in

    assert table_numbers_in(text) == numbers


def test_a_question_naming_its_table_is_not_answered_from_another(tmp_path: Path) -> None:
    hits = _hits(GDP_REPORT, tmp_path)
    other = "依附表 3，德國 2021 年研發經費占 GDP 比率是多少？"
    assert find_cell(other, extract_conditions(other), hits) is None
    same = "依附表 2，德國 2021 年研發經費占 GDP 比率是多少？"
    cell = find_cell(same, extract_conditions(same), hits)
    assert cell is not None and cell.value == "3.07"


def test_a_table_ranked_below_must_share_the_measure_the_question_asks(tmp_path: Path) -> None:
    from qa.answer import answer_question
    from qa.config import AnswerConfig

    hits = _below_prose("德國第 {} 期合作計畫於 2021 年展開。\n", GDP_REPORT, tmp_path)
    config = AnswerConfig()
    # 附表 2 has Germany's 2021 cell, but it is a share of GDP, not researchers.
    researchers = answer_question(
        "德國 2021 年研究人員的全時約當數是多少？", hits, embedder=None, config=config
    )
    assert "3.07" not in researchers.text
    share = answer_question("德國 2021 年研發經費占 GDP 比率是多少？", hits, embedder=None, config=config)
    assert share.text.startswith("3.07（附表 2")


BUDGET_BY_KIND = """示範彙編

表 1-3 各主管機關科技研發經費預算法定數 - 依計畫額度類別 (單位：千元)

主管機關\t基礎研究\t重點政策 (含 五大信賴產業、國家希望工程)\t一般科技 施政\t主管機關 合計
衛生福利部\t\t2,873,232\t2,683,494\t5,726,726
經濟部\t\t29,341,415\t7,726,407\t43,387,723

資料來源：示範
"""


@pytest.mark.parametrize(
    ("question", "value"),
    [
        # The column's own name before what its parentheses say it includes ("projects" glosses 工程).
        (
            "How much did the Ministry of Health and Welfare budget for general S&T governance"
            " projects in 2024?",
            "2,683,494",
        ),
        ("衛生福利部 113 年度一般科技施政的經費是多少？", "2,683,494"),
        ("衛生福利部的五大信賴產業經費是多少？", "2,873,232"),  # a column named only by what it includes
    ],
)
def test_a_column_is_named_by_its_own_words_before_its_parentheses(
    tmp_path: Path, question: str, value: str
) -> None:
    cell = _cell(question, BUDGET_BY_KIND, tmp_path)
    assert cell is not None and cell.value == value
