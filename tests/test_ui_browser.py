"""Browser tests of the web app: headless Chromium (Playwright) against the app served on loopback.

The index is built from tests/fixtures/ui (a zh-Hant text report with a table and a passage that
quotes HTML markup, and an English report rendered to PDF by the harness).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pdfplumber
import pytest
import ui_harness as harness  # tests/ is on sys.path, as for conftest
from docx import Document
from fpdf import FPDF

from ui.app import UISettings
from ui.feedback import FeedbackStore

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "build" / "screenshots"
# Screenshots the README shows: small element shots, committed with the code that draws them.
DOCS_SHOTS = REPO / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
TIMEOUT_MS = 60_000  # answering on 2 shared CPU cores can take a few seconds

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # reported (skip, or failure under CI) by the fixture below
    pass
else:
    expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module", autouse=True)
def browser_available() -> None:
    """Runs before the other fixtures, so a missing browser is reported before the index is built."""
    harness.require_browser()


@dataclass
class Session:
    """A browser page on the app plus what the page did that a test must not allow."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    # Its own copy of the index: the upload test adds a report to it.
    config = harness.build_index(tmp_path_factory.getbasetemp() / "ui-index-browser")
    app = harness.start_app(config, settings=UISettings(allow_upload=True, max_upload_mb=1.0))
    yield app
    app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        executable = str(harness.CHROMIUM)
        chromium = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def session(browser: Browser, running: object) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    s = Session(page)
    page.on("dialog", lambda d: (s.dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda exc: s.errors.append(str(exc)))
    page.goto(running.url)  # type: ignore[attr-defined]
    expect(page.locator("#rq-question textarea")).to_be_visible()
    yield s
    context.close()
    assert s.dialogs == [], f"a dialog fired: {s.dialogs}"
    assert s.errors == [], f"page errors: {s.errors}"


def ask(page: Page, question: str) -> None:
    answers = page.locator("#rq-transcript .rq-answer")
    before = answers.count()
    page.fill("#rq-question textarea", question)
    page.click("#rq-ask")
    expect(answers).to_have_count(before + 1)


def search(page: Page, query: str, report: str | None = None) -> None:
    page.get_by_role("tab", name="檢索").click()
    if report is not None:
        page.locator("#rq-search-docs input").click()
        page.get_by_role("option", name=report).click()
        page.keyboard.press("Escape")
    page.fill("#rq-query textarea", query)
    page.click("#rq-search")
    expect(page.locator("#rq-results .rq-hit").first).to_be_visible()


def test_chat_answers_with_citation_and_highlighted_passage(session: Session) -> None:
    page = session.page
    ask(page, "截至2023年底，智慧路燈共安裝了多少盞？")
    answer = page.locator("#rq-transcript .rq-answer").last
    expect(answer).not_to_have_class("rq-answer rq-abstained")
    expect(answer.locator(".rq-text")).to_contain_text("4,820")

    answer.locator("a.rq-cite-ref").first.click()
    opened = answer.locator("details.rq-citation[open]")
    expect(opened).to_have_count(1)
    mark = opened.locator(".rq-passage mark")
    expect(mark).to_be_visible()
    quote = mark.inner_text()
    assert quote and quote in opened.locator(".rq-passage").inner_text()
    assert "4,820" in opened.locator(".rq-passage").inner_text()
    expect(opened.locator("summary")).to_contain_text("海港市智慧路燈試辦計畫成果報告")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "chat.png"), full_page=True)

    # A text report has no pages: the document view shows the cited lines with some context.
    opened.locator("button.rq-view-page").click()
    view = page.locator("#rq-page-view .rq-page")
    expect(view.locator(".rq-page-head")).to_contain_text("line")
    expect(view.locator("mark")).to_contain_text("4,820")
    assert len(view.locator(".rq-page-text").inner_text()) > len(view.locator("mark").inner_text())


