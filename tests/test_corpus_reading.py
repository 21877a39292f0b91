"""Reading report files: encodings, cleaning, PDF pages and labels, bad input, twins."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import load_script

from corpus import CorpusError, ReadingConfig, iter_report_files, read_corpus, read_document
from corpus.cleaning import clean_markup

FIXTURES = Path(__file__).parent / "fixtures" / "corpus"
HANT = FIXTURES / "report_hant.txt"

pdfgen = load_script(FIXTURES / "pdfgen.py", "corpus_pdfgen")

# Outside CI a machine without the fixture fonts skips; under CI the build fails naming the package.
needs_font = pytest.mark.skipif(pdfgen.fonts_missing(), reason="fixture CJK fonts not installed")


@pytest.fixture(scope="module", params=sorted(pdfgen.FONTS))
def sample_pdf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample PDF made with each fixture font: TrueType (Identity-H) and CFF (embedded CMap)."""
    path = tmp_path_factory.mktemp("pdf") / f"sample-{request.param}.pdf"
    path.write_bytes(pdfgen.with_page_labels(pdfgen.sample_pdf(request.param), front_pages=1))
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
def test_a_paragraph_wrapped_over_a_page_break_reads_as_one(tmp_path: Path) -> None:
    # Figures stand between spaces, as the reports write them (a wrap beside a digit reads as a
    # space); each sentence names its own site, or its lines would recur like a running footer.
    def site(n: int) -> str:
        return "".join("〇一二三四五六七八九"[int(d)] for d in str(n)) + "號站"

    sentences = [
        f"第 {n} 項工作於{site(n)}完成驗收並交付使用單位，執行率達 {60 + n}%。" for n in range(1, 91)
    ]
    items = [pdfgen.Item("heading", "壹、工作成果", 0), pdfgen.Item("para", "".join(sentences))]
    path = tmp_path / "over-pages.pdf"
    path.write_bytes(pdfgen.build_pdf(items))
    doc = read_document(path)
    assert len(doc.pages) >= 2
    # Every sentence is whole, the one the page break cut included: no line break, no page number
    # inside (spaces aside, which the text layer doubles).
    flat = doc.text.replace(" ", "")
    for sentence in sentences:
        assert sentence.replace(" ", "") in flat
    second = doc.pages[1]
    # page 2 goes on with the paragraph of page 1: at most a space between them, no line break
    assert doc.text[doc.pages[0].char_end : second.char_start] in ("", " ")


@needs_font
def test_cff_cid_font_with_embedded_cmap_reads_as_written(tmp_path: Path) -> None:
    data = pdfgen.sample_pdf("noto")
    assert pdfgen.cmap_encoded_fonts(data) >= 1  # the case under test: /Encoding is a CMap stream
    path = tmp_path / "cff.pdf"
    path.write_bytes(data)
    doc = read_document(path)
    assert "\x00" not in doc.text and doc.notes == []
    assert "本年度研究計畫聚焦於資料治理與開放創新，透過跨機關合作建立共用資料平臺" in doc.text
    assert "臺灣\t10,000\t12,000" in doc.text  # the bordered table comes back as cells
    assert read_document(path).text == doc.text


@needs_font
def test_undecodable_text_layer_is_reported_not_indexed(tmp_path: Path) -> None:
    path = tmp_path / "garbled.pdf"
    path.write_bytes(pdfgen.break_cmap_encodings(pdfgen.sample_pdf("noto")))
    reason = _reason(path, ReadingConfig(ocr="never"))  # with OCR these pages are read (test_ocr.py)
    assert reason.startswith("text layer cannot be decoded (3 pages (1, 2, 3)"), reason
    assert "needs OCR" in reason


@needs_font
def test_undecodable_pages_are_left_out_and_named(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in (pdfgen.sample_pdf("wqy"), pdfgen.break_cmap_encodings(pdfgen.sample_pdf("noto"))):
        writer.append(PdfReader(io.BytesIO(data)))
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / "half.pdf"
    path.write_bytes(buffer.getvalue())
    doc = read_document(path, ReadingConfig(ocr="never"))
    assert doc.notes == ["3 pages (4, 5, 6) left out: text cannot be decoded"]
    assert "使研究人員可以更快取得所需資料。" in doc.text and "\x00" not in doc.text
    assert all(page.char_start == page.char_end for page in doc.pages[3:])


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


# Root reads any file, and CI runs as root: this child imports the reader as root, then becomes
# nobody (the interpreter may sit in a folder nobody cannot enter) and reads the files it is given.
_READ_AS_NOBODY = """
import os, pwd, sys
from pathlib import Path
from corpus import CorpusError, ReadingConfig, read_document

nobody = pwd.getpwnam("nobody")
os.setgroups([])
os.setgid(nobody.pw_gid)
os.setuid(nobody.pw_uid)
for name in sys.argv[1:]:
    try:
        read_document(Path(name), ReadingConfig(cache_dir=None))
        print("read")
    except CorpusError as exc:
        print(exc.reason)
"""


def _outcomes_without_privileges(*paths: Path) -> list[str]:
    """Per file, "read" or why it could not be read, as a user without special rights."""
    if os.geteuid() != 0:
        return [_outcome(p) for p in paths]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    command = [sys.executable, "-c", _READ_AS_NOBODY, *map(str, paths)]
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True, timeout=120)
    return out.stdout.splitlines()


