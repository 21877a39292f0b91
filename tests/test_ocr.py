"""Scanned reports: image-only PDFs built here are read by OCR, marked as OCR, and searchable."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import pytest
from ci_guard import skip_or_fail
from conftest import FIXTURES, REPO, load_script, make_config

from corpus.chunking import chunk_document
from corpus.reading import ReadingConfig, read_document
from corpus.types import CorpusError

pdfgen = load_script(FIXTURES / "corpus" / "pdfgen.py", "corpus_pdfgen")
bench_ocr = load_script(REPO / "bench" / "bench_ocr.py", "bench_ocr")

PARA = (
    "本年度研究計畫聚焦於資料治理與開放創新，透過跨機關合作建立共用資料平臺。"
    "平臺上線後累計服務超過一萬兩千人次，使用者滿意度達到百分之九十一。"
)
ROWS = [("國家", "2023 年", "2024 年"), ("臺灣", "10,000", "12,000"), ("日本", "11,111", "12,997")]


def _engine() -> None:
    from corpus import ocr

    if pdfgen.fonts_missing():
        pytest.skip("fixture CJK fonts missing (scripts/setup.sh test installs them)")
    if ocr.engine() is None:
        skip_or_fail("Tesseract with chi_tra, chi_sim and eng is not installed (scripts/setup.sh test)")


def _one_page() -> bytes:
    """One page of prose and a table, in the fixture font, as a text PDF."""
    items = [
        pdfgen.Item("heading", "壹、計畫概述", 0),
        pdfgen.Item("para", PARA),
        pdfgen.Item("para", "表 1 各國研究人力 (單位：人)"),
        pdfgen.Item("table", rows=ROWS),
    ]
    return pdfgen.build_pdf(items)


def _join(*parts: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in parts:
        writer.append(PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _blank_scan() -> bytes:
    """An image-only page with nothing on it to read (a white sheet through a scanner)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (1654, 2339), 255).save(out, "PDF", resolution=200.0)
    return out.getvalue()


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a scanned report (text PDF + a scanned page + a blank scanned page)."""
    _engine()
    folder = tmp_path_factory.mktemp("scans")
    text = _one_page()
    (folder / "mixed.pdf").write_bytes(_join(text, bench_ocr.scan_pdf(text), _blank_scan()))
    return folder


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ocr-cache")  # shared, so each scanned page is OCR'd once


@pytest.fixture(scope="module")
def mixed(scans: Path, cache: Path):
    return read_document(scans / "mixed.pdf", ReadingConfig(cache_dir=cache))


def test_scanned_page_is_read_and_marked(mixed) -> None:
    assert [p.ocr for p in mixed.pages] == [False, True, False]  # the text page keeps its own text
    page2 = mixed.text[mixed.pages[1].char_start : mixed.pages[1].char_end]
    # Chinese prose read back (OCR may differ in a character or two: the key phrases must be there)
    assert "資料治理與開放創新" in page2 and "一萬兩千人次" in page2, page2
    assert "12,000" in page2  # and the table row
    chunks = chunk_document(mixed)
    scanned = [c for c in chunks if c.page_start == 2]
    assert scanned and all(c.ocr and c.address == "p. 2 (OCR)" for c in scanned)
    assert all(not c.ocr and "(OCR)" not in c.address for c in chunks if c.page_end == 1)


def test_unreadable_page_is_reported_and_the_rest_kept(mixed) -> None:
    notes = "; ".join(mixed.notes)
    assert "page 3 could not be read by OCR" in notes, notes
    assert "OCR read 1 page, mean confidence" in notes
    assert mixed.pages[2].char_start == mixed.pages[2].char_end  # no invented text
    assert "使用者滿意度達到百分之九十一" in mixed.text  # page 1, from its text layer


def test_ocr_never_keeps_the_old_message(tmp_path: Path) -> None:
    _engine()
    path = tmp_path / "scan.pdf"
    path.write_bytes(bench_ocr.scan_pdf(_one_page()))
    with pytest.raises(CorpusError) as info:
        read_document(path, ReadingConfig(cache_dir=None, ocr="never"))
    assert info.value.reason == "no extractable text; needs OCR"


def test_without_an_engine_the_old_message_stays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from corpus import ocr

    _engine()
    monkeypatch.setattr(ocr, "engine", lambda languages=ocr.DEFAULT_LANGUAGES: None)
    path = tmp_path / "scan.pdf"
    path.write_bytes(bench_ocr.scan_pdf(_one_page()))
    with pytest.raises(CorpusError) as info:
        read_document(path, ReadingConfig(cache_dir=None))
    assert info.value.reason == "no extractable text; needs OCR"


def test_ocr_mode_is_checked_in_the_config() -> None:
    from qa.config import Config
    from qa.errors import QAError

    assert Config().updated({"reading.ocr": "Always"}).reading.ocr == "always"
    with pytest.raises(QAError, match="allowed: auto, always, never"):
        Config().updated({"reading.ocr": "sometimes"})


def test_citation_marks_ocr_in_each_language(mixed) -> None:
    from qa.answer import _where
    from qa.citations import build_citation

    chunk = next(c for c in chunk_document(mixed) if c.page_start == 2)
    citation = build_citation(1, chunk, chunk.text[:8])
    assert citation is not None and citation.address == "p. 2 (OCR)"
    assert _where(citation, chunk, "zh-Hant") == "第 2 頁（OCR）"
    assert _where(citation, chunk, "zh-Hans") == "第 2 页（OCR）"
    assert _where(citation, chunk, "en") == "p. 2 (OCR)"


@pytest.mark.slow
def test_ingested_scan_is_searchable_with_the_mark(
    scans: Path, cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from qa import cli
    from qa.pipeline import Pipeline, ingest

    config = make_config(tmp_path / "idx", **{"reading.cache_dir": cache})
    report = ingest([scans], config, progress=False)
    summary = str(report)
    assert "mixed.pdf" in summary and "OCR read 1 page" in summary and "page 3 could not be read" in summary
    pipe = Pipeline.open(config)
    try:
        hits = pipe.search("共用資料平臺上線後服務多少人次", k=5)
        assert any(h.chunk.ocr and h.chunk.address == "p. 2 (OCR)" for h in hits)  # survives the store
    finally:
        pipe.close()
    # --ocr never on the CLI: the scan-only file is skipped with the old message, nothing else lost
    only_scan = tmp_path / "only"
    only_scan.mkdir()
    (only_scan / "scan.pdf").write_bytes(bench_ocr.scan_pdf(_one_page()))
    (only_scan / "notes.txt").write_text("壹、摘要\n" + PARA + "\n", encoding="utf-8")
    code = cli.main(["ingest", str(only_scan), "--ocr", "never", "--index", str(tmp_path / "idx2"), "-q"])
    out = capsys.readouterr().out
    assert code == 0 and "+ notes.txt" in out
    assert "skipped scan.pdf: no extractable text; needs OCR" in out
    # With OCR, the scan's bordered table answers by its cell, and the citation carries the mark.
    assert cli.main(["ingest", str(only_scan), "--index", str(tmp_path / "idx3"), "-q"]) == 0
    pipe = Pipeline.open(make_config(tmp_path / "idx3", **{"reading.cache_dir": cache}))
    try:
        answer = pipe.ask("日本2024年的研究人力是多少人？")
    finally:
        pipe.close()
    assert not answer.abstained and "12,997" in answer.text, answer.text
    assert answer.citations and answer.citations[0].address == "p. 1 (OCR)"


def test_undecodable_text_layer_is_read_by_ocr(tmp_path: Path) -> None:
    _engine()
    path = tmp_path / "garbled.pdf"  # fonts without a usable Unicode map: the text layer is noise
    path.write_bytes(pdfgen.break_cmap_encodings(pdfgen.sample_pdf("noto")))
    doc = read_document(path, ReadingConfig(cache_dir=None))
    assert [p.ocr for p in doc.pages] == [True, True, True]
    assert not any("cannot be decoded" in n for n in doc.notes) and "\x00" not in doc.text
    assert "OCR read 3 pages" in doc.notes[0]
    # The broken encoding also changes which glyphs are drawn on later pages: those read poorly,
    # and the summary names them when their confidence is under the floor.
    assert "資料治理與開放創新" in doc.text


@pytest.fixture(scope="module")
def scanned_tables(tmp_path_factory: pytest.TempPathFactory, cache: Path):
    """The bordered-table fixture report as a scan: merged header cells, an empty cell, a ragged row,
    a footnote row and a table continued over pages with its header repeated."""
    _engine()
    path = tmp_path_factory.mktemp("table-scan") / "tables.pdf"
    path.write_bytes(bench_ocr.scan_pdf(pdfgen.build_pdf(pdfgen.table_items(), outline=False)))
    from corpus.tables import document_tables

    doc = read_document(path, ReadingConfig(cache_dir=cache))
    assert all(p.ocr for p in doc.pages)
    return document_tables(doc)


def _seen(cells) -> tuple[str, ...]:
    """Cells as a reader compares them: OCR writes 「：」 as 「 : 」 and spaces CJK from digits."""
    return tuple(unicodedata.normalize("NFKC", "".join(cell.split())) for cell in cells)


def test_scanned_table_keeps_its_rows_and_columns(scanned_tables) -> None:
    table = scanned_tables[0]
    assert table.number == "附表 1" and table.unit == "百萬美元"
    assert len(table.header_rows) == 2  # merged parent cells over a row of years
    assert table.columns == ["國家", "研發經費 2022", "研發經費 2023", "研究人員 2022", "研究人員 2023"]
    assert table.rows[0] == ("臺灣", "1,200", "1,310", "160", "171")
    assert table.rows[1] == ("日本", "2,100", "", "700", "705")  # the empty cell stays in its column
    assert table.rows[2] == ("韓國", "1,500", "1,620", "", "")  # the ragged row is not shifted
    assert _seen(table.notes[:1]) == ("註:空白表示尚未公布。",)


def test_scanned_table_over_pages_is_one_table(scanned_tables) -> None:
    table = scanned_tables[1]
    assert len(table.pages) >= 2
    (header,) = table.header_rows  # the header repeated on later pages is dropped
    assert header[0] == "部會" and header[2] == "占比 (%)" and header[1].startswith("預算 (")
    assert len(table.rows) == pdfgen.LONG_TABLE_ROWS
    expected = [
        (f"第{i}號機關", f"{1000 + 37 * i:,}", f"{i / 10:.1f}") for i in range(1, pdfgen.LONG_TABLE_ROWS + 1)
    ]
    # Figures are read again with the English model (corpus.ocr.reread_numbers); in this font both
    # models misread a few short ones (「1,111」, 「1.7」), where the page image must be checked.
    figures = sum(row[1:] == want[1:] for row, want in zip(table.rows, expected, strict=True))
    assert figures >= pdfgen.LONG_TABLE_ROWS - 3, table.rows
    same = sum(_seen(row) == want for row, want in zip(table.rows, expected, strict=True))
    assert same >= pdfgen.LONG_TABLE_ROWS - 2, table.rows


def test_figures_are_read_again_by_the_english_model() -> None:
    _engine()
    from PIL import Image, ImageDraw, ImageFont

    from corpus.ocr import reread_numbers

    font = ImageFont.truetype(str(pdfgen.require_font(pdfgen.DEFAULT_FONT)), 40)
    image = Image.new("L", (900, 300), 255)
    draw = ImageDraw.Draw(image)
    draw.text((20, 20), "0.04%", fill=0, font=font)
    draw.text((20, 120), "1,032,165", fill=0, font=font)
    draw.text((20, 220), "研發", fill=0, font=font)
    boxes = [(15, 15, 200, 75), (15, 115, 300, 175), (15, 215, 120, 275)]
    # First readings as the Chinese model gave them on a sample report page; words not read as a
    # figure are never sent again.
    assert reread_numbers(image, boxes, ["0.040%", "1032,165", "研發"]) == ["0.04%", "1,032,165", "研發"]
    # What follows a figure stays as first read; a box known to hold a figure takes the English reading.
    assert reread_numbers(image, boxes, ["0.040%、的", "l032,165", "研發"], [False, False, True]) == [
        "0.04%、的",
        "1,032,165",
        "研發",  # the English model reads no figure there
    ]


def test_ocr_words_are_joined_as_the_text_layer_writes_them() -> None:
    from corpus.ocr import _join_words

    # A heading read as 「(二 ) 研發人力」 would not be taken for one.
    assert _join_words(["(二", ")", "研", "發", "人", "力"]) == "(二) 研發人力"
    assert _join_words(["數", "(", "千", "元", ")"]) == "數 (千元)"
    assert _join_words(["部", "門", ",", "以", "及"]) == "部門,以及"
    assert _join_words(["2019", "年", "81.05%"]) == "2019 年 81.05%"  # figures keep their space
    assert _join_words(["OECD", "(Sep.", "2025)"]) == "OECD (Sep. 2025)"


@pytest.mark.parametrize(
    ("first", "again", "taken"),
    [
        ("1032,165", "1,032,165", True),  # a separator the Chinese model lost
        ("222", "1,222", True),  # digits it lost
        ("l001", "1,001", True),
        ("640%", "64%", True),  # what the Chinese models make of 「%」: 「0%」, 「9%」, 「0」, 「00」
        ("13.89%", "13.8%", True),
        ("18.40", "18.4%", True),
        ("99.96800", "99.968%", True),
        ("10.10%-14.7%", "10.1%-14.7%", True),
        ("1.1", "1.4", False),  # other digits
        ("1.3", "13", False),  # fewer separators
        ("14", "14%", False),  # a 「%」 from the edge of the crop: 「第 14 名」
    ],
)
def test_a_second_reading_only_mends_a_figure(first: str, again: str, taken: bool) -> None:
    from corpus.ocr import _mends

    assert _mends(first, again) is taken


def _two_column_page() -> bytes:
    """A scanned page set in two columns: each column one paragraph, its lines side by side."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(pdfgen.require_font(pdfgen.DEFAULT_FONT)), 30)
    left = "左欄的段落說明研究計畫的經費來源與執行方式並列出各年度的預算。" * 5
    right = "右欄的段落記錄平臺上線後的服務人次與使用者滿意度調查的結果。" * 5
    image = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(image)
    per_line = 20  # 20 characters of 30 px: 600 px a line, the columns 36 px apart
    for i in range(0, max(len(left), len(right)), per_line):
        y = 200 + 50 * (i // per_line)
        draw.text((170, y), left[i : i + per_line], fill=0, font=font)
        draw.text((806, y), right[i : i + per_line], fill=0, font=font)
    out = io.BytesIO()
    image.save(out, "PDF", resolution=200.0)
    return out.getvalue()


def test_two_columns_are_read_one_after_the_other(tmp_path: Path) -> None:
    _engine()
    from corpus import ocr, ruling

    data = _two_column_page()
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    image = ocr.render_page(pdf, 0)
    pdf.close()
    assert ruling.column_gutter(image) is not None
    text, _, _ = ocr.recognise_image(image, "chi_tra")
    flat = "".join(text.split())
    # The whole left column, then the whole right one: read across, the lines would alternate.
    assert flat.count("左欄") >= 4 and flat.count("右欄") >= 4, text
    assert flat.rindex("左欄") < flat.index("右欄"), text