def test_follow_up_uses_the_conversation_and_new_conversation_clears_it(session: Session) -> None:
    page = session.page
    ask(page, "2023 年智慧路燈安裝了多少盞？")
    ask(page, "那 2024 年呢？")  # on its own this question finds only table rows, no total
    expect(page.locator("#rq-transcript .rq-answer").last.locator(".rq-figure")).to_contain_text("7,350")
    page.click("#rq-new")
    expect(page.locator("#rq-transcript .rq-answer")).to_have_count(0)
    expect(page.locator("#rq-transcript .rq-empty")).to_be_visible()


def test_citation_opens_the_real_page_with_the_quote_boxed(session: Session, running: object) -> None:
    page = session.page
    ask(page, "How much does converting one ferry cost?")
    answer = page.locator("#rq-transcript .rq-answer").last
    expect(answer.locator(".rq-text")).to_contain_text("4.2 million")

    # Hovering a marker previews the report, page and quote.
    marker = answer.locator("a.rq-cite-ref").first
    preview = marker.locator(".rq-preview")
    expect(preview).to_be_hidden()
    marker.hover()
    expect(preview).to_be_visible()
    expect(preview).to_contain_text(harness.EN_TITLE)
    expect(preview).to_contain_text("p. ")
    expect(preview).to_contain_text("4.2 million")
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    answer.screenshot(path=str(DOCS_SHOTS / "citation-preview.png"))

    citation = answer.locator("details.rq-citation").first
    citation.locator("summary").click()
    citation.locator("button.rq-view-page").click()
    view = page.locator("#rq-page-view .rq-page")
    image = view.locator("img.rq-page-img")
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('#rq-page-view img.rq-page-img').complete")
    boxes = view.locator(".rq-hl")
    expect(boxes.first).to_be_visible()
    number = int(page.locator("#rq-page-no input").input_value())
    expect(view.locator(".rq-page-head")).to_contain_text(f"第 {number} 頁")

    # The box sits on the quoted words, as an independent reader (pdfplumber) places them.
    docs = running.pipeline.documents()  # type: ignore[attr-defined]
    pdf = Path(next(d.path for d in docs if d.title == harness.EN_TITLE))
    with pdfplumber.open(pdf) as doc:
        sheet = doc.pages[number - 1]
        word = next(w for w in sheet.extract_words() if w["text"] == "4.2")
        fx = (word["x0"] + word["x1"]) / 2 / sheet.width
        fy = (word["top"] + word["bottom"]) / 2 / sheet.height
        other = next(w for w in sheet.extract_words() if w["text"] == "remaining")
        oy = (other["top"] + other["bottom"]) / 2 / sheet.height
    img = image.bounding_box()
    assert img is not None
    x, y, oy_px = img["x"] + fx * img["width"], img["y"] + fy * img["height"], img["y"] + oy * img["height"]
    rects = [b for b in (box.bounding_box() for box in boxes.all()) if b]
    inside = [r for r in rects if r["x"] <= x <= r["x"] + r["width"] and r["y"] <= y <= r["y"] + r["height"]]
    assert inside, rects
    # The next sentence is not marked: the box is the quoted sentence, not the passage.
    assert not any(r["y"] <= oy_px <= r["y"] + r["height"] for r in rects)
    # ... and it was scrolled into the page viewer's visible area.
    scroller = view.locator(".rq-page-scroll").bounding_box()
    assert scroller is not None and scroller["y"] <= rects[0]["y"] <= scroller["y"] + scroller["height"]
    view.screenshot(path=str(DOCS_SHOTS / "page-highlight.png"))

    # Previous / next page, and a page the report does not have.
    assert number > 1, "the cited page should not be the first"
    page.click("#rq-prev")
    expect(view.locator(".rq-page-head")).to_contain_text(f"第 {number - 1} 頁")
    expect(page.locator("#rq-page-no input")).to_have_value(str(number - 1))
    page.click("#rq-next")
    expect(view.locator(".rq-page-head")).to_contain_text(f"第 {number} 頁")
    page.fill("#rq-page-no input", "999")
    page.click("#rq-show")
    expect(page.locator("#rq-page-view .rq-notice")).to_contain_text("沒有第 999 頁")
    expect(page.locator("#rq-docs")).to_contain_text(harness.EN_TITLE)


