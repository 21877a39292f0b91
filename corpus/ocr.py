"""OCR for PDF pages without a usable text layer: render with pdfium, recognise with Tesseract.

Optional at run time: without pypdfium2, pytesseract, the tesseract program or its language data,
`engine()` says why and the pages stay as they were (image-only PDFs keep the "needs OCR" message).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

OcrMode = Literal["auto", "always", "never"]
OCR_MODES: tuple[str, ...] = ("auto", "always", "never")

# Pages rendered at this resolution: Tesseract's Chinese models need strokes a few pixels wide;
# bench/bench_ocr.py measured CER and speed on the sample reports at this setting.
RENDER_DPI = 200
DEFAULT_LANGUAGES = "chi_tra+chi_sim+eng"
# A page whose text layer has fewer visible characters than this, and which holds an image, is
# read by OCR in "auto" mode. The sparsest real page of the sample reports (a cover) has 67; half
# of it leaves room for short real pages while catching a scan with a stray caption or stamp.
MIN_TEXT_CHARS = 33
# Pages whose mean word confidence (0-100) is below this are listed for checking. On the benchmark
# pages (bench/bench_ocr.py) every page under 5% CER scored above it.
CONFIDENCE_FLOOR = 70.0

_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


@dataclass(frozen=True)
class OcrPage:
    """One recognised page: text in reading order and the mean word confidence (0-100)."""

    number: int  # 1-based
    text: str
    confidence: float
    error: str = ""  # why the page could not be read ("" when it was)


@dataclass
class OcrResult:
    """What the OCR pass did to one PDF (the page lists are 1-based)."""

    pages: list[int] = field(default_factory=list)  # pages whose text now comes from OCR
    confidences: list[float] = field(default_factory=list)  # parallel to `pages`
    failed: list[int] = field(default_factory=list)  # needed OCR, but nothing could be read
    unavailable: str = ""  # OCR was needed but no engine is installed: the reason


@functools.cache
def engine(languages: str = DEFAULT_LANGUAGES) -> str | None:
    """Engine tag such as "tesseract-5.3.0", or None when OCR cannot run here (logged once)."""
    try:
        import pypdfium2  # noqa: F401
        import pytesseract
    except ImportError as exc:
        log.info("OCR unavailable: %s (install the 'ocr' extra)", exc)
        return None
    try:
        version = str(pytesseract.get_tesseract_version()).split()[0]
        installed = set(pytesseract.get_languages(config=""))
    except Exception as exc:  # the program is missing or broken
        log.info("OCR unavailable: tesseract cannot run (%s)", str(exc).splitlines()[0][:120])
        return None
    missing = [lang for lang in languages.split("+") if lang not in installed]
    if missing:
        log.info("OCR unavailable: tesseract language data missing: %s", ", ".join(missing))
        return None
    return f"tesseract-{version}"


def unavailable_reason(languages: str = DEFAULT_LANGUAGES) -> str:
    return "" if engine(languages) else "no OCR engine installed (Tesseract with chi_tra, chi_sim, eng)"


def cache_variant(mode: str, languages: str = DEFAULT_LANGUAGES) -> str:
    """Part of a cache key: the same PDF read with another mode or engine gives other text."""
    if mode == "never":
        return "ocr-never"
    tag = engine(languages) or "none"
    return f"ocr-{mode}-{tag}-{languages}-{RENDER_DPI}"


def visible_chars(text: str | None) -> int:
    return sum(not ch.isspace() for ch in text or "")


def _has_image(pdf: Any, index: int) -> bool:
    import pypdfium2.raw as raw

    page = pdf[index]
    try:
        return any(True for _ in page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3))
    finally:
        page.close()


def pages_to_read(
    texts: Sequence[str | None], garbled: Sequence[int], mode: str, pdf: Any | None = None
) -> list[int]:
    """1-based pages that OCR should read: in "auto", those without a usable text layer.

    Without `pdf` the image check is skipped (used only to warn that pages may need OCR).
    """
    if mode == "never":
        return []
    if mode == "always":
        return list(range(1, len(texts) + 1))
    bad = set(garbled)
    wanted: list[int] = []
    for number, text in enumerate(texts, start=1):
        if text is None or number in bad:
            wanted.append(number)  # pypdf could not read the page, or its fonts cannot be decoded
        elif visible_chars(text) < MIN_TEXT_CHARS and (pdf is None or _has_image(pdf, number - 1)):
            # A scan (perhaps with a stray caption in its text layer). A near-empty page without an
            # image is a blank or a drawing: there is nothing for OCR to read.
            wanted.append(number)
    return wanted


def _join_words(words: list[str]) -> str:
    """Tesseract splits Chinese into one "word" per character: no space between CJK neighbours."""
    out = ""
    for word in words:
        if out and not (_CJK.match(out[-1]) and _CJK.match(word[0])):
            out += " "
        out += word
    return out


def text_from_boxes(data: dict[str, list[Any]]) -> tuple[str, float]:
    """Lines in the engine's reading order (block, paragraph, line) and the mean word confidence."""
    lines: dict[tuple[int, int, int], list[str]] = {}
    confidences: list[float] = []
    for i, word in enumerate(data["text"]):
        word = str(word).strip()
        conf = float(data["conf"][i])
        if not word or conf < 0:
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        lines.setdefault(key, []).append(word)
        confidences.append(conf)
    text_lines: list[str] = []
    previous_block = None
    for (block, _, _), words in lines.items():  # dicts keep insertion = reading order
        if previous_block is not None and block != previous_block:
            text_lines.append("")  # a new block is a new paragraph
        text_lines.append(_join_words(words))
        previous_block = block
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return "\n".join(text_lines), mean


