"""Tables that run over page breaks in PDFs the tests draw cell by cell: the repeated header (two
levels under merged cells) is recognised, a row the page break cut in two is joined again, and a
genuine row with an empty label cell (a group continued from above) is kept as a row."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, load_script

from corpus.chunking import chunk_document
from corpus.reading import ReadingConfig, read_document
from corpus.tables import document_tables, is_row_remainder, join_rows, read_table_text
from corpus.types import Table

pdfgen = load_script(FIXTURES / "corpus" / "pdfgen.py", "corpus_pdfgen")

Row = tuple[tuple[str, int], ...]  # (text, colspan) per cell

BUDGET_HEADER: list[Row] = [
    (("機關", 1), ("經費 (千元)", 2), ("人力 (人年)", 2)),
    (("", 1), ("113 年", 1), ("114 年", 1), ("113 年", 1), ("114 年", 1)),
]
AGENCIES = ["內政部", "外交部", "國防部", "財政部", "教育部", "法務部", "經濟部", "農業部"]
MORE = ["勞動部", "衛生福利部", "環境部", "文化部", "數位發展部"]


def _row(*cells: str) -> Row:
    return tuple((c, 1) for c in cells)


def _agency_rows(names: list[str], base: int) -> list[Row]:
    return [
        _row(n, f"{base + 1000 * i:,}", f"{base + 1100 * i:,}", str(100 + i), str(110 + i))
        for i, n in enumerate(names)
    ]


# Page by page: the rows each page draws under the (repeated) header.
BUDGET_PAGES: list[list[Row]] = [
    # The last row is cut by the page break inside a figure: 1,017,64 | 9.
    [*_agency_rows(AGENCIES, 20000), _row("交通部", "818,315", "1,017,64", "120", "")],
    [
        _row("", "", "9", "", "131"),
        *_agency_rows(MORE, 30000),
        # The label wraps over the break; every figure stays above it.
        _row("國家科學及技術", "36,448,718", "37,000,000", "512", "530"),
    ],
    [
        _row("委員會", "", "", "", ""),
        _row("總計", "39,000,000", "41,000,000", "2,000", "2,100"),
        (("註：114 年為預算數。", 5),),
    ],
]

PLAN_HEADER: list[Row] = [_row("議題", "計畫名稱", "部會")]
PLAN_PAGES: list[list[Row]] = [
    [
        _row("智慧科技", "高階智慧物聯網晶片計畫", "經濟部"),
        _row("", "前瞻半導體技術研發計畫", "國科會"),
        _row("", "國防科技前沿探索計畫", "國防部"),
    ],
    # A genuine row of the group continued from above: its label is empty, its agency is not.
    [
        _row("", "智慧機械產業技術提升補助計畫", "經濟部"),
        _row("創新經濟", "連結國際大廠深化合作計畫", "經濟部"),
        _row("", "服務型智慧政府推動計", "內政部"),
    ],
    # The plan name wraps over the break: the remainder fills neither label nor agency.
    [_row("", "畫", ""), _row("均衡社會", "健康大數據永續平台", "衛生福利部")],
]


def _build(font_name: str) -> bytes:
    pdf = pdfgen.new_pdf(font_name=font_name)
    pdf.set_auto_page_break(False)

    def table(header: list[Row], pages: list[list[Row]], width: float, caption: str, after: str) -> None:
        for n, rows in enumerate(pages):
            pdf.add_page()
            if n == 0:
                pdf.set_font("cjk", size=11)
                pdf.multi_cell(0, 7, caption)
                pdf.ln(2)
            pdf.set_font("cjk", size=10)
            for row in header + rows:
                for text, span in row:
                    pdf.cell(width * span, 9, text, border=1)
                pdf.ln(9)
        pdf.ln(3)
        pdf.set_font("cjk", size=11)
        pdf.multi_cell(0, 7, after)

    table(BUDGET_HEADER, BUDGET_PAGES, 34, "表 3 各機關經費與人力 (單位：千元)", "資料來源：示範統計資料庫")
    table(PLAN_HEADER, PLAN_PAGES, 60, "表 4 科研議題與計畫", "以上為各議題計畫。")
    return bytes(pdf.output())


@pytest.fixture(scope="module", params=sorted(pdfgen.FONTS))
def paged_pdf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if pdfgen.fonts_missing():
        pytest.skip("fixture CJK fonts not installed")
    path = tmp_path_factory.mktemp("paged") / "paged.pdf"
    path.write_bytes(_build(request.param))
    return path


@pytest.fixture(scope="module")
def paged_tables(paged_pdf: Path) -> list[Table]:
    return document_tables(read_document(paged_pdf, ReadingConfig(cache_dir=None)))


def test_table_over_three_pages_is_one_table_with_its_two_level_header_once(paged_tables) -> None:
    table = paged_tables[0]
    assert table.number == "表 3" and table.unit == "千元"
    assert table.pages == (1, 2, 3)
    assert table.header_rows == (
        ("機關", "經費 (千元)", "", "人力 (人年)", ""),
        ("", "113 年", "114 年", "113 年", "114 年"),
    )
    assert table.columns[1:3] == ["經費 (千元) 113 年", "經費 (千元) 114 年"]
    assert table.row_labels == [*AGENCIES, "交通部", *MORE, "國家科學及技術委員會", "總計"]
    assert table.notes == ("註：114 年為預算數。", "資料來源：示範統計資料庫")


def test_row_cut_inside_a_figure_is_joined_on_the_page_it_starts(paged_tables, paged_pdf: Path) -> None:
    rows = {row[0]: row for row in paged_tables[0].rows}
    assert rows["交通部"] == ("交通部", "818,315", "1,017,649", "120", "131")
    assert rows["國家科學及技術委員會"] == ("國家科學及技術委員會", "36,448,718", "37,000,000", "512", "530")
    doc = read_document(paged_pdf, ReadingConfig(cache_dir=None))
    chunk = next(c for c in chunk_document(doc) if c.kind == "table" and "交通部" in c.text)
    assert chunk.page_start == chunk.page_end == 1  # the joined row is cited on the page it starts


def test_empty_label_of_a_genuine_row_is_not_a_remainder(paged_tables) -> None:
    table = paged_tables[1]
    assert table.number == "表 4" and table.pages == (4, 5, 6)
    assert [row[1] for row in table.rows] == [
        "高階智慧物聯網晶片計畫",
        "前瞻半導體技術研發計畫",
        "國防科技前沿探索計畫",
        "智慧機械產業技術提升補助計畫",  # empty label, kept as its own row
        "連結國際大廠深化合作計畫",
        "服務型智慧政府推動計畫",  # the plan name's last character came from the next page
        "健康大數據永續平台",
    ]
    assert table.rows[3] == ("", "智慧機械產業技術提升補助計畫", "經濟部")


def test_table_chunks_of_a_paged_table_read_back_whole(paged_pdf: Path) -> None:
    doc = read_document(paged_pdf, ReadingConfig(cache_dir=None))
    chunks = [c for c in chunk_document(doc) if c.kind == "table" and "表 3" in (c.table_header or c.text)]
    labels = []
    for chunk in chunks:
        table = read_table_text(chunk.text, chunk.table_header)
        assert table is not None and len(table.header_rows) == 2
        labels.extend(table.row_labels)
    assert labels == [*AGENCIES, "交通部", *MORE, "國家科學及技術委員會", "總計"]


# ---- the rule itself, on grids ----

GRID = [
    ["主管機關", "基礎研究", "合計"],
    ["國科會", "36,448", "62,066"],
    ["經濟部", "", "43,387"],
    ["交通部", "", "2,26"],
]


@pytest.mark.parametrize(
    ("row", "remainder"),
    [
        (["", "", "6,124"], True),  # the label stayed above: a remainder
        (["委員會", "", ""], True),  # only wrapped text, no figure of its own
        (["文化部", "", "1,443"], False),  # a whole row: it fills every column all rows above fill
        (["韓國", "1,500", ""], False),  # a ragged row: a figure of its own
        (["註：單位為千元。", "", ""], False),  # a footnote row is never joined
    ],
)
def test_remainder_rule(row: list[str], remainder: bool) -> None:
    assert is_row_remainder(GRID, row) is remainder


def test_remainder_needs_two_rows_to_learn_from() -> None:
    assert not is_row_remainder([["機關", "合計"], ["交通部", "2,26"]], ["", "6,124"])


def test_join_rows_continues_figures_and_text() -> None:
    assert join_rows(["交通部", "1,017,64", ""], ["", "9", "131"]) == ["交通部", "1,017,649", "131"]
    assert join_rows(["國家科學及技術", "1"], ["委員會"]) == ["國家科學及技術委員會", "1"]