def _outcome(path: Path) -> str:
    try:
        read_document(path, ReadingConfig(cache_dir=None))
    except CorpusError as exc:
        return exc.reason
    return "read"


def test_unreadable_path() -> None:
    # Not tmp_path: its parent folders are closed to other users.
    folder = Path(tempfile.mkdtemp(prefix="reportqa-perm-"))
    try:
        folder.chmod(0o755)
        locked, readable = folder / "locked.txt", folder / "readable.txt"
        for path in (locked, readable):
            path.write_text("報告內容。\n", encoding="utf-8")
        locked.chmod(0)
        readable.chmod(0o644)
        assert _outcomes_without_privileges(locked, readable) == ["permission denied", "read"]
    finally:
        shutil.rmtree(folder)


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
    (tmp_path / "garbled.pdf").write_bytes(pdfgen.break_cmap_encodings(pdfgen.sample_pdf("noto")))
    (tmp_path / "notes.xlsx").write_bytes(b"ignored: not a report type")
    result = read_corpus([tmp_path], ReadingConfig(ocr="never"))
    assert [d.file_name for d in result.documents] == ["good.txt"]
    assert result.chunks and all(c.doc_id == result.documents[0].doc_id for c in result.chunks)
    reasons = {s.path.name: s.reason for s in result.skipped}
    assert reasons == {
        "empty.md": "empty file",
        "scan.pdf": "no extractable text; needs OCR",
        "locked.pdf": "encrypted PDF (a password is required)",
        "garbled.pdf": reasons["garbled.pdf"],
    }
    assert reasons["garbled.pdf"].startswith("text layer cannot be decoded")
    summary = result.summary()
    assert "1 documents" in summary and "4 skipped" in summary and "1 empty file" in summary
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


def _count_extractions(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Calls of the real PDF extractor from now on, one path per call."""
    import corpus.reading

    calls: list[Path] = []
    real = corpus.reading.extract_pdf

    def counted(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(corpus.reading, "extract_pdf", counted)
    return calls


@needs_font
def test_pdf_cache_round_trip_and_damaged_entry(
    tmp_path: Path, sample_pdf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    uncached = read_document(sample_pdf, ReadingConfig(cache_dir=None))
    extractions = _count_extractions(monkeypatch)
    first = read_document(sample_pdf, ReadingConfig(cache_dir=cache))
    assert len(extractions) == 1
    entries = list(cache.glob("*.json"))
    assert len(entries) == 1 and entries[0].name.startswith(
        hashlib.sha256(sample_pdf.read_bytes()).hexdigest()
    )
    second = read_document(sample_pdf, ReadingConfig(cache_dir=cache))
    assert len(extractions) == 1  # a cache hit: the PDF was not parsed again
    assert first.text == second.text == uncached.text
    assert first.pages == second.pages and first.metadata == second.metadata
    entries[0].write_text("{not json", encoding="utf-8")
    third = read_document(sample_pdf, ReadingConfig(cache_dir=cache))
    assert len(extractions) == 2  # a damaged entry is a miss, and it is replaced
    assert third.text == uncached.text
    fourth = read_document(sample_pdf, ReadingConfig(cache_dir=cache))
    assert len(extractions) == 2 and fourth.text == uncached.text


def _disk_full_midway(obj, handle, **kwargs) -> None:
    handle.write('{"page_texts": ["')  # part of the entry reaches the disk first
    raise OSError(errno.ENOSPC, "No space left on device")


def _unserialisable(obj, handle, **kwargs) -> None:
    raise TypeError("Object of type bytes is not JSON serializable")


@needs_font
@pytest.mark.parametrize("failing_dump", [_disk_full_midway, _unserialisable])
def test_pdf_cache_write_failure_leaves_no_temp_file(
    tmp_path: Path, sample_pdf: Path, monkeypatch: pytest.MonkeyPatch, failing_dump
) -> None:
    from corpus import pdf_cache

    cache = tmp_path / "cache"
    uncached = read_document(sample_pdf, ReadingConfig(cache_dir=None))
    with monkeypatch.context() as patch:
        patch.setattr(pdf_cache.json, "dump", failing_dump)
        doc = read_document(sample_pdf, ReadingConfig(cache_dir=cache))
    assert doc.text == uncached.text  # the failed write cost only the cache
    assert list(cache.iterdir()) == []
    assert read_document(sample_pdf, ReadingConfig(cache_dir=cache)).text == uncached.text
    assert len(list(cache.glob("*.json"))) == 1  # and the next read fills it
