"""Unit tests of the app's HTML rendering and citation export (pure functions, no browser)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from corpus.types import Chunk
from index.types import Hit
from qa.types import Answer, Citation
from ui.citations import citation_record, format_citation, to_bibtex, to_csv, to_json, write_exports
from ui.forms import parse_page_range
from ui.i18n import LANGS, format_taipei, keys, normalise_lang, t
from ui.payloads import answer_payload, hits_payload
from ui.render import (
    DocumentRow,
    Turn,
    quote_span,
    render_answer,
    render_answer_text,
    render_documents,
    render_hits,
    render_page_view,
    render_transcript,
    table_csv_button,
)

MARKUP = "注意<script>alert(1)</script>與<img src=x onerror=alert(1)>標記"
PREFIX = "前言文字。"  # the chunk starts this far into the document


def make_chunk(text: str, *, ordinal: int = 0, page: int | None = 3) -> Chunk:
    start = len(PREFIX)
    return Chunk(
        chunk_id=f"doc1:{ordinal}",
        doc_id="doc1",
        ordinal=ordinal,
        file_name="report.pdf",
        title="測試報告 <b>",
        text=text,
        char_start=start,
        char_end=start + len(text),
        section_path=("壹、總體成果", "一、數位基盤"),
        page_start=page,
        page_end=page,
        line_start=None if page else 10,
        line_end=None if page else 12,
    )


def make_citation(chunk: Chunk, quote: str, *, number: int = 1, shift: int = 0) -> Citation:
    offset = chunk.text.index(quote)
    return Citation(
        number=number,
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        title=chunk.title,
        file_name=chunk.file_name,
        address=chunk.address,
        section_path=chunk.section_path,
        quote=quote,
        quote_start=chunk.char_start + offset + shift,
        quote_end=chunk.char_start + offset + len(quote) + shift,
        page_start=chunk.page_start,
        page_end=chunk.page_end,
    )


def split_terms(text: str, terms: Sequence[str]) -> list[tuple[str, bool]]:
    """A plain highlighter for the tests: exact occurrences of each term."""
    if not terms:
        return [(text, False)]
    pattern = re.compile("|".join(re.escape(t) for t in terms))
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in pattern.finditer(text):
        out.extend([(text[pos : m.start()], False), (m.group(0), True)])
        pos = m.end()
    out.append((text[pos:], False))
    return out


def test_markup_in_passages_is_escaped_everywhere() -> None:
    chunk = make_chunk(f"數位經濟規模達到9.3兆元。{MARKUP}")
    citation = make_citation(chunk, "數位經濟規模達到9.3兆元")
    answer = Answer(
        question="q", text=f"答案 {MARKUP} [1]", abstained=False, confidence=0.8, citations=[citation]
    )
    hit = Hit(chunk=chunk, score=1.0, rank=1, matched_terms=("onerror",))
    outputs = [
        render_answer(answer, {chunk.chunk_id: chunk}, turn=0),
        render_hits([hit], split_terms, {chunk.chunk_id: MARKUP}),
        render_page_view(MARKUP, MARKUP, (0, 3)),
        render_transcript([Turn(question=MARKUP, reply_html="")]),
        render_documents([DocumentRow("d", MARKUP, MARKUP, "pdf", 1, 1, "2026-01-01")]),
    ]
    for out in outputs:
        assert "<script" not in out and "<img" not in out
        assert "<b>" not in out
        assert "&lt;script&gt;" in out or "&lt;scr" in out


def test_citation_shows_full_passage_with_quote_marked() -> None:
    chunk = make_chunk("第一句。數位經濟規模達到9.3兆元。第三句。")
    citation = make_citation(chunk, "數位經濟規模達到9.3兆元")
    answer = Answer(
        question="q", text="規模為9.3兆元[1]。", abstained=False, confidence=0.9, citations=[citation]
    )
    out = render_answer(answer, {chunk.chunk_id: chunk}, turn=2)
    assert '<details class="rq-citation" id="rq-t2-c1" data-number="1">' in out
    assert "第一句。<mark>數位經濟規模達到9.3兆元</mark>。第三句。" in out
    assert '<a class="rq-cite-ref" href="#rq-t2-c1"' in out
    assert "p. 3" in out and "壹、總體成果 › 一、數位基盤" in out
    assert 'data-chunk-id="doc1:0"' in out


def test_quote_span_falls_back_to_search_when_offsets_are_stale() -> None:
    chunk = make_chunk("甲乙丙。數位經濟規模達到9.3兆元。")
    exact = make_citation(chunk, "數位經濟")
    assert quote_span(exact, chunk) == (4, 8)
    stale = make_citation(chunk, "數位經濟", shift=2)
    assert quote_span(stale, chunk) == (4, 8)
    missing = Citation(1, "doc1:0", "doc1", "t", "f", "p. 3", (), "不在文中", 0, 4)
    assert quote_span(missing, chunk) is None


def test_unknown_marker_stays_plain_text() -> None:
    out = render_answer_text("見[1]與[7]。<x>", {1: "a1"})
    assert out == '見<a class="rq-cite-ref" href="#a1" data-target="a1">[1]</a>與[7]。&lt;x&gt;'


def test_abstention_shows_message_and_related_passages() -> None:
    chunk = make_chunk("無關內容。")
    answer = Answer(
        question="q",
        text="報告中沒有提到這一點。",
        abstained=True,
        confidence=0.1,
        related=[Hit(chunk=chunk, score=0.2, rank=1)],
    )
    out = render_answer(answer, {}, turn=0)
    assert "rq-abstained" in out and "報告中沒有提到這一點。" in out
    assert "無關內容。" in out and "<mark>" not in out


def test_hits_show_scores_marked_terms_and_citation() -> None:
    chunk = make_chunk("5G網路涵蓋率已達98.15%。", page=None)
    hit = Hit(
        chunk=chunk, score=0.5, rank=1, dense_score=0.81, lexical_score=7.5, matched_terms=("5G", "涵蓋率")
    )
    out = render_hits([hit], split_terms, {chunk.chunk_id: "CITE"})
    assert "<mark>5G</mark>網路<mark>涵蓋率</mark>已達98.15%。" in out
    # Scores are rendered for the evaluator switch to show, inside an element it hides by default.
    assert '<span class="rq-scores rq-eval">score 0.500 · dense 0.810 · bm25 7.50</span>' in out
    assert "lines 10-12" in out and "CITE" in out
    assert "複製引用" in out and "在文件中檢視" in out
    assert "沒有符合的段落" in render_hits([], split_terms, {})
    assert "No passages matched" in render_hits([], split_terms, {}, "en")
    assert "没有符合的段落" in render_hits([], split_terms, {}, "zh-CN")


def test_formatted_citation_uses_known_metadata() -> None:
    hit = Hit(chunk=make_chunk("內容"), score=0.5, rank=2)
    full = citation_record(hit, {"publisher": "國家發展委員會", "year": "2024"})
    assert format_citation(full) == "國家發展委員會 (2024). 測試報告 <b>, p. 3, 壹、總體成果 › 一、數位基盤."
    bare = citation_record(hit, {})
    assert format_citation(bare) == "測試報告 <b>, p. 3, 壹、總體成果 › 一、數位基盤."


def test_exports_round_trip(tmp_path: Path) -> None:
    chunk = make_chunk("=SUM(A1) 內容, 含逗號\n與換行")
    records = [
        citation_record(Hit(chunk=chunk, score=0.5, rank=1, matched_terms=("內容",)), {"year": "2024"}),
        citation_record(Hit(chunk=make_chunk("其他", ordinal=1), score=0.25, rank=2), {}),
    ]
    rows = list(csv.DictReader(io.StringIO(to_csv(records))))
    assert [r["rank"] for r in rows] == ["1", "2"]
    assert rows[0]["text"] == "'=SUM(A1) 內容, 含逗號\n與換行"  # formula neutralised, text intact
    assert rows[0]["citation"] == "測試報告 <b> (2024), p. 3, 壹、總體成果 › 一、數位基盤."
    assert rows[0]["matched_terms"] == "內容"

    data = json.loads(to_json(records, "查詢"))
    assert data["query"] == "查詢" and data["results"][1]["chunk_id"] == "doc1:1"

    bib = to_bibtex(records)
    assert bib.count("@techreport") == 1  # the second report has neither publisher nor year
    assert "year = {2024}" in bib and "pages = {3}" in bib

    files = write_exports(records, tmp_path / "out", "查詢")
    assert files.csv.read_bytes().startswith(b"\xef\xbb\xbf")
    assert files.bibtex is not None and files.bibtex.exists()
    assert write_exports(records[1:], tmp_path / "none").bibtex is None


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_a_spreadsheet_would_run_are_kept_as_text(lead: str) -> None:
    text = f'{lead}HYPERLINK("http://x.test") 內容'
    chunk = replace(make_chunk(text), title=f"{lead}1+1 報告")
    hit = Hit(chunk=chunk, score=-0.25, rank=1, matched_terms=(f"{lead}cmd", "內容"))
    row = next(csv.DictReader(io.StringIO(to_csv([citation_record(hit, {"publisher": f"{lead}A1"})]))))
    assert row["text"] == "'" + text
    assert row["title"] == f"'{lead}1+1 報告"
    if lead.strip():  # the publisher is stripped of surrounding white space
        assert row["publisher"] == f"'{lead}A1"
    assert row["matched_terms"] == f"'{lead}cmd; 內容"
    assert row["score"] == "-0.25"  # a number is never a formula and stays a number


def test_api_payloads_are_json_serialisable() -> None:
    chunk = make_chunk("數位經濟規模達到9.3兆元。")
    citation = make_citation(chunk, "9.3兆元")
    hit = Hit(chunk=chunk, score=0.7, rank=1, matched_terms=("數位",))
    answer = Answer(
        question="q", text="9.3兆元[1]", abstained=False, confidence=0.7, citations=[citation], related=[hit]
    )
    payload = answer_payload(answer, lambda _doc: {"publisher": "P"})
    decoded = json.loads(json.dumps(payload, ensure_ascii=False))
    assert decoded["citations"][0]["quote"] == "9.3兆元"
    assert decoded["citations"][0]["section_path"] == ["壹、總體成果", "一、數位基盤"]
    assert decoded["related"][0]["citation"].startswith("P. 測試報告")
    assert json.loads(json.dumps(hits_payload([hit], lambda _doc: {})))[0]["rank"] == 1


def test_figure_line_is_shown_first_with_its_marker() -> None:
    chunk = make_chunk("截至2023年底，共完成安裝4,820盞。")
    citation = make_citation(chunk, "截至2023年底，共完成安裝4,820盞。")
    answer = Answer(
        question="q",
        text="4,820 [1]\n截至2023年底，共完成安裝4,820盞。 [1]",
        abstained=False,
        confidence=0.9,
        citations=[citation],
        figure="4,820",
    )
    out = render_answer(answer, {chunk.chunk_id: chunk}, turn=0)
    assert '<div class="rq-figure">4,820 <a class="rq-cite-ref" href="#rq-t0-c1"' in out
    assert '<p class="rq-text">截至2023年底' in out


def test_page_range_parsing() -> None:
    assert parse_page_range("") == (None, None)
    assert parse_page_range(" 5 ") == (5, 5)
    assert parse_page_range("3-10") == (3, 10)
    assert parse_page_range("3至10") == (3, 10)
    assert parse_page_range("-10") == (None, 10)
    assert parse_page_range("3-") == (3, None)
    for bad in ("x", "10-3", "1,2"):
        with pytest.raises(ValueError, match="Pages"):
            parse_page_range(bad)


# ---- interface language, evaluator details, table download ----


def test_every_message_exists_in_every_language_with_the_same_placeholders() -> None:
    field = re.compile(r"\{(\w+)\}")
    for key in keys():
        wanted = set(field.findall(t(key, "zh-TW")))
        for lang in LANGS:
            text = t(key, lang)
            assert text.strip(), (key, lang)
            assert set(field.findall(text)) == wanted, (key, lang)
    assert t("tab.search", "zh-CN") == "检索" and t("tab.search", "en") == "Search"


def test_language_codes_from_selector_and_address() -> None:
    assert normalise_lang(None) == "zh-TW"
    assert normalise_lang("en-US") == "en"
    assert normalise_lang("zh_CN") == "zh-CN" and normalise_lang("zh-Hans") == "zh-CN"
    assert normalise_lang("zh-Hant-TW") == "zh-TW" and normalise_lang("fr") == "zh-TW"


def test_indexing_time_is_shown_in_taipei_time() -> None:
    assert format_taipei("2026-12-02T17:30:00+00:00") == "2026-12-03 01:30"
    assert format_taipei("2026-12-02T17:30:00") == "2026-12-03 01:30"  # the index writes UTC
    assert format_taipei(0) == "1970-01-01 08:00"
    assert format_taipei("not a time") == "not a time"


def test_documents_table_speaks_the_chosen_language() -> None:
    row = DocumentRow("d", "報告", "r.pdf", "pdf", 3, 9, "2026-01-01 08:00")
    assert '<th scope="col">收錄時間（臺北）</th>' in render_documents([row])
    assert '<th scope="col">Indexed (Taipei time)</th>' in render_documents([row], "en")
    assert "索引中尚無文件" in render_documents([])


def test_answer_shows_staff_wording_and_keeps_scores_for_evaluators() -> None:
    chunk = make_chunk("數位經濟規模達到9.3兆元。")
    citation = make_citation(chunk, "數位經濟規模達到9.3兆元")
    answer = Answer(
        question="q", text="9.3兆元[1]", abstained=False, confidence=0.87, citations=[citation], mode="hybrid"
    )
    out = render_answer(answer, {chunk.chunk_id: chunk}, turn=0)
    assert '<span class="rq-support">引文已逐字核對 · 1 處出處</span>' in out
    evaluator = re.search(r'<span class="rq-eval">([^<]*)</span>', out)
    assert evaluator is not None and "87%" in evaluator.group(1) and "hybrid" in evaluator.group(1)
    assert "87%" not in out.replace(evaluator.group(0), "")
    english = render_answer(answer, {chunk.chunk_id: chunk}, turn=0, lang="en")
    assert "Sources" in english and "Show in document" in english and "出處</div>" not in english


def test_table_chunk_gets_a_csv_download_button_prose_does_not() -> None:
    text = '表 1 各區安裝數\n行政區\t2023年\n北港區\t1,200\n=HYPERLINK("x")\t5'
    chunk = replace(make_chunk(text), kind="table")
    button = table_csv_button(chunk)
    assert button.startswith('<button type="button" class="rq-table-csv" data-name="表_1_各區安裝數.csv"')
    assert "下載表格 CSV" in button and "Download table (CSV)" in table_csv_button(chunk, "en")
    payload = re.search(r'data-csv="([^"]*)"', button)
    assert payload is not None
    # The row ends survive HTML parsing as character references; the formula cell is neutralised.
    decoded = html.unescape(payload.group(1))
    rows = list(csv.reader(io.StringIO(decoded)))
    assert rows[:3] == [["表 1 各區安裝數"], ["行政區", "2023年"], ["北港區", "1,200"]]
    assert rows[3][0] == '\'=HYPERLINK("x")'
    assert "\r" not in payload.group(1) and "&#13;" in payload.group(1)
    assert table_csv_button(make_chunk("數位經濟規模達到9.3兆元。")) == ""


def test_long_question_is_clipped_with_an_expander() -> None:
    short = render_transcript([Turn(question="短問題？", reply_html="")])
    assert "rq-q-long" not in short and "短問題？" in short
    long = "請問" + "很長的背景說明" * 100 + "<b>"
    out = render_transcript([Turn(question=long, reply_html="")])
    assert '<details class="rq-q-long">' in out and f"顯示全文（{len(long):,} 字）" in out
    head = re.search(r'<span class="rq-q-head">([^<]*)</span>', out)
    assert head is not None and len(head.group(1)) <= 281
    assert esc_text(long) in out  # the whole question is still there, escaped


def esc_text(text: str) -> str:
    return html.escape(text, quote=True)