def test_search_with_document_filter_and_csv_export(session: Session) -> None:
    page = session.page
    search(page, "2024", report=harness.EN_TITLE)
    sources = page.locator("#rq-results .rq-hit .rq-src").all_inner_texts()
    assert sources and all(s.startswith(harness.EN_TITLE) for s in sources), sources
    expect(page.locator("#rq-results mark").first).to_have_text("2024")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "search-filtered.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#rq-csv")
    path = download.value.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    assert len(rows) == len(sources)
    assert [r["rank"] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    assert {r["title"] for r in rows} == {harness.EN_TITLE}
    assert all(r["address"].startswith("p. ") and r["citation"].startswith(harness.EN_TITLE) for r in rows)
    assert any("2024" in r["text"] for r in rows)


def test_report_markup_is_shown_as_text(session: Session, running: object) -> None:
    pipeline = running.pipeline  # type: ignore[attr-defined]
    zh = next(d for d in pipeline.documents() if d.file_name == harness.ZH_REPORT.name)
    assert "<script>alert(1)</script>" in pipeline.document_text(zh.doc_id), "fixture markup not in the index"

    page = session.page
    search(page, "市民意見平台 留言 程式碼")
    results = page.locator("#rq-results")
    expect(results).to_contain_text("<script>alert(1)</script>")
    expect(results).to_contain_text("<img src=x onerror=alert(1)>")
    assert results.locator("script").count() == 0
    assert results.locator("img").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "search.png"), full_page=True)

    page.get_by_role("tab", name="問答").click()
    ask(page, "市民意見平台收到什麼樣的留言？")
    transcript = page.locator("#rq-transcript")
    for details in transcript.locator("details").all():
        details.locator("summary").click()
    expect(transcript).to_contain_text("<script>alert(1)</script>")
    assert transcript.locator("script").count() == 0
    assert transcript.locator("img").count() == 0
    page.wait_for_timeout(300)  # an injected handler would have fired by now; the fixture asserts none did


def test_empty_question_gets_a_friendly_message(session: Session) -> None:
    page = session.page
    page.click("#rq-ask")
    expect(page.locator("#rq-chat-status")).to_contain_text("請先輸入問題")
    page.fill("#rq-question textarea", "？？？")
    page.click("#rq-ask")
    status = page.locator("#rq-chat-status .rq-notice")
    expect(status).to_be_visible()
    assert "Traceback" not in status.inner_text()
    expect(page.locator("#rq-transcript .rq-answer")).to_have_count(0)


def test_table_answer_and_table_search_result_download_as_csv(session: Session) -> None:
    page = session.page
    ask(page, "南灣區2024年累計數是多少？")
    answer = page.locator("#rq-transcript .rq-answer").last
    expect(answer.locator(".rq-figure, .rq-text").first).to_contain_text("1,540")
    citation = answer.locator("details.rq-citation").first
    citation.locator("summary").click()
    table = citation.locator("table.rq-table")
    expect(table).to_be_visible()
    expect(table.locator("tr.rq-row-cited th")).to_have_text("南灣區")
    expect(table.locator("td.rq-cell-answer")).to_have_text("1,540")
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    answer.screenshot(path=str(DOCS_SHOTS / "table-answer.png"))
    rows = _download_csv(page, citation.locator("button.rq-table-csv"))
    assert ["南灣區", "980", "1,540", "85%"] in rows
    assert rows[-1][0].startswith("Source 出處: 海港市智慧路燈試辦計畫成果報告.txt")

    search(page, "各區建置統計 安裝數 完成率")
    hit = page.locator("#rq-results .rq-hit").filter(has=page.locator("table.rq-table")).first
    expect(hit.locator("table.rq-table th", has_text="北港區")).to_be_visible()
    hit.scroll_into_view_if_needed()
    hit.screenshot(path=str(DOCS_SHOTS / "table-search.png"))
    rows = _download_csv(page, hit.locator("button.rq-table-csv"))
    assert ["行政區", "2023年安裝數", "2024年累計數", "完成率"] in rows
    assert ["東岸區", "2,640", "3,960", "88%"] in rows
    # Prose passages have no table to download.
    downloads = page.locator("#rq-results button.rq-table-csv").count()
    assert page.locator("#rq-results .rq-hit").count() > downloads


