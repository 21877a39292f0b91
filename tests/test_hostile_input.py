"""Bad input the other test files leave out: odd report files, and hostile requests to the app's API.

Each class of bad input is listed with the test that covers it in README.md, "Bad input".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ui_harness as harness  # tests/ is on sys.path, as for conftest
from conftest import FIXTURES, make_config
from gradio_client import Client

from corpus import ChunkingConfig, CorpusError, chunk_document, read_document
from qa.pipeline import Pipeline, ingest
from qa.query import MAX_QUESTION_CHARS

REPORT = FIXTURES / "corpus" / "report_hant.txt"
# C0 controls, DEL, a C1 CSI and terminal escape sequences: what a careless export or a hostile
# file can carry. None may reach the index, a terminal or an export.
CONTROLS = "\x00\x07\x08\x1b[2J\x1b]0;pwned\x07\x7f\x9b31m\x0b"


def _is_control(ch: str) -> bool:
    return (ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F


def _long_report() -> str:
    """The fixture report plus an appendix: long enough that a few controls are under 1% of it
    (a file with more is refused as binary, see test_binary_file_with_text_extension)."""
    appendix = "\n".join(f"附錄第 {i} 項：示範計畫的補充說明文字。" for i in range(1, 121))
    return REPORT.read_text(encoding="utf-8") + "\n\n附錄\n\n" + appendix + "\n"


# -- files ----------------------------------------------------------------------------------------


def test_control_characters_in_a_report_are_removed_and_lines_kept(tmp_path: Path) -> None:
    lines = _long_report().split("\n")
    lines[0] = CONTROLS + lines[0]  # the title line too
    middle = len(lines) // 2
    lines[middle] = lines[middle] + CONTROLS
    path = tmp_path / "controls.txt"
    path.write_text("\n".join(lines), encoding="utf-8")

    doc = read_document(path)
    clean = read_document(REPORT)
    assert not [ch for ch in doc.text + doc.title if _is_control(ch)]
    assert doc.title == clean.title
    assert len(doc.line_starts) == len(lines)  # line addresses still match the file on disk
    chunks = chunk_document(doc, ChunkingConfig())
    assert chunks and not [ch for c in chunks for ch in c.text + c.index_text if _is_control(ch)]


def test_control_characters_never_reach_search_results(tmp_path: Path, default_embedder) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    text = _long_report().replace("。", "。" + CONTROLS, 3)
    (reports / "controls.txt").write_text(text, encoding="utf-8")
    config = make_config(tmp_path / "idx")
    assert ingest([reports], config, progress=False).added == ["controls.txt"]
    pipe = Pipeline.open(config)
    try:
        hits = pipe.search("示範計畫", k=20)
    finally:
        pipe.close()
    assert hits
    assert not [ch for h in hits for ch in h.chunk.text + h.chunk.title if _is_control(ch)]


@pytest.mark.parametrize(
    "data",
    [
        REPORT.read_bytes()[:1000] + b"\xff" + REPORT.read_bytes()[1000:],  # one stray invalid byte
        REPORT.read_bytes() + "測".encode()[:2],  # a cut-off last character
        REPORT.read_bytes() + b"\ncaf\xe9 (Latin-1 inside UTF-8)\n",
    ],
    ids=["stray-byte", "cut-off-character", "mixed-encodings"],
)
def test_broken_utf8_is_read_faithfully_or_skipped_never_garbled(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "broken.txt"
    path.write_bytes(data)
    try:
        doc = read_document(path)
    except CorpusError as exc:  # refused: one line naming the file and the reason
        assert str(exc).startswith("broken.txt: ") and "\n" not in str(exc)
        return
    assert doc.title == read_document(REPORT).title  # read as the UTF-8 it is, not as mojibake


def test_damaged_utf8_keeps_its_text_with_a_replacement_mark(tmp_path: Path) -> None:
    original = REPORT.read_bytes()
    cut = original.index("。".encode()) + len("。".encode())
    path = tmp_path / "damaged.txt"
    path.write_bytes(original[:cut] + b"\xff" + original[cut:])
    doc = read_document(path)
    assert doc.text.count("\ufffd") == 1
    assert doc.text.replace("\ufffd", "") == read_document(REPORT).text


def test_chinese_in_another_encoding_is_not_taken_for_damaged_utf8(tmp_path: Path) -> None:
    path = tmp_path / "big5.txt"
    path.write_bytes(REPORT.read_text(encoding="utf-8").encode("cp950"))
    assert read_document(path).text == read_document(REPORT).text


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"  \n\n\t \r\n   ", "no text content"), (b"\xef\xbb\xbf", "no text content")],
    ids=["whitespace-only", "bom-only"],
)
def test_files_without_text_are_skipped_with_the_reason(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(data)
    with pytest.raises(CorpusError) as info:
        read_document(path)
    assert info.value.reason == reason


def test_one_enormous_line_is_cut_into_bounded_chunks(tmp_path: Path) -> None:
    path = tmp_path / "one-line.txt"
    path.write_text("長行報告 " + "本計畫持續推動海洋能源發展，" * 40000, encoding="utf-8")  # 560,000 chars
    doc = read_document(path)
    config = ChunkingConfig()
    chunks = chunk_document(doc, config)
    assert len(doc.line_starts) == 1
    assert chunks and max(len(c.text) for c in chunks) <= config.max_chars
    assert all(c.text == doc.text[c.char_start : c.char_end] for c in chunks)
    assert chunks[-1].char_end >= len(doc.text.rstrip()) - 1  # nothing at the end is lost


# -- requests to the app's API --------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    config = harness.build_index(tmp_path_factory.getbasetemp() / "ui-index")
    app = harness.start_app(config)
    try:
        yield Client(app.url, verbose=False, analytics_enabled=False)
    finally:
        app.close()


def _one_sentence(result: dict[str, Any]) -> str:
    assert set(result) == {"error"}, result
    message = result["error"]
    assert message and "\n" not in message and "Traceback" not in message and "internal error" not in message
    return message


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "Please type a question."),
        (" \t\n ", "Please type a question."),
        ("？？！!…", "no words or numbers"),
        ("\x00\x1b[31m\x07", "Please type a question."),
        ("<script></script><b></b>", "Please type a question."),
        (None, "must be text"),
        (42, "must be text"),
        (["路燈"], "must be text"),
    ],
    ids=["empty", "whitespace", "punctuation", "controls-only", "markup-only", "null", "number", "list"],
)
def test_ask_refuses_questions_without_content_in_one_sentence(
    client: Client, question: object, message: str
) -> None:
    assert message in _one_sentence(client.predict(question=question, api_name="/ask"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "\x1b[1m截至2023年底\x1b[0m，智慧路燈\x00共安裝了\x07多少盞？",
        "<img src=x onerror=alert(1)>截至2023年底，<b>智慧路燈</b>共安裝了多少盞？",
        "截至2023年底，智慧路燈共安裝了多少盞？" + "請詳細說明。" * 5000,
    ],
    ids=["control-characters", "markup", "huge"],
)
def test_ask_answers_the_question_inside_hostile_text(client: Client, question: str) -> None:
    result = client.predict(question=question, api_name="/ask")
    assert "error" not in result, result
    json.dumps(result)
    echoed = result["question"]
    assert len(echoed) <= MAX_QUESTION_CHARS
    assert not [ch for ch in echoed if _is_control(ch)] and "<" not in echoed
    assert "4,820" in result["text"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"k": "ten"}, "k must be a number"),
        ({"k": [5]}, "k must be a number"),
        ({"page_min": "x"}, "page limit must be a page number"),
        ({"page_min": 9, "page_max": 2}, "the first page comes after the last"),
        ({"section": 5}, "section filter must be text"),
        ({"doc_ids": 5}, "doc_ids must be a list"),
        ({"doc_ids": "harbour"}, "doc_ids must be a list"),
        ({"doc_ids": ["no-such-report"]}, "None of the chosen reports"),
        ({"mode": 3}, "Unknown search mode"),
        ({"query": None}, "must be text"),
    ],
    ids=[
        "k-text",
        "k-list",
        "page-text",
        "pages-reversed",
        "section-number",
        "doc-ids-number",
        "doc-ids-text",
        "doc-ids-unknown",
        "mode-number",
        "query-null",
    ],
)
def test_search_refuses_wrong_types_in_one_sentence(
    client: Client, arguments: dict[str, Any], message: str
) -> None:
    request = {"query": "ferry", **arguments}
    assert message in _one_sentence(client.predict(**request, api_name="/search"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "count"),
    [({"k": 0}, 10), ({"k": -5}, 1), ({"k": 10**12}, 50), ({"k": 2.7}, 2)],
    ids=["k-zero-is-default", "k-negative", "k-huge", "k-fraction"],
)
def test_search_bounds_out_of_range_k(client: Client, arguments: dict[str, Any], count: int) -> None:
    """k is held to 1..50 (0 or nothing means the default 10)."""
    available = len(client.predict(query="智慧路燈", k=50, api_name="/search")["results"])
    rows = client.predict(query="智慧路燈", **arguments, api_name="/search")["results"]
    assert len(rows) == min(count, available)


@pytest.mark.slow
def test_search_page_limits_out_of_range(client: Client) -> None:
    everything = client.predict(query="ferry", k=50, api_name="/search")["results"]
    below_one = client.predict(query="ferry", k=50, page_min=-3, page_max=0, api_name="/search")["results"]
    assert [r["chunk_id"] for r in below_one] == [r["chunk_id"] for r in everything]  # no limit
    beyond = client.predict(query="ferry", k=50, page_min=10**12, api_name="/search")["results"]
    assert beyond == []
    # After every request above, the server still answers.
    result = client.predict(question="截至2023年底，智慧路燈共安裝了多少盞？", api_name="/ask")
    assert "4,820" in result["text"]