def recognise_image(image: Any, languages: str = DEFAULT_LANGUAGES) -> tuple[str, float]:
    """Text and mean confidence of one page image (a PIL image)."""
    import pytesseract

    # --psm 4 (one column of lines of varying size): the automatic layout (--psm 3) cut a plain
    # one-column report page into dozens of fragments read out of order (CER 93% on a benchmark
    # page, 6.7% with --psm 4). A table row stays one line, cells left to right.
    data = pytesseract.image_to_data(
        image, lang=languages, config="--psm 4", output_type=pytesseract.Output.DICT
    )
    return text_from_boxes(data)


def choose_languages(probe: str, languages: str) -> str:
    """One model for the document, by the script of a first page read with all of them.

    Given several models, Tesseract picks one per line: a Traditional report came out with some
    lines in Simplified characters and some as Latin gibberish (CER 6.7% on a benchmark page that
    chi_tra alone reads at 1.9%). The Chinese models read Latin letters and digits as well.
    """
    from corpus.normalize import detect_script

    models = languages.split("+")
    script = detect_script(probe)
    wanted = {"zh-Hant": "chi_tra", "zh-Hans": "chi_sim", "en": "eng"}.get(script)
    if wanted in models:
        return wanted
    return "+".join(m for m in models if m != "chi_sim") if script == "mixed" else languages


def render_page(pdf: Any, index: int, dpi: int = RENDER_DPI) -> Any:
    """The page as a greyscale PIL image."""
    page = pdf[index]
    try:
        return page.render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        page.close()


def read_scanned_pages(
    path: Path,
    data: bytes,
    texts: list[str | None],
    garbled: Sequence[int],
    mode: str = "auto",
    workers: int = 1,
    languages: str = DEFAULT_LANGUAGES,
) -> OcrResult:
    """OCR the pages that need it, writing their text into `texts` in place.

    One page that fails is listed in `failed` and the rest go on; without an engine nothing is
    changed and `unavailable` says why.
    """
    result = OcrResult()
    if mode == "never":
        return result
    if mode == "auto" and not garbled and all(visible_chars(t) >= MIN_TEXT_CHARS for t in texts):
        return result  # the usual case: every page has its text; no engine is even looked up
    if engine(languages) is None:
        wanted = pages_to_read(texts, garbled, mode)
        if wanted:
            result.unavailable = unavailable_reason(languages)
            if any(visible_chars(t) for t in texts):  # else the whole file is skipped with a message
                from corpus.pdf import page_list

                log.warning("%s: %s have no text and %s", path.name, page_list(wanted), result.unavailable)
        return result
    import pypdfium2 as pdfium
    from tqdm import tqdm

    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:  # pdfium cannot open what pypdf could: OCR is skipped, not the file
        log.warning("%s: cannot render pages for OCR (%s)", path.name, str(exc)[:120])
        result.unavailable = f"pages cannot be rendered ({str(exc)[:80]})"
        return result
    render_lock = threading.Lock()  # pdfium is not thread-safe; Tesseract runs as its own process

    def one(number: int, languages: str = languages) -> OcrPage:
        try:
            with render_lock:
                image = render_page(pdf, number - 1)
            text, confidence = recognise_image(image, languages)
        except Exception as exc:  # one unreadable page must not cost the others
            reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
            return OcrPage(number, "", 0.0, reason)
        return OcrPage(number, text, confidence)

    try:
        with render_lock:
            wanted = pages_to_read(texts, garbled, mode, pdf)
        if not wanted:
            return result
        # Each Tesseract process would otherwise start a thread per core and the workers would fight.
        if workers > 1:
            os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        bar = tqdm(total=len(wanted), desc=f"OCR {path.name}", unit="page", leave=False)
        probe = one(wanted[0])
        chosen = choose_languages(probe.text, languages)
        done = {probe.number: probe} if chosen == languages else {}  # read with the chosen models
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(wanted)))) as pool:
            for page in pool.map(lambda n: done.get(n) or one(n, chosen), wanted):
                bar.update()
                if page.error or not page.text.strip():
                    reason = page.error or "no text recognised"
                    log.warning("%s: page %d could not be read by OCR (%s)", path.name, page.number, reason)
                    result.failed.append(page.number)
                    continue
                log.info("%s: page %d read by OCR (confidence %.0f)", path.name, page.number, page.confidence)
                texts[page.number - 1] = page.text
                result.pages.append(page.number)
                result.confidences.append(round(page.confidence, 1))
        bar.close()
    finally:
        pdf.close()
    return result


def summary(pages: Sequence[int], confidences: Sequence[float], failed: Sequence[int]) -> str:
    """Per-file OCR note: pages read, mean confidence, pages under the floor, pages not read."""
    from corpus.pdf import page_list

    parts: list[str] = []
    if pages:
        mean = sum(confidences) / len(confidences)
        parts.append(
            f"OCR read {len(pages)} page{'s' if len(pages) != 1 else ''}, mean confidence {mean:.0f}"
        )
        low = [n for n, c in zip(pages, confidences, strict=True) if c < CONFIDENCE_FLOOR]
        if low:
            parts.append(f"{page_list(low)} below confidence {CONFIDENCE_FLOOR:.0f}: check the page image")
    if failed:
        parts.append(f"{page_list(list(failed))} could not be read by OCR")
    return "; ".join(parts)
