"""Markdown pipe tables are read into the one table form (tab-separated rows), so a question about a
cell gets the cell, its citation names the file's own line, and the separator row is never quoted."""

from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES

from corpus import chunk_document, read_document
from corpus.tables import markdown_rows
from qa.pipeline import Pipeline

OCEAN = FIXTURES / "reports" / "海洋能源示範計畫報告.md"


def test_pipe_rows_become_tab_rows_and_every_line_keeps_its_number() -> None:
    lines = [
        "表 1 示範",
        "| 機組 | 2023 年 | 2024 年 |",
        "| :--- | ---: | :-: |",
        "| 潮流一號 | 488 | 611 |",
        "| 波浪一號 | 260 | |",
        "之後的段落 | 不是表格 |",
    ]
    out = markdown_rows(lines)
    assert out == [
        "表 1 示範",
        "",
        "機組\t2023 年\t2024 年",
        "潮流一號\t488\t611",
        "波浪一號\t260\t",
        lines[5],
    ]


def test_pipes_without_a_separator_row_are_left_alone() -> None:
    lines = ["| 這只是 | 一行文字 |", "| 另一行 | 文字 |", "一般段落"]
    assert markdown_rows(lines) == lines


def test_markdown_table_chunk_and_line_numbers(tmp_path: Path) -> None:
    doc = read_document(OCEAN)
    file_lines = OCEAN.read_text(encoding="utf-8").split("\n")
    assert "| --- |" not in doc.text and "潮流一號\t402\t488\t611" in doc.text
    row_line = next(i for i, line in enumerate(file_lines, start=1) if line.startswith("| 潮流一號"))
    start = doc.text.index("潮流一號\t402")
    assert doc.line_starts[row_line - 1] == start  # the row is cited at its line in the file
    [table] = [c for c in chunk_document(doc) if c.kind == "table"]
    assert "潮流二號\t355\t421\t673" in table.text


def test_a_markdown_table_cell_is_answered_with_its_row_and_column(fixture_pipeline: Pipeline) -> None:
    answer = fixture_pipeline.ask("潮流一號2024年發電量是多少？")
    assert not answer.abstained and answer.text.startswith("611")
    file_lines = OCEAN.read_text(encoding="utf-8").split("\n")
    row_line = next(i for i, line in enumerate(file_lines, start=1) if line.startswith("| 潮流一號"))
    assert answer.citations[0].line_start == row_line and answer.citations[0].address == f"line {row_line}"
    assert "---" not in answer.text


def test_a_question_about_something_else_is_not_answered_by_the_separator_row(
    fixture_pipeline: Pipeline,
) -> None:
    answer = fixture_pipeline.ask("截至2023年底，智慧路燈共安裝了多少盞？")
    assert answer.abstained and "---" not in answer.text
