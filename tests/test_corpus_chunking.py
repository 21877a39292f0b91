"""Structure and chunking: section paths, exact offsets, sentences and table rows kept whole."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from conftest import load_script

from corpus import Chunk, ChunkingConfig, Document, chunk_document, read_corpus, read_document
from corpus.chunking import budget

FIXTURES = Path(__file__).parent / "fixtures" / "corpus"
REPORTS = Path(__file__).resolve().parents[1].parent / "shared" / "reports"

pdfgen = load_script(FIXTURES / "pdfgen.py", "corpus_pdfgen")

# Outside CI a machine without the fixture fonts skips; under CI the build fails naming the package.
needs_font = pytest.mark.skipif(pdfgen.fonts_missing(), reason="fixture CJK fonts not installed")
_SENTENCE_END = "。！？；!?…」）).:："


def _chunks(name: str, config: ChunkingConfig | None = None) -> tuple[Document, list[Chunk]]:
    doc = read_document(FIXTURES / name)
    return doc, chunk_document(doc, config)


def _assert_exact(doc: Document, chunks: list[Chunk]) -> None:
    assert chunks
    for ordinal, chunk in enumerate(chunks):
        assert chunk.text == doc.text[chunk.char_start : chunk.char_end]
        assert chunk.ordinal == ordinal and chunk.chunk_id == f"{doc.doc_id}:{ordinal}"
        assert chunk.doc_id == doc.doc_id and chunk.file_name == doc.file_name and chunk.title == doc.title


def _ends_at_boundary(doc: Document, chunk: Chunk) -> bool:
    """The chunk ends a sentence, a line or the document."""
    after = doc.text[chunk.char_end : chunk.char_end + 1]
    return chunk.text[-1] in _SENTENCE_END or after in ("", "\n")


def test_offsets_are_exact_for_every_fixture() -> None:
    for name in ("report_hant.txt", "report_hans.txt", "report_en.md"):
        doc, chunks = _chunks(name)
        _assert_exact(doc, chunks)


def test_section_paths_follow_every_heading_style() -> None:
    _doc, chunks = _chunks("report_hant.txt")
    paths = {c.section_path for c in chunks}
    assert ("壹、前言", "一、計畫緣起") in paths
    assert ("壹、前言", "一、計畫緣起", "（一）政策背景") in paths
    assert ("壹、前言", "一、計畫緣起", "(二) 推動目標") in paths
    assert ("貳、執行成果", "二、產業鏈結", "1. 技術移轉", "(1) 半導體設備") in paths
    assert ("參、未來展望",) in paths
    # Contents lines (「一、計畫緣起\t2」) and long numbered list items are not headings.
    assert not any(any("\t" in part or "政府積極推動" in part for part in p) for p in paths)
    toc = next(c for c in chunks if c.section_path == ("目次",))
    assert "一、計畫緣起\t2" in toc.text


def test_markdown_and_english_numbered_headings() -> None:
    doc, chunks = _chunks("report_en.md")
    assert doc.title == "Demonstration Science Report" and doc.script == "en"
    paths = {c.section_path[1:] for c in chunks}
    assert ("1. Research Investment", "1.1 Basic Research") in paths
    assert ("2. Outlook",) in paths
    assert all(c.script == "en" for c in chunks)


def test_simplified_chapter_headings() -> None:
    _doc, chunks = _chunks("report_hans.txt")
    assert ("第二章 重点任务", "一、基础设施建设") in {c.section_path for c in chunks}
    assert all(c.script == "zh-Hans" for c in chunks if c.section_path)


def test_chunks_never_cross_sections() -> None:
    _doc, chunks = _chunks("report_hant.txt", ChunkingConfig(target_chars=60, max_chars=120, min_chars=10))
    headings = {
        "壹、前言",
        "一、計畫緣起",
        "（一）政策背景",
        "(二) 推動目標",
        "二、推動架構",
        "貳、執行成果",
        "參、未來展望",
    }
    for chunk in chunks:
        lines = {line.strip() for line in chunk.text.split("\n")}
        own = set(chunk.section_path)
        assert not (lines & headings) - own, (chunk.section_path, chunk.text)


def test_chunks_end_at_sentence_boundaries() -> None:
    doc, chunks = _chunks("report_hant.txt", ChunkingConfig(target_chars=40, max_chars=200, min_chars=5))
    assert len(chunks) > 15
    for chunk in chunks:
        assert _ends_at_boundary(doc, chunk), chunk.text


def test_mid_sentence_blank_line_is_joined() -> None:
    _doc, chunks = _chunks("report_hant.txt", ChunkingConfig(target_chars=20, max_chars=200, min_chars=5))
    holder = next(c for c in chunks if "並建立" in c.text)
    # The sentence continues after the blank lines (and a removed running header).
    assert "完整的績效追蹤機制" in holder.text


def test_overlap_is_configurable() -> None:
    def shared(config: ChunkingConfig) -> int:
        _doc, chunks = _chunks("report_hant.txt", config)
        pairs = itertools.pairwise(chunks)
        return sum(1 for a, b in pairs if a.section_path == b.section_path and b.char_start < a.char_end)

    small = {"target_chars": 40, "max_chars": 200, "min_chars": 5}
    assert shared(ChunkingConfig(**small, overlap_sentences=1)) > 0
    assert shared(ChunkingConfig(**small, overlap_sentences=0)) == 0


def test_sizes_respect_the_budget() -> None:
    config = ChunkingConfig()
    for name in ("report_hant.txt", "report_en.md"):
        _doc, chunks = _chunks(name, config)
        for chunk in chunks:
            assert budget(chunk.text) <= config.max_chars + config.min_chars


def test_long_table_split_by_rows_with_header_repeated() -> None:
    doc, chunks = _chunks("report_hant.txt")
    tables = [c for c in chunks if c.kind == "table"]
    assert len(tables) == 2
    header = "國家\t2023 年\t2024 年\t成長率"
    assert header in tables[0].text and "表 2-1" in tables[0].text
    assert tables[1].table_header is not None and tables[1].table_header.endswith(header)
    assert tables[1].index_text.count(header) == 1
    rows = [line for line in doc.text.split("\n") if line.count("\t") == 3 and line != header]
    pieces = [line for c in tables for line in c.text.split("\n")]
    for row in rows:  # every row whole in exactly one piece
        assert pieces.count(row) == 1, row
    assert sum(1 for line in tables[0].text.split("\n") if line.count("\t") == 3) <= 12 + 1
    row = next(c for c in tables if "臺灣\t43,244\t49,051" in c.text)
    assert header in row.index_text


def test_figure_caption_stays_with_its_source_line() -> None:
    _doc, chunks = _chunks("report_hant.txt", ChunkingConfig(target_chars=10, max_chars=200, min_chars=1))
    caption = next(c for c in chunks if "圖 1-1" in c.text)
    assert "資料來源：國家科學及技術委員會" in caption.text


def test_text_file_chunks_carry_line_ranges() -> None:
    doc, chunks = _chunks("report_hant.txt")
    lines = doc.text.split("\n")  # display lines are numbered like the file's lines
    assert len(lines) == len((FIXTURES / "report_hant.txt").read_text(encoding="utf-8").split("\n"))
    for chunk in chunks:
        assert chunk.page_start is None and chunk.line_start is not None and chunk.line_end is not None
        first_line = chunk.text.split("\n")[0]
        assert first_line in lines[chunk.line_start - 1]
        assert chunk.text.split("\n")[-1] in lines[chunk.line_end - 1]
        assert chunk.address.startswith("line")


@needs_font
@pytest.mark.parametrize("font", sorted(pdfgen.FONTS))
def test_pdf_chunks_carry_pages_and_sections(tmp_path: Path, font: str) -> None:
    path = tmp_path / "sample.pdf"
    path.write_bytes(pdfgen.with_page_labels(pdfgen.sample_pdf(font), front_pages=1))
    doc = read_document(path)
    chunks = chunk_document(doc)
    _assert_exact(doc, chunks)
    by_text = {c.text: c for c in chunks}
    first = next(c for t, c in by_text.items() if "使用者滿意度達到百分之九十一" in t)
    assert (first.page_start, first.page_end, first.page_label) == (1, 1, "i")
    assert first.section_path == ("壹、計畫概述", "一、資料平臺")
    outlook = next(c for c in chunks if c.section_path == ("貳、未來展望",))
    assert (outlook.page_start, outlook.page_label, outlook.address) == (3, "2", "p. 2")
    table = next(c for c in chunks if "臺灣\t10,000\t12,000" in c.text)  # a bordered table read as cells
    assert table.kind == "table"
    assert table.page_start == 2 and table.section_path == ("壹、計畫概述", "二、人才培育")
    for chunk in chunks:  # no table row is split between chunks
        assert not re.search(r"(?:^|\n)\d[\d,]*\s*$", chunk.text.split("\n")[0])


@pytest.mark.slow
@pytest.mark.skipif(not REPORTS.is_dir(), reason="sample reports not available")
def test_sample_reports_structure() -> None:
    from corpus import ReadingConfig

    result = read_corpus([REPORTS], ReadingConfig(prefer_pdf_twins=False))
    assert not [s for s in result.skipped if not s.path.name.endswith(".md")]
    docs = {d.file_name: d for d in result.documents}
    chunks_by_doc: dict[str, list[Chunk]] = {}
    for chunk in result.chunks:
        chunks_by_doc.setdefault(chunk.file_name, []).append(chunk)
    for name, doc in docs.items():
        if name == "README.md":
            continue
        chunks = chunks_by_doc[name]
        _assert_exact(doc, chunks)
        paths = {p for c in chunks for p in c.section_path}
        assert len(paths) > 50, name
        assert all(c.script in ("zh-Hant", "en", "mixed") for c in chunks)
        assert doc.metadata.get("year") == "2025"
        if doc.kind == "pdf":
            assert all(1 <= c.page_start <= c.page_end <= len(doc.pages) for c in chunks)  # type: ignore[operator]
            assert len(doc.pages) in (101, 170)
        else:
            assert all(1 <= c.line_start <= c.line_end <= len(doc.line_starts) for c in chunks)  # type: ignore[operator]
        if name.startswith("智慧國家"):
            assert "壹、前言" in paths and "貳、數位基盤分組推動成果【召集部會：數位發展部】" in paths
            assert doc.metadata.get("publisher") == "國家科學及技術委員會"
        else:
            assert "一、前言" in paths and "總論" in paths and "Executive Summary" in paths
            budget_table = [
                c for c in chunks if "62,066,801" in c.text and c.section_path[-1] == "(一) 科研經費"
            ]
            assert budget_table, name
        sizes = sorted(budget(c.text) for c in chunks)
        assert 200 <= sizes[len(sizes) // 2] <= 400, name
