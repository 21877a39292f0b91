"""Reading report files: encodings, cleaning, PDF pages and labels, bad input, twins."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from corpus import CorpusError, ReadingConfig, iter_report_files, read_corpus, read_document
from corpus.cleaning import clean_markup

FIXTURES = Path(__file__).parent / "fixtures" / "corpus"
HANT = FIXTURES / "report_hant.txt"

_spec = importlib.util.spec_from_file_location("corpus_pdfgen", FIXTURES / "pdfgen.py")
assert _spec and _spec.loader
pdfgen = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(pdfgen)

needs_font = pytest.mark.skipif(pdfgen.cjk_font() is None, reason="no CJK font installed")


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "sample.pdf"
    path.write_bytes(pdfgen.with_page_labels(pdfgen.sample_pdf(), front_pages=1))
    return path


# --- text files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp950", "gb18030"])
def test_text_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    original = read_document(HANT)
    copy = tmp_path / f"report-{encoding}.txt"
    copy.write_bytes(HANT.read_text(encoding="utf-8").encode(encoding))
    doc = read_document(copy)
    assert doc.text == original.text
    assert doc.doc_id != original.doc_id or encoding == "utf-8"


def test_simplified_gb18030_text(tmp_path: Path) -> None:
    source = (FIXTURES / "report_hans.txt").read_text(encoding="utf-8")
    path = tmp_path / "hans.txt"
    path.write_bytes(source.encode("gb18030"))
    doc = read_document(path)
    assert "数字经济规模达到 9.3 万亿元" in doc.text
    assert doc.script == "zh-Hans"


def test_display_text_keeps_line_numbers_and_drops_markup() -> None:
    doc = read_document(HANT)
    raw_lines = HANT.read_text(encoding="utf-8").split("\n")
    assert len(doc.line_starts) == len(raw_lines)
    line = raw_lines.index("壹、前言") + 1
    assert doc.text[doc.line_starts[line - 1] :].startswith("壹、前言")
    assert "**" not in doc.text and "<ul" not in doc.text and "^[1]" not in doc.text
    assert "本報告說明示範計畫於年度內" in doc.text
    assert "NT$1,234 萬元" in doc.text and "NT\\$" not in doc.text


def test_running_header_removed_but_cover_title_kept() -> None:
    doc = read_document(HANT)
    assert doc.title == "示範科技發展年度報告"
    assert doc.text.count("示範科技發展年度報告") == 1


def test_metadata_from_cover() -> None:
    doc = read_document(HANT)
    assert doc.metadata["publisher"] == "國家科學及技術委員會"
    assert doc.metadata["year"] == "2025"  # 中華民國114年
    assert doc.kind == "text" and doc.script == "zh-Hant"


def test_doc_id_is_stable_content_hash(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere.txt"
    copy.write_bytes(HANT.read_bytes())
    assert read_document(copy).doc_id == read_document(HANT).doc_id


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("**國家科學及技術委員會**於 113 年", "國家科學及技術委員會於 113 年"),
        ("投入 NT\\$151.7 billion", "投入 NT$151.7 billion"),
        ('<ul style="margin:0">項目一</ul>', "項目一"),
        ("成長 14%^[1]。", "成長 14%。"),
        ("占比 <0.01%", "占比 <0.01%"),
        ("網址：<https://example.gov.tw/a>", "網址：https://example.gov.tw/a"),
        ("a &amp; b", "a & b"),
    ],
)
def test_clean_markup(raw: str, clean: str) -> None:
    assert clean_markup(raw) == clean


# --- PDFs ---------------------------------------------------------------------------------------


@needs_font
def test_pdf_pages_labels_and_margins(sample_pdf: Path) -> None:
    doc = read_document(sample_pdf)
    assert doc.kind == "pdf"
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert [p.label for p in doc.pages] == ["i", "1", "2"]
    assert doc.title == pdfgen.TITLE
    # The running header and the page-number footer are gone; the page text is its content.
    assert pdfgen.TITLE not in doc.text
    for page in doc.pages:
        body = doc.text[page.char_start : page.char_end]
        assert not body.rstrip().rsplit("\n", 1)[-1].isdigit()
    assert doc.text[doc.pages[1].char_start :].startswith("二、人才培育")
    assert "貳、未來展望" in doc.text[doc.pages[2].char_start : doc.pages[2].char_end]


@needs_font
def test_pdf_wrapped_lines_are_joined(sample_pdf: Path) -> None:
    doc = read_document(sample_pdf)
    # The generator wraps this sentence across lines; display text has it whole.
    assert "使研究人員可以更快取得所需資料。" in doc.text
    assert (0, "壹、計畫概述") in doc.outline and "outline" not in doc.metadata


@needs_font
def test_pdf_without_labels_uses_page_index(tmp_path: Path) -> None:
    path = tmp_path / "plain.pdf"
    path.write_bytes(pdfgen.sample_pdf())
    doc = read_document(path)
    assert [p.label for p in doc.pages] == ["1", "2", "3"]


# --- bad input ----------------------------------------------------------------------------------


def _reason(path: Path, config: ReadingConfig | None = None) -> str:
    with pytest.raises(CorpusError) as info:
        read_document(path, config)
    message = str(info.value)
    assert message.startswith(path.name + ": ") and "\n" not in message
    return info.value.reason


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert _reason(path) == "empty file"


def test_binary_file_with_text_extension(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(bytes(range(256)) * 40)
    assert "binary" in _reason(path)


def test_file_over_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("報告內容。\n" * 50000, encoding="utf-8")
    assert "too large" in _reason(path, ReadingConfig(max_file_mb=0.1))


def test_missing_path(tmp_path: Path) -> None:
    assert _reason(tmp_path / "nowhere.pdf") == "file not found"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_path(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("內容", encoding="utf-8")
    path.chmod(0)
    try:
        assert _reason(path) == "permission denied"
    finally:
        path.chmod(0o644)


def test_unreadable_paths_without_permissions(tmp_path: Path) -> None:
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert _reason(folder) == "is a folder, not a file"
    plain = tmp_path / "plain.txt"
    plain.write_text("內容", encoding="utf-8")
    assert _reason(plain / "inside.txt").startswith("cannot access file")
    link = tmp_path / "dangling.txt"
    link.symlink_to(tmp_path / "gone.txt")
    assert _reason(link) == "file not found"


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK\x03\x04")
    assert "unsupported file type" in _reason(path)


@needs_font
def test_truncated_pdf(tmp_path: Path) -> None:
    data = pdfgen.sample_pdf()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: len(data) // 3])
    reason = _reason(path)
    assert "damaged or truncated" in reason or "no extractable text" in reason


def test_not_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_bytes(b"this is not a pdf at all")
    assert "not a PDF" in _reason(path)


@needs_font
def test_encrypted_pdf(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(pdfgen.encrypt(pdfgen.sample_pdf()))
    assert "encrypted PDF" in _reason(path)


def test_image_only_pdf(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdfgen.image_only_pdf())
    assert _reason(path) == "no extractable text; needs OCR"


@needs_font
def test_read_corpus_collects_skipped_and_reads_the_rest(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_bytes(HANT.read_bytes())
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "scan.pdf").write_bytes(pdfgen.image_only_pdf())
    (tmp_path / "locked.pdf").write_bytes(pdfgen.encrypt(pdfgen.sample_pdf()))
    (tmp_path / "notes.xlsx").write_bytes(b"ignored: not a report type")
    result = read_corpus([tmp_path])
    assert [d.file_name for d in result.documents] == ["good.txt"]
    assert result.chunks and all(c.doc_id == result.documents[0].doc_id for c in result.chunks)
    reasons = {s.path.name: s.reason for s in result.skipped}
    assert reasons == {
        "empty.md": "empty file",
        "scan.pdf": "no extractable text; needs OCR",
        "locked.pdf": "encrypted PDF (a password is required)",
    }
    summary = result.summary()
    assert "1 documents" in summary and "3 skipped" in summary and "1 empty file" in summary
    assert result.files[0].lines > 0 and result.files[0].chunks == len(result.chunks)


# --- file discovery -----------------------------------------------------------------------------


def test_pdf_twin_preferred(tmp_path: Path) -> None:
    for name in ("a.pdf", "a.txt", "b.txt", "c.md", "c.PDF", ".hidden.txt", "d.docx"):
        (tmp_path / name).write_bytes(b"x")
    skipped: list = []
    files = iter_report_files([tmp_path], skipped=skipped)
    assert [p.name for p in files] == ["a.pdf", "b.txt", "c.PDF"]
    assert {str(s) for s in skipped} == {
        "skipped a.txt: same report as a.pdf (the PDF is used: it has pages)",
        "skipped c.md: same report as c.PDF (the PDF is used: it has pages)",
    }
    both = iter_report_files([tmp_path], ReadingConfig(prefer_pdf_twins=False))
    assert [p.name for p in both] == ["a.pdf", "a.txt", "b.txt", "c.PDF", "c.md"]


def test_read_corpus_reports_twins_as_skipped(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_bytes(HANT.read_bytes())
    (tmp_path / "r.pdf").write_bytes(pdfgen.image_only_pdf())
    result = read_corpus([tmp_path])
    assert result.skipped_by_reason() == {"text twin of a PDF": 1, "no extractable text; needs OCR": 1}
    assert {(s.path.name, s.reason) for s in result.skipped} == {
        ("r.txt", "same report as r.pdf (the PDF is used: it has pages)"),
        ("r.pdf", "no extractable text; needs OCR"),
    }


def test_named_files_and_folders_are_combined_without_duplicates(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_bytes(b"x")
    files = iter_report_files([tmp_path, tmp_path / "x.txt"])
    assert files == [tmp_path / "x.txt"]


def test_folder_readme_is_not_a_report(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# About this folder\n", encoding="utf-8")
    (tmp_path / "r.txt").write_bytes(HANT.read_bytes())
    skipped: list = []
    assert iter_report_files([tmp_path], skipped=skipped) == [tmp_path / "r.txt"]
    assert [str(s) for s in skipped] == ["skipped README.md: folder README (not a report)"]
    named = iter_report_files([tmp_path / "README.md"])  # named explicitly: read it
    assert named == [tmp_path / "README.md"]


# --- PDF text cache -----------------------------------------------------------------------------


@needs_font
def test_pdf_cache_round_trip_and_damaged_entry(tmp_path: Path, sample_pdf: Path) -> None:
    cache = tmp_path / "cache"
    uncached = read_document(sample_pdf, ReadingConfig(cache_dir=None))
    first = read_document(sample_pdf, ReadingConfig(cache_dir=cache))
    entries = list(cache.glob("*.json"))
    assert len(entries) == 1 and entries[0].name.startswith(
        hashlib.sha256(sample_pdf.read_bytes()).hexdigest()
    )
    second = read_document(sample_pdf, ReadingConfig(cache_dir=cache))
    assert first.text == second.text == uncached.text
    assert first.pages == second.pages and first.metadata == second.metadata
    entries[0].write_text("{not json", encoding="utf-8")
    third = read_document(sample_pdf, ReadingConfig(cache_dir=cache))
    assert third.text == uncached.text
