"""English names meet the Chinese row labels of tables through the multilingual encoder (qa/names.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ask_indexed

from corpus.chunking import chunk_document
from corpus.reading import ReadingConfig, read_document
from qa.names import NAME_SALIENCE, NameAligner, phrases, table_rows

_COUNTRIES = (
    "臺灣 美國 日本 德國 法國 英國 韓國 加拿大 義大利 荷蘭 瑞典 芬蘭 丹麥 挪威 瑞士 奧地利 比利時 以色列 "
    "新加坡 澳洲 紐西蘭 西班牙 葡萄牙 波蘭 捷克 愛爾蘭 冰島 墨西哥 智利 土耳其"
).split()


def _report() -> str:
    rows = "\n".join(
        f"{name}\t{1000 + 37 * n:,}\t{1100 + 41 * n:,}\t{1200 + 43 * n:,}"
        for n, name in enumerate(_COUNTRIES)
    )
    return (
        "示範國際比較\n\n"
        "附錄\n\n"
        "附表 1 2020-2022 年主要國家研究人員 (全時約當數)\n\n"
        f"國別\t2020\t2021\t2022\n{rows}\n\n"
        "資料來源：示範\n"
    )


def _chunks(tmp_path: Path):
    path = tmp_path / "report.txt"
    path.write_text(_report(), encoding="utf-8")
    return chunk_document(read_document(path, ReadingConfig(cache_dir=None)))


def test_phrases_keep_capitalised_names_whole() -> None:
    found = phrases("How much S&T budget did the Ministry of Culture receive for 2024, in NT$ thousand?")
    assert "Ministry of Culture receive" in found and "S&T budget" in found
    assert phrases("What is the digital life service usage rate?") == ["digital life service usage rate"]


def test_row_labels_and_headers_are_the_names(tmp_path: Path) -> None:
    names, rows_of = table_rows(_chunks(tmp_path))
    assert {"法國", "以色列", "國別"} <= names
    assert not any(n[0].isdigit() for n in names)  # figures and years are no names
    assert rows_of["法國"] and "法國\t" in rows_of["法國"][0].text


def test_an_english_country_name_finds_its_chinese_row(tmp_path: Path, default_embedder) -> None:
    names, rows_of = table_rows(_chunks(tmp_path))
    aligner = NameAligner(sorted(names), default_embedder, tmp_path / "cache", rows_of)
    found = aligner.align("How many full-time equivalent researchers did France have in 2021?")
    assert found and found[0].name == "法國" and found[0].salience >= NAME_SALIENCE
    # A generic word is close to every name and stands out from none.
    assert not aligner.align("What was the total in the year?")
    # The name vectors are kept on disk for the next process, keyed by model and names.
    assert list((tmp_path / "cache").glob("table-names-*.npy"))


def test_an_english_question_is_answered_from_the_chinese_cell(tmp_path: Path, default_embedder) -> None:
    answer = ask_indexed(
        tmp_path, _report(), "How many full-time equivalent researchers did Israel have in 2021?"
    )
    israel = _COUNTRIES.index("以色列")
    assert not answer.abstained
    assert answer.text.startswith(f"{1100 + 41 * israel:,}") and "以色列" in answer.text
    assert answer.citations and answer.citations[0].quote.startswith("以色列")


def test_the_trainer_reads_a_question_as_ask_answers_it(tmp_path: Path, default_embedder) -> None:
    from conftest import make_config

    from qa.pipeline import Pipeline, ingest

    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "report.txt").write_text(_report(), encoding="utf-8")
    config = make_config(tmp_path / "idx")
    ingest([reports], config, progress=False)
    pipe = Pipeline.open(config)
    try:
        question = "How many full-time equivalent researchers did Israel have in 2021?"
        records = pipe.candidate_records(question)
        # answered from the cell the English name finds, before any sentence is scored, as ask does
        assert records.refused is not None and not records.refused.abstained
        assert records.refused.text == pipe.ask(question).text
    finally:
        pipe.close()


@pytest.mark.parametrize("question", ["以色列 2021 年的研究人員有多少？", ""])
def test_chinese_or_empty_questions_align_nothing(tmp_path: Path, question: str) -> None:
    assert phrases(question) == []


def test_a_wall_of_text_gives_a_bounded_number_of_phrases() -> None:
    words = "red blue green gold iron salt rain wind stone sea sky oak".split()
    wall = " the ".join(f"{a} {b} office" for a in words for b in words)  # 144 different phrases
    assert len(phrases(wall)) == 16
