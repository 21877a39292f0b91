"""Which row is highest or lowest: read over every slice of a table, not only the slice retrieved."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ask_indexed

from corpus.chunking import chunk_document
from corpus.reading import ReadingConfig, read_document
from corpus.types import Chunk
from index.types import Hit
from qa.answer import AnswerConfig, answer_question
from qa.cells import find_extreme, table_slices
from qa.conditions import extract_conditions

# 30 agencies: three slices of at most 12 rows; the smallest share sits in the last slice, the
# largest budget in the first, and a total row that must never win.
_AGENCIES = [f"第{n:02d}示範署" for n in range(1, 31)]
_BUDGETS = [9_000_000 - n * 250_000 for n in range(30)]
_SHARES = ["12.5%", *[f"{4.0 - n * 0.1:.1f}%" for n in range(1, 29)], "<0.01%"]


def _report() -> str:
    rows = "\n".join(f"{a}\t{b:,}\t{s}" for a, b, s in zip(_AGENCIES, _BUDGETS, _SHARES, strict=True))
    return (
        "示範科技報告\n\n"
        "一、經費概況\n\n"
        "113 年度各機關的科技經費如下表。\n\n"
        "表 2-1 各機關 113 年度科技經費\n\n"
        "機關\t113 年度經費 (千元)\t113 年度經費占比 (%)\n"
        f"{rows}\n"
        "總計\t99,999,999\t100.0%\n\n"
        "資料來源：示範\n\n"
        "二、排名\n\n"
        "表 2-2 示範指標排名\n\n"
        "項目\t2023 排名\t2024 排名\n"
        "人才\t12\t9\n"
        "基礎建設\t3\t4\n"
        "研發\t7\t2\n"
        "法規\t20\t21\n"
    )


def _chunks(tmp_path: Path) -> list[Chunk]:
    path = tmp_path / "report.txt"
    path.write_text(_report(), encoding="utf-8")
    return chunk_document(read_document(path, ReadingConfig(cache_dir=None)))


def _fetch(chunks: list[Chunk]):
    by_id = {c.chunk_id: c for c in chunks}
    return by_id.get


def _first_slice(chunks: list[Chunk], caption: str) -> list[Hit]:
    first = next(c for c in chunks if c.kind == "table" and caption in c.text)
    return [Hit(chunk=first, score=1.0, rank=1)]


def test_the_table_is_read_whole_from_any_of_its_slices(tmp_path: Path) -> None:
    chunks = _chunks(tmp_path)
    slices = [c for c in chunks if c.kind == "table" and "示範署" in c.text]
    assert len(slices) >= 3  # the table really is split
    for piece in slices:
        assert [c.chunk_id for c in table_slices(piece, _fetch(chunks))] == [c.chunk_id for c in slices]


@pytest.mark.parametrize(
    ("question", "label", "value"),
    [
        ("113 年度經費占比最低的是哪個機關？", "第30示範署", "<0.01%"),  # in the last slice
        ("113 年度经费占比最高的是哪个机关？", "第01示範署", "12.5%"),  # Simplified; the total row is skipped
        ("113 年度經費最少的是哪個機關？", "第30示範署", "1,750,000"),  # the budget column, not the share
    ],
)
def test_which_row_is_highest_or_lowest(tmp_path: Path, question: str, label: str, value: str) -> None:
    chunks = _chunks(tmp_path)
    hits = _first_slice(chunks, "表 2-1")
    found = find_extreme(question, extract_conditions(question), hits, _fetch(chunks))
    assert found is not None
    assert (found.cell.label, found.cell.value) == (label, value)
    assert found.rows == 30  # every agency compared, the total row left out
    answer = answer_question(question, hits, embedder=None, config=AnswerConfig(), fetch=_fetch(chunks))
    assert not answer.abstained and answer.text.startswith(label)
    # The citation quotes the winning row verbatim, from whichever slice holds it.
    assert answer.citations and label in answer.citations[0].quote


@pytest.mark.parametrize(
    ("question", "label"),
    [
        ("2024 年哪一項排名最高？", "研發"),
        ("2024 年排名最前面的是哪一項？", "研發"),
        ("2024 年排名最後的是哪一項？", "法規"),
    ],
)
def test_first_place_of_a_ranking_is_the_smallest_number(tmp_path: Path, question: str, label: str) -> None:
    chunks = _chunks(tmp_path)
    found = find_extreme(
        question, extract_conditions(question), _first_slice(chunks, "表 2-2"), _fetch(chunks)
    )
    assert found is not None and found.cell.label == label


def test_a_question_without_a_superlative_is_left_to_the_cell_reader(tmp_path: Path) -> None:
    chunks = _chunks(tmp_path)
    question = "2024 年人才排名第幾？"
    hits = _first_slice(chunks, "表 2-2")
    assert find_extreme(question, extract_conditions(question), hits, _fetch(chunks)) is None


def test_two_rows_sharing_the_end_give_no_single_answer(tmp_path: Path) -> None:
    path = tmp_path / "tied.txt"
    path.write_text(_report().replace("法規\t20\t21", "法規\t20\t21\n治理\t20\t5"), encoding="utf-8")
    chunks = chunk_document(read_document(path, ReadingConfig(cache_dir=None)))
    question = "2023 年哪一項排名最低？"  # 法規 and 治理 are both 20th
    hits = _first_slice(chunks, "表 2-2")
    assert find_extreme(question, extract_conditions(question), hits, _fetch(chunks)) is None


def test_a_real_index_answers_over_slices_it_did_not_retrieve(tmp_path: Path, default_embedder) -> None:
    answer = ask_indexed(tmp_path, _report(), "113 年度經費占比最低的是哪個機關？")
    assert not answer.abstained
    assert answer.text.startswith("第30示範署") and "<0.01%" in answer.text
    assert "第30示範署" in answer.citations[0].quote


def test_a_table_whose_rows_are_not_what_is_asked_is_not_ranked(tmp_path: Path) -> None:
    chunks = _chunks(tmp_path)
    hits = _first_slice(chunks, "表 2-1")
    # The rows of 表 2-1 are 機關; a question about which kind of expertise is not asked of it.
    question = "113 年度科技人力的專長領域中，哪一類占比最高？"
    assert find_extreme(question, extract_conditions(question), hits, _fetch(chunks)) is None
    asked = "113 年度經費占比最高的是哪個機關？"
    assert find_extreme(asked, extract_conditions(asked), hits, _fetch(chunks)) is not None


_COUNTRIES = [f"示範國{n:02d}" for n in range(1, 31)]


def _ranking_chunks(tmp_path: Path) -> list[Chunk]:
    # Ranks 2024: the last country is first, so the answer sits in the table's last slice.
    rows = "\n".join(f"{c}\t{n + 1}\t{30 - n}" for n, c in enumerate(_COUNTRIES))
    path = tmp_path / "ranking.txt"
    path.write_text(
        "示範競爭力報告\n\n一、總體\n\n表 3-1 2023-2024 年主要國家總體競爭力排名\n\n"
        f"國家\t2023\t2024\n{rows}\n",
        encoding="utf-8",
    )
    return chunk_document(read_document(path, ReadingConfig(cache_dir=None)))


@pytest.mark.parametrize(
    ("question", "label"),
    [
        ("2024 年總體競爭力第 1 名是哪個國家？", "示範國30"),
        ("2023 年總體競爭力排名第二十五的是哪個國家？", "示範國25"),
        ("2024 年总体竞争力第 3 名是哪个国家？", "示範國28"),
    ],
)
def test_which_row_holds_a_place_in_a_ranking(tmp_path: Path, question: str, label: str) -> None:
    from qa.cells import find_rank_holder

    chunks = _ranking_chunks(tmp_path)
    assert len([c for c in chunks if c.kind == "table"]) >= 2  # the ranking really is split
    hits = _first_slice(chunks, "表 3-1")
    found = find_rank_holder(question, extract_conditions(question), hits, _fetch(chunks))
    assert found is not None and found.label == label
    answer = answer_question(question, hits, embedder=None, config=AnswerConfig(), fetch=_fetch(chunks))
    assert not answer.abstained and answer.text.startswith(label)
    assert label in answer.citations[0].quote


@pytest.mark.parametrize(
    "question",
    [
        "2024 年數位競爭力第 1 名是哪個國家？",  # a ranking of another kind than the table's
        "2022 年總體競爭力第 1 名是哪個國家？",  # a year the table lacks
        "總體競爭力第 1 名是哪個國家？",  # no year: which column is not said
    ],
)
def test_no_row_holds_a_place_the_table_does_not_rank(tmp_path: Path, question: str) -> None:
    from qa.cells import find_rank_holder

    chunks = _ranking_chunks(tmp_path)
    hits = _first_slice(chunks, "表 3-1")
    assert find_rank_holder(question, extract_conditions(question), hits, _fetch(chunks)) is None
