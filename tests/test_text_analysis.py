"""One text-analysis layer: the lexical index, answer scoring, chunking and citations read text alike."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from corpus import Chunk, ChunkingConfig, chunk_document, read_document, segment
from corpus.address import ADDRESS_WORDS, format_address
from corpus.normalize import detect_language, to_canonical_script, to_traditional_script
from corpus.segment import BM25_STOP_WORDS, QUESTION_STOP_WORDS, TEXT_ANALYSIS_VERSION
from corpus.sentences import split_sentences
from corpus.structure import parse_sections
from index.analysis import AnalysisOptions, lexical_tokens
from qa import language
from qa.citations import build_citation
from qa.generative import parse_claims
from qa.retrieval import matched_terms
from qa.sentences import split_units

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("corpus", "index", "qa", "ui", "evaluation")


def _imports(module: str) -> list[str]:
    """Product source files that import `module` (top-level or inside a function)."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(name == module or name.startswith(module + ".") for name in names):
                    found.append(path.relative_to(ROOT).as_posix())
    return sorted(set(found))


def test_one_owner_for_script_conversion_and_word_segmentation() -> None:
    # A second converter or tokenizer is how answers and the index came to read text differently.
    assert _imports("opencc") == ["corpus/normalize.py"]
    assert _imports("jieba") == ["corpus/segment.py"]


@pytest.mark.parametrize(
    ("question", "passage"),
    [
        ("國家科學及技術委員會的預算是多少？", "國家科學及技術委員會113年度預算"),
        ("国科会的预算是多少？", "國科會113年度預算"),
        ("數位發展部推動哪些計畫？", "数位发展部推动数位转型"),
    ],
)
def test_agency_names_are_one_word_for_the_index_and_for_question_terms(question: str, passage: str) -> None:
    options = AnalysisOptions()
    terms = [term for term in language.question_terms(question) if term.kind == "cjk"]
    agency = max(terms, key=lambda term: len(term.text))
    assert len(agency.text) >= 3  # the whole name, not 國家/科學/技術/委員會
    # The same word is a BM25 token of the question and of a passage in either script ...
    assert agency.text in lexical_tokens(question, options)
    assert agency.text in lexical_tokens(passage, options)
    # ... and answer scoring finds it in that passage.
    assert language.term_found(agency, language.matching_form(passage), frozenset())


def test_stop_words_by_purpose_share_the_function_words() -> None:
    for word in ("的", "什么", "多少", "what", "how"):
        assert word in BM25_STOP_WORDS
    for word in ("的", "什么", "多少"):
        assert word in QUESTION_STOP_WORDS
    # Words every question about a report uses are dropped from question terms only.
    assert "年度" in QUESTION_STOP_WORDS and "年度" not in BM25_STOP_WORDS
    assert not any(
        term.text in QUESTION_STOP_WORDS for term in language.question_terms("113年度的預算是多少？")
    )


def test_script_conversion_preserves_length_both_ways() -> None:
    for text in ("數位發展部與國科會", "数位发展部与国科会", "臺灣 Taiwan 2024"):
        assert len(to_canonical_script(text)) == len(text)
        assert len(to_traditional_script(text)) == len(text)
    assert to_traditional_script("数位发展部") == "數位發展部"
    # Highlighting finds a Simplified question word in Traditional text, in the text's own script.
    assert matched_terms(["数位发展部"], "由數位發展部推動") == ("數位發展部",)


def test_question_language_is_owned_by_the_corpus_layer() -> None:
    assert language.detect_language is detect_language
    assert detect_language("国家科学及技术委员会的预算是多少？") == "zh-Hans"
    assert detect_language("國家科學及技術委員會的預算是多少？") == "zh-Hant"
    assert detect_language("台湾的研发经费是多少？") == "zh-Hans"  # 台 is shared, 湾/发/经/费 are not
    assert detect_language("What was the R&D budget in 2024?") == "en"


REPORT = """113年度科技研發報告

壹、執行成果

國科會推動 AI 計畫，預算達 12.5 億元；累計培育 300 人。國家科學及技術委員會另設基金！
1. 「普及智慧城鄉生活應用計畫」持續推動數位應用創新服務。
2. 2024 年 FOX 服務可用率平均達 99.968%，均符合目標值。
The platform is titled 'Open Data'. It lists three services. The U.S. Government joined in 2024.
"""


def _report(tmp_path: Path) -> tuple[str, list[Chunk]]:
    path = tmp_path / "報告.txt"
    path.write_text(REPORT, encoding="utf-8")
    doc = read_document(path)
    return doc.text, chunk_document(doc, ChunkingConfig())