def _download_csv(page: Page, button: object) -> list[list[str]]:
    with page.expect_download() as download:
        button.click()  # type: ignore[attr-defined]
    assert download.value.suggested_filename.endswith(".csv")
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "no BOM: spreadsheets would misread the Chinese text"
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text  # RFC 4180 row ends survive the trip through the page
    return list(csv.reader(io.StringIO(text)))


def test_interface_speaks_traditional_chinese_and_switches_language(
    session: Session, running: object
) -> None:
    page = session.page
    assert page.evaluate("document.documentElement.lang") == "zh-TW"
    for name in ("問答", "檢索", "文件"):
        expect(page.get_by_role("tab", name=name)).to_be_visible()
    expect(page.locator("#rq-ask")).to_have_text("提問")
    page.get_by_role("tab", name="文件").click()
    expect(page.locator("#rq-docs th").last).to_have_text("收錄時間（臺北）")

    # Scores and retrieval modes stay out of the staff's way until the evaluator switch is on.
    search(page, "智慧路燈")
    scores = page.locator("#rq-results .rq-scores").first
    expect(scores).to_be_hidden()
    expect(page.locator("#rq-mode")).to_be_hidden()
    page.locator("#rq-evaluator input").check()
    expect(scores).to_be_visible()
    expect(scores).to_contain_text("bm25")
    expect(page.locator("#rq-mode")).to_be_visible()
    page.locator("#rq-evaluator input").uncheck()
    expect(scores).to_be_hidden()

    page.locator("#rq-lang").get_by_text("English").click()
    expect(page.get_by_role("tab", name="Search")).to_be_visible()
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#rq-docs th").last).to_have_text("Indexed (Taipei time)")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "lang=en" in page.url
    page.locator("#rq-lang").get_by_text("简体中文").click()
    expect(page.get_by_role("tab", name="检索")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"

    # A link with ?lang=en opens in English.
    page.goto(running.url + "?lang=en")  # type: ignore[attr-defined]
    expect(page.locator("#rq-ask")).to_have_text("Ask")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.click("#rq-ask")
    expect(page.locator("#rq-chat-status")).to_contain_text("Please type a question first")
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(running.url)  # type: ignore[attr-defined]
    expect(page.locator("#rq-ask")).to_have_text("提問")
    page.wait_for_timeout(1500)  # let the page-load events finish fading in before the screenshot
    page.screenshot(path=str(DOCS_SHOTS / "app-zh-tw.png"))


def test_answer_copied_rated_and_conversation_exported(session: Session, running: object) -> None:
    page = session.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    ask(page, "截至2023年底，智慧路燈共安裝了多少盞？")
    ask(page, "How much does converting one ferry cost?")
    first = page.locator("#rq-transcript .rq-a").nth(0)

    first.locator("button.rq-copy-answer").click()
    expect(first.locator("button.rq-copy-answer")).to_have_text("已複製 ✓")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "4,820" in copied and "出處：\n[1] 海港市智慧路燈試辦計畫成果報告" in copied

    # 👎 with a comment: stored beside the index with question, answer, citations and generation.
    first.locator(".rq-fb-comment").fill("應附上各區數字")
    first.locator("button.rq-fb[data-rating='down']").click()
    expect(page.locator("#rq-chat-status")).to_contain_text("已記錄您的回饋")
    expect(first.locator("button.rq-fb.rq-chosen")).to_have_attribute("data-rating", "down")
    pipeline = running.pipeline  # type: ignore[attr-defined]
    store = FeedbackStore(pipeline.config.index_dir)
    stored = [f for f in store.all() if f.comment == "應附上各區數字"]
    assert len(stored) == 1 and stored[0].rating == "down"
    assert stored[0].question == "截至2023年底，智慧路燈共安裝了多少盞？" and "4,820" in stored[0].answer
    assert stored[0].citations and stored[0].citations[0].title == "海港市智慧路燈試辦計畫成果報告"
    assert stored[0].generation and stored[0].generation == str(pipeline.generation)
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    first.screenshot(path=str(DOCS_SHOTS / "answer-actions.png"))

    with page.expect_download() as download:
        page.click("#rq-export-md")
    md = Path(download.value.path()).read_text(encoding="utf-8")
    assert md.index("截至2023年底") < md.index("How much does converting one ferry cost?")
    assert "4.2 million" in md and "\\[1\\] Harbour Ferry Electrification Review" in md
    with page.expect_download() as download:
        page.click("#rq-export-docx")
    assert download.value.suggested_filename.endswith(".docx")
    doc = Document(download.value.path())  # python-docx opens what the app wrote
    texts = [p.text for p in doc.paragraphs]
    assert "1. 截至2023年底，智慧路燈共安裝了多少盞？" in texts
    assert any(t.startswith("[1] Harbour Ferry Electrification Review, p. ") for t in texts)


def test_long_question_is_refused_with_the_limit_and_a_long_one_is_clipped(session: Session) -> None:
    page = session.page
    page.fill("#rq-question textarea", "智慧路燈" * 1250)  # 5,000 characters
    page.click("#rq-ask")
    expect(page.locator("#rq-chat-status")).to_contain_text("最多 2,000 字，您輸入了 5,000 字")
    expect(page.locator("#rq-transcript .rq-answer")).to_have_count(0)
    assert len(page.locator("#rq-question textarea").input_value()) == 5000  # kept, to be shortened

    question = "以下是背景說明。" * 60 + "截至2023年底，智慧路燈共安裝了多少盞？"
    ask(page, question)
    bubble = page.locator("#rq-transcript .rq-q .rq-bubble").last
    expect(bubble.locator(".rq-q-full")).to_be_hidden()
    box = bubble.bounding_box()
    assert box is not None and box["height"] < 260, box  # the answer stays on screen
    bubble.locator(".rq-more").click()
    expect(bubble.locator(".rq-q-full")).to_be_visible()
    expect(bubble.locator(".rq-q-full")).to_contain_text("共安裝了多少盞？")


def test_phone_width_documents_reachable_and_tables_scroll_sideways(
    browser: Browser, running: object
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(running.url)  # type: ignore[attr-defined]
        expect(page.locator("#rq-question textarea")).to_be_visible()
        ask(page, "南灣區2024年累計數是多少？")
        answer = page.locator("#rq-transcript .rq-answer").last
        answer.locator("details.rq-citation summary").first.tap()
        expect(answer.locator("table.rq-table")).to_be_visible()
        cells = answer.locator("table.rq-table td, table.rq-table th")
        heights = cells.evaluate_all("cells => cells.map(c => c.getBoundingClientRect().height)")
        assert max(heights) < 60, heights  # 「行政區」 on one line, not one character per line
        switch = page.locator("#rq-evaluator").bounding_box()
        assert switch is not None and switch["height"] < 110, switch
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_SHOTS / "phone-chat.png"))

        page.get_by_role("tab", name="文件").tap()
        table = page.locator("#rq-docs table.rq-docs")
        expect(table).to_be_visible()
        # No cell is squeezed into a column of single characters: each stays one or two lines high.
        heights = table.locator("td, th").evaluate_all(
            "cells => cells.map(c => c.getBoundingClientRect().height)"
        )
        assert max(heights) < 80, heights
        # The table scrolls inside its box; the page itself does not get wider than the phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 391
        page.screenshot(path=str(DOCS_SHOTS / "phone-documents.png"))
    finally:
        context.close()
    assert errors == []


