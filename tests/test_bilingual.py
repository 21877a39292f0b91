"""Bilingual names mined from the reports: the pairs, the per-index glossary, and English questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_config

from corpus.bilingual import build_glossary, mine_pairs, names_in_question
from index.errors import IndexCorruptError
from index.manifest import MANIFEST, Manifest
from index.storage import current_generation
from qa.pipeline import Pipeline, ingest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "註：全時約當數 (Full Time Equivalent, FTE)",
            {("Full Time Equivalent", "全時約當數"), ("FTE", "全時約當數")},
        ),
        ("國際間多以研發經費占國內生產毛額（GDP）比率衡量", {("GDP", "國內生產毛額")}),
        ("本計畫由國家科學及技術委員會（NSTC）主辦", {("NSTC", "國家科學及技術委員會")}),
        ("於 2024 年（民國 113 年）完成", set()),  # no English in the brackets
    ],
)
def test_pairs_are_mined_with_the_name_and_not_the_sentence(
    text: str, expected: set[tuple[str, str]]
) -> None:
    assert {(p.english, p.chinese) for p in mine_pairs(text)} == expected


def test_question_words_find_names_whatever_the_case_or_hyphens() -> None:
    glossary = build_glossary(["註：全時約當數 (Full Time Equivalent, FTE)", "國內生產毛額（GDP）"])
    assert names_in_question("How many full-time equivalent researchers?", glossary) == ["全時約當數"]
    assert names_in_question("R&D as a share of gdp", glossary) == ["國內生產毛額"]
    assert names_in_question("How many researchers?", glossary) == []


# The definitions, the figures and an unrelated passage sit in separate reports, so that a passage
# found for an English question can only have been found through the mined name.
REPORTS = {
    "definitions.txt": "名詞\n\n註：全時約當數 (Full Time Equivalent, FTE)；國家科學及技術委員會（NSTC）。",
    "staff.txt": "研發人力\n\n研發人力以全時約當數計，2024 年為 18,765 人年，較前一年增加 3%。\n",
    "ocean.txt": "海洋監測\n\n海洋監測站共有 42 座，分布於東部與南部海域，每小時回傳水溫與鹽度資料。\n",
}


def _index(tmp_path: Path):
    reports = tmp_path / "reports"
    reports.mkdir()
    for name, text in REPORTS.items():
        (reports / name).write_text(text, encoding="utf-8")
    config = make_config(tmp_path / "idx")
    ingest([reports], config, progress=False)
    return config


def test_index_keeps_the_glossary_and_english_questions_use_it(tmp_path: Path, default_embedder) -> None:
    config = _index(tmp_path)
    manifest = Manifest.load(current_generation(config.index_dir))
    assert manifest.glossary["nstc"] == ["國家科學及技術委員會"]
    assert manifest.glossary["full time equivalent"] == ["全時約當數"]
    assert any("nstc = 國家科學及技術委員會" in line for line in manifest.glossary_lines())

    pipe = Pipeline.open(config)
    try:
        files = [h.chunk.file_name for h in pipe.search("What is the FTE?", k=3, mode="bm25")]
        # staff.txt shares no word with the question: only the mined 全時約當數 can reach it.
        assert "staff.txt" in files and "ocean.txt" not in files, files
    finally:
        pipe.close()


def test_an_index_written_before_glossaries_still_opens(tmp_path: Path, default_embedder) -> None:
    config = _index(tmp_path)
    folder = current_generation(config.index_dir)
    data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    del data["glossary"]
    (folder / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    assert Manifest.load(folder).glossary == {}

    data["glossary"] = ["not", "a", "mapping"]
    (folder / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="malformed"):
        Manifest.load(folder)