def test_chunking_and_answers_cut_the_same_sentences(tmp_path: Path) -> None:
    text, chunks = _report(tmp_path)
    doc = read_document(tmp_path / "報告.txt")
    chunk_units = {
        text[unit.start : unit.end].strip()
        for section in parse_sections(doc)
        for block in section.blocks
        for unit in block.units
    }
    answer_units = {unit.text for chunk in chunks for unit in split_units(chunk)}
    expected = {
        "國科會推動 AI 計畫，預算達 12.5 億元；",
        "累計培育 300 人。",
        "國家科學及技術委員會另設基金！",
        "The platform is titled 'Open Data'.",
        "It lists three services.",
        "The U.S. Government joined in 2024.",
    }
    assert expected <= answer_units
    assert expected <= chunk_units
    # Every answer sentence is a sentence unit of the chunker (bar the 4-character minimum and the
    # list numbers, which answers leave out as too short).
    assert answer_units <= chunk_units


def test_generated_claims_end_at_sentences_not_clauses() -> None:
    assert split_sentences("甲計畫完成；乙計畫進行中。The U.S. team met. Next") == [
        "甲計畫完成；",
        "乙計畫進行中。",
        "The U.S. team met.",
        " Next",
    ]
    assert [claim.text for claim in parse_claims("甲計畫完成；乙計畫進行中 [1]。")] == [
        "甲計畫完成；乙計畫進行中"
    ]


@pytest.mark.parametrize(
    ("lang", "page", "lines"),
    [
        ("zh-Hant", "第 12 頁", "第 3–5 行"),
        ("zh-Hans", "第 12 页", "第 3–5 行"),
        ("en", "p. 12", "lines 3-5"),
    ],
)
def test_addresses_in_each_language(lang: language.Language, page: str, lines: str) -> None:
    assert format_address(page_start=12, language=lang) == page
    assert format_address(page_start=12, page_end=13, page_label="12", language=lang) == page
    assert format_address(line_start=3, line_end=5, language=lang) == lines
    # The answer frame writes addresses with the same templates.
    text = language.messages(lang)
    assert (text.page, text.line, text.lines) == (
        ADDRESS_WORDS[lang].page,
        ADDRESS_WORDS[lang].line,
        ADDRESS_WORDS[lang].lines,
    )


def test_chunk_and_citation_addresses_come_from_one_formatter(tmp_path: Path) -> None:
    _text, chunks = _report(tmp_path)
    chunk = next(c for c in chunks if "FOX" in c.text)
    assert chunk.address == format_address(line_start=chunk.line_start, line_end=chunk.line_end)
    citation = build_citation(1, chunk, "均符合目標值。")
    assert citation is not None
    line = chunk.line_start + chunk.text.count("\n", 0, chunk.text.index("均符合目標值。"))
    assert citation.address == format_address(line_start=line) == f"line {line}"
    pdf_chunk = Chunk("d:0", "d", 0, "r.pdf", "r", "x", 0, 1, (), page_start=3, page_end=4)
    assert pdf_chunk.address == "p. 3-4"


def test_index_settings_name_the_text_analysis() -> None:
    # An index built by another analysis is read again on ingest (index/builder.py compares settings).
    assert AnalysisOptions().as_settings()["text_analysis"] == TEXT_ANALYSIS_VERSION


def test_segment_keeps_offsets_with_domain_words() -> None:
    text = "國科會與國家科學及技術委員會"
    tokens = segment(text)
    assert [t.text for t in tokens] == ["國科會", "與", "國家科學及技術委員會"]
    assert all(text[t.start : t.end] == t.text for t in tokens)


@pytest.mark.parametrize(
    ("sentence", "points_back"),
    [
        ("他也以 39 歲高齡參加超級碗。", True),
        ("該計畫於 2024 年完成。", True),
        ("这些设备被用来治疗中毒。", True),
        ("其中 30% 為女性。", True),
        ("These devices treat poisoning.", True),
        ("此外，政府補助 42 所大學。", False),
        ("其他國家也跟進。", False),
        ("Thesis defences were held.", False),
        ("國科會補助 42 所大學。", False),
    ],
)
def test_sentences_that_point_back_at_the_one_before(sentence: str, points_back: bool) -> None:
    from corpus.units import leans_on_previous

    assert leans_on_previous(sentence) is points_back


def test_a_sentence_is_widened_only_to_a_prose_sentence_of_its_own_paragraph() -> None:
    from corpus.types import Chunk
    from corpus.units import with_antecedent

    text = "計畫名稱\t經費\n甲計畫\t100\n\n海研五號已啟用。它每年出海 120 次。\n\n其中 30 次在南海。"
    chunk = Chunk(
        chunk_id="d:0", doc_id="d", ordinal=0, file_name="r.txt", title="r", text=text, char_start=0,
        char_end=len(text), section_path=(), line_start=1, line_end=5,
    )  # fmt: skip
    units = {u.text: u for u in split_units(chunk)}
    widened = with_antecedent(chunk, units["它每年出海 120 次。"])
    assert widened.text == "海研五號已啟用。它每年出海 120 次。" == text[widened.start : widened.end]
    # The sentence before 「其中…」 is in another paragraph: it is not pulled in.
    assert with_antecedent(chunk, units["其中 30 次在南海。"]).text == "其中 30 次在南海。"