def _lighthouse_pdf() -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title("Lighthouse Lamp Review")
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 7, "Lighthouse Lamp Review", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        0,
        7,
        "In 2025 the port authority installed 37 LED lamps at the north pier lighthouse.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def test_upload_a_pdf_then_ask_about_it_and_bad_files_are_refused(session: Session, running: object) -> None:
    page = session.page
    page.get_by_role("tab", name="文件").click()
    chooser = page.locator("#rq-upload input[type=file]")
    status = page.locator("#rq-upload-status")

    # Refused: content that is not what the name says, and a file over the size cap.
    chooser.set_input_files(
        [
            {"name": "fake.pdf", "mimeType": "application/pdf", "buffer": b"\x89PNG\r\n\x1a\n" + b"0" * 64},
            {"name": "big.txt", "mimeType": "text/plain", "buffer": "報告".encode() * 300_000},
            {"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ" + b"0" * 64},
        ]
    )
    page.click("#rq-upload-add")
    expect(status).to_contain_text("拒絕 fake.pdf：檔案內容與副檔名不符")
    expect(status).to_contain_text("拒絕 big.txt：檔案 1.8 MB，超過上限 1 MB")
    expect(status).to_contain_text("拒絕 tool.exe：只接受 PDF、TXT 或 MD 檔")
    index_dir = running.pipeline.config.index_dir  # type: ignore[attr-defined]
    assert not any((index_dir / "uploads").glob("*")) if (index_dir / "uploads").exists() else True
    assert not page.locator("#rq-docs").inner_text().count("fake")

    # A file that passes the checks but cannot be read: reported, its copy removed, the index unchanged.
    generation = running.pipeline.generation  # type: ignore[attr-defined]
    broken = {"name": "broken.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"garbage " * 50}
    page.locator("#rq-upload input[type=file]").set_input_files([broken])
    page.click("#rq-upload-add")
    expect(status.locator(".rq-warn, .rq-error").filter(has_text="broken.pdf")).to_have_count(
        1, timeout=180_000
    )
    assert not (index_dir / "uploads" / "broken.pdf").exists()
    assert running.pipeline.generation == generation  # type: ignore[attr-defined]
    assert "broken" not in page.locator("#rq-docs").inner_text()
    chooser = page.locator("#rq-upload input[type=file]")
    chooser.set_input_files(
        [{"name": "lighthouse.pdf", "mimeType": "application/pdf", "buffer": _lighthouse_pdf()}]
    )
    page.click("#rq-upload-add")
    expect(status).to_contain_text("已加入：lighthouse.pdf", timeout=180_000)
    expect(page.locator("#rq-docs")).to_contain_text("lighthouse.pdf")
    assert (index_dir / "uploads" / "lighthouse.pdf").is_file()
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SHOTS / "upload.png"))

    # A name that carries a path never puts a file outside the index's uploads folder: whatever
    # the browser and server leave of the name, the report lands there under a plain name or not at all.
    escape = b"# Harbour Escape Drill\n\nThe drill was held 4 times.\n"
    chooser.set_input_files([{"name": "../../escape.md", "mimeType": "text/markdown", "buffer": escape}])
    page.click("#rq-upload-add")
    expect(status).to_contain_text("escape.md", timeout=180_000)
    landed = [p for p in index_dir.parent.parent.rglob("*escape*") if p.is_file()]
    assert all(p.parent == index_dir / "uploads" and "/" not in p.name for p in landed), landed

    # Asked in the same running app, without a restart.
    page.get_by_role("tab", name="問答").click()
    ask(page, "How many LED lamps were installed at the north pier lighthouse?")
    answer = page.locator("#rq-transcript .rq-answer").last
    expect(answer).to_contain_text("37")
    expect(answer.locator("details.rq-citation summary").first).to_contain_text("Lighthouse Lamp Review")
