"""OCR for PDF pages without a usable text layer: render with pdfium, recognise with Tesseract.

Optional at run time: without pypdfium2, pytesseract, the tesseract program or its language data,
`engine()` says why and the pages stay as they were (image-only PDFs keep the "needs OCR" message).
"""

from __future__ import annotations

import bisect
import functools
import logging
import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from corpus import ruling

if TYPE_CHECKING:
    from corpus.ruling import ImageTable
    from corpus.tables import Grid

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
    grids: list[Grid] = field(default_factory=list)  # its bordered tables' cells, top to bottom


@dataclass
class OcrResult:
    """What the OCR pass did to one PDF (the page lists are 1-based)."""

    pages: list[int] = field(default_factory=list)  # pages whose text now comes from OCR
    confidences: list[float] = field(default_factory=list)  # parallel to `pages`
    failed: list[int] = field(default_factory=list)  # needed OCR, but nothing could be read
    unavailable: str = ""  # OCR was needed but no engine is installed: the reason
    grids: dict[int, list[Grid]] = field(default_factory=dict)  # page -> bordered tables read by OCR


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


# Half-width punctuation the Chinese models write for 「（」「）」「，」「：」 and the like: written
# against the CJK text beside it, as the text layer has it (an opening bracket keeps the space
# before it, a closing one the space after it: 「預算法定數 (千元)」, 「(二) 研發人力」).
_OPENING = frozenset("([{")
_CLOSING = frozenset(")]}")
_INNER_PUNCT = frozenset(",.:;!?%、")


def _tight(left: str, right: str) -> bool:
    left_cjk, right_cjk = bool(_CJK.match(left)), bool(_CJK.match(right))
    if left_cjk and right_cjk:
        return True
    if left_cjk:
        return right in _CLOSING or right in _INNER_PUNCT
    return right_cjk and (left in _OPENING or left in _INNER_PUNCT)


def _join_words(words: list[str]) -> str:
    """Tesseract splits Chinese into one "word" per character: no space between CJK neighbours, nor
    between CJK and the punctuation that belongs to it (「(二 )」 would not be read as a heading)."""
    out = ""
    for word in words:
        if out and not _tight(out[-1], word[0]):
            out += " "
        out += word
    return out


@dataclass(frozen=True)
class _Word:
    text: str
    line: tuple[int, int, int]  # Tesseract's (block, paragraph, line)
    left: int
    top: int
    width: int
    height: int
    confidence: float


def _words(data: dict[str, list[Any]]) -> list[_Word]:
    """The recognised words of Tesseract's `image_to_data` output (empty boxes and rules left out)."""
    words: list[_Word] = []
    for i, text in enumerate(data["text"]):
        text = str(text).strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        box = (int(data["left"][i]), int(data["top"][i]), int(data["width"][i]), int(data["height"][i]))
        words.append(_Word(text, key, *box, conf))
    return words


def _cell_text(words: list[_Word]) -> str:
    """A cell's words: its lines top to bottom, each left to right."""
    lines: dict[tuple[int, int, int], list[_Word]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word)
    ordered = sorted(lines.values(), key=lambda ws: min(w.top for w in ws))
    return "\n".join(_join_words([w.text for w in sorted(ws, key=lambda w: w.left)]) for ws in ordered)


# Crops are read stacked one above another in one image, this far apart (pixels at RENDER_DPI):
# more than a line gap, so no two crops are taken for one line.
_STACK_GAP = 24
# A word the Chinese models read as a figure, misreadings included (「0.040%」, 「84.190%0」, 「l001」):
# its figure, and what follows it when that is punctuation and more (「99.96800、RTT」, 「640%,」).
_FIGURE_LEAD = re.compile(
    r"([<>≦≧~+\-−–(（]?(?:\d|[lI|](?=[\d,.]))[\d,.%％\-–~]*?[)）]?)([,，、.。;；:：]*(?:(?<=[,，、;；:：])(?!\d)\S*)?)"
)
# What a figure read again must look like: 「0.04%」, 「<0.01%」, 「1,032,165」, 「10.1%-14.7%」.
_NUMERIC = re.compile(r"[<>≦≧~+\-−–(（]?\d[\d,.]*[%％]?(?:[-–~]\d[\d,.]*[%％]?)?[)）]?")
_AFTER = ",，、.。"  # punctuation that may end the English reading of a crop
_FIGURE_PART = re.compile(r"[\d<>≦≧~+\-−–(（),.%％]+")
NUMBER_MODEL = "eng"


def read_stacked(crops: Sequence[Any], languages: str) -> list[list[_Word]]:
    """Words of each crop (PIL images), read in one Tesseract run as a block of short lines."""
    import pytesseract
    from PIL import Image

    if not crops:
        return []
    width = max(crop.width for crop in crops) + 2 * _STACK_GAP
    height = sum(crop.height + _STACK_GAP for crop in crops) + _STACK_GAP
    canvas = Image.new("L", (width, height), 255)
    bands: list[tuple[int, int]] = []
    y = _STACK_GAP
    for crop in crops:
        canvas.paste(crop, (_STACK_GAP, y))
        bands.append((y, y + crop.height))
        y += crop.height + _STACK_GAP
    # --psm 6: one uniform block of text, which a column of short lines is.
    data = pytesseract.image_to_data(
        canvas, lang=languages, config="--psm 6", output_type=pytesseract.Output.DICT
    )
    starts = [top for top, _ in bands]

    def distance(i: int, middle: float) -> float:
        return max(bands[i][0] - middle, middle - bands[i][1], 0)

    found: list[list[_Word]] = [[] for _ in crops]
    for word in _words(data):
        middle = word.top + word.height / 2
        i = max(0, bisect.bisect_right(starts, middle) - 1)  # the crop at or above the word's middle
        if i + 1 < len(bands) and distance(i + 1, middle) < distance(i, middle):
            i += 1
        found[i].append(word)
    return found


def _ink_box(pixels: Any, box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """The part of `box` that holds ink, or None for an empty box (or a speck)."""
    import numpy as np

    x0, y0, x1, y1 = box
    ink = np.argwhere(pixels[y0:y1, x0:x1] < ruling.DARK)
    if len(ink) < 4:
        return None
    (top, left), (bottom, right) = ink.min(axis=0), ink.max(axis=0)
    return x0 + int(left), y0 + int(top), x0 + int(right) + 1, y0 + int(bottom) + 1


def reread_numbers(
    image: Any,
    boxes: Sequence[tuple[int, int, int, int]],
    texts: Sequence[str],
    figures: Sequence[bool] | None = None,
) -> list[str]:
    """Figures read again with the English model, which reads digits, separators and 「%」 better.

    The Chinese models misread figures in ways that change them: 「0.04%」 as 「0.040%」, 「84.19%」
    as 「84.190%0」, 「1,032,165」 as 「1032,165」, 「1,222」 as 「222」. The second reading may only mend
    those: add what the first lost, take a separator for another, drop a 「0」 written beside 「%」.
    Where it reads other digits (some fonts' 「1.1」 came back as 「1.4」) or fewer separators (「1.3」
    as 「13」) the first stays, as it does without the English model. `figures` marks boxes known
    to hold a figure whatever the first reading (a cell among figures): any figure the English
    model reads there replaces a first reading that was not one.
    """
    known = list(figures) if figures is not None else [False] * len(texts)
    wanted = [i for i, text in enumerate(texts) if known[i] or _FIGURE_LEAD.fullmatch(text)]
    if not wanted or engine(NUMBER_MODEL) is None:
        return list(texts)
    pad = 4
    crops = [
        image.crop((max(0, x0 - pad), max(0, y0 - pad), x1 + pad, y1 + pad))
        for x0, y0, x1, y1 in (boxes[i] for i in wanted)
    ]
    found = read_stacked(crops, NUMBER_MODEL)
    out = list(texts)
    for i, words in zip(wanted, found, strict=True):
        # What follows the figure stays as first read: 「2.」 opening a list item is not 「2,」.
        lead = _FIGURE_LEAD.fullmatch(texts[i])
        first, tail = lead.groups() if lead else ("", "")  # no figure read: all of it goes
        # The English reading's figure: its leading words that are figures (「64%」 of 「64% °」).
        again = ""
        for word in sorted(words, key=lambda w: w.left):
            if not _FIGURE_PART.fullmatch(word.text):
                break
            again += word.text
        again = again.rstrip(_AFTER)
        if not _NUMERIC.fullmatch(again):
            continue
        if _mends(first, again) if first else known[i]:
            out[i] = again + tail
    return out


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _within(short: str, long: str) -> bool:
    """Every character of `short`, in order, in `long`."""
    rest = iter(long)
    return all(ch in rest for ch in short)


def _mends(first: str, again: str) -> bool:
    """`again` keeps every digit of `first` (less a 「0」 beside 「%」), every separator, and its 「%」;
    or `again` ends in 「%」 where `first` has what the Chinese models make of one (「0」, 「00」, 「9%」)."""
    if again.endswith(("%", "％")) and re.fullmatch(re.escape(again[:-1]) + r"[09%％]{1,3}", first):
        return True
    if sum(ch in ",." for ch in again) < sum(ch in ",." for ch in first):
        return False
    if any(ch in "%％" for ch in again) != any(ch in "%％" for ch in first):
        return False  # a crop's edge read as 「%」: 「第 14 名」 is not 「14%」
    return any(_within(_digits(text), _digits(again)) for text in (first, re.sub(r"0?[%％]0?", "%", first)))


def _figure_slots(slots: Sequence[tuple[int, int]], texts: Sequence[str]) -> list[bool]:
    """Cells that hold a figure whatever the Chinese model read there (「17.25」 as 「兰-呈」): those in
    a column, or a row, whose other cells are mostly figures (header row and label column aside)."""
    by_col: dict[int, list[bool]] = {}
    by_row: dict[int, list[bool]] = {}
    for (row, col), text in zip(slots, texts, strict=True):
        if row > 0 and col > 0 and text:
            figure = bool(_FIGURE_LEAD.fullmatch(text))
            by_col.setdefault(col, []).append(figure)
            by_row.setdefault(row, []).append(figure)

    def mostly(marks: list[bool]) -> bool:
        return len(marks) >= 3 and sum(marks) * 2 > len(marks)

    return [
        row > 0 and col > 0 and (mostly(by_col.get(col, [])) or mostly(by_row.get(row, [])))
        for row, col in slots
    ]


def read_table(image: Any, table: ImageTable, languages: str) -> tuple[Grid, list[float]]:
    """A bordered table's cells (rules already erased from `image`) and its words' confidences.

    Each cell is cut out and the cells are read stacked, in one Tesseract run. Read in place, as
    part of the page, a cell beside a wide gap was often misread (「韓國」 as 「韓上」, 「瑞典」 as 「瑞」);
    read alone, none were.
    """
    import numpy as np

    from corpus.tables import grid_rows

    pixels = np.asarray(image.convert("L"))
    inset = ruling.SNAP // 2 + 1
    slots: list[tuple[int, int]] = []
    boxes: list[tuple[int, int, int, int]] = []
    for slot, (x0, y0, x1, y1) in table.cells().items():
        box = _ink_box(pixels, (x0 + inset, y0 + inset, x1 - inset, y1 - inset))
        if box is not None:
            slots.append(slot)
            boxes.append(box)
    found = read_stacked([image.crop(box) for box in boxes], languages)
    first = [_cell_text(words) for words in found]
    in_numeric = _figure_slots(slots, first)
    texts = reread_numbers(image, boxes, first, in_numeric)
    cells = dict(zip(slots, texts, strict=True))
    raw = [
        [cells.get((r, c), "") if table.owner[r][c] == (r, c) else None for c in range(len(row))]
        for r, row in enumerate(table.owner)
    ]
    return grid_rows(raw), [w.confidence for words in found for w in words]


def page_text(words: Sequence[_Word], tables: Sequence[tuple[int, Grid]] = ()) -> str:
    """Lines in the engine's reading order (block, paragraph, line); each table's rows (given with
    the y where the table starts) stand where the table stands."""
    lines: dict[tuple[int, int, int], list[_Word]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word)
    pending = sorted(tables, key=lambda t: t[0])
    text_lines: list[str] = []
    previous_block = None

    def flush_until(y: float) -> None:
        while pending and pending[0][0] < y:
            text_lines.extend(" ".join(cell for cell in row if cell) for row in pending.pop(0)[1])

    for (block, _, _), line_words in lines.items():  # dicts keep insertion = reading order
        flush_until(min(w.top for w in line_words))
        if previous_block is not None and block != previous_block:
            text_lines.append("")  # a new block is a new paragraph
        text_lines.append(_join_words([w.text for w in line_words]))
        previous_block = block
    flush_until(float("inf"))
    return "\n".join(text_lines)


_RIGHT_COLUMN = 100_000  # block numbers of the right column's lines, after the left column's


def _read_lines(image: Any, languages: str) -> list[_Word]:
    """Words of one column of text, in Tesseract's reading order."""
    import pytesseract

    # --psm 4 (one column of lines of varying size): the automatic layout (--psm 3) cut a plain
    # one-column report page into dozens of fragments read out of order (CER 93% on a benchmark
    # page, 6.7% with --psm 4); a page in two columns is cut at its gutter first.
    data = pytesseract.image_to_data(
        image, lang=languages, config="--psm 4", output_type=pytesseract.Output.DICT
    )
    return _words(data)


def recognise_image(image: Any, languages: str = DEFAULT_LANGUAGES) -> tuple[str, float, list[Grid]]:
    """Text, mean word confidence and bordered tables' cells of one page image (a PIL image)."""
    from PIL import ImageDraw

    tables, rules = ruling.find_tables(image)
    kept: list[tuple[ImageTable, Grid]] = []
    confidences: list[float] = []
    if tables:
        image = ruling.erase_rules(image, rules)  # a copy
        for table in tables:
            grid, table_confidences = read_table(image, table, languages)
            # As for a text PDF (corpus.tables.find_grids): a table is at least one row of two cells.
            if grid and max(map(len, grid)) >= 2:
                kept.append((table, grid))
                confidences += table_confidences
        draw = ImageDraw.Draw(image)
        for table, _ in kept:  # read once: the page pass sees only what is outside the tables
            draw.rectangle(table.box, fill=255)
    gutter = ruling.column_gutter(image)
    if gutter is None:
        words = _read_lines(image, languages)
    else:  # two columns: each read on its own, the left one first
        right = image.crop((gutter, 0, image.width, image.height))
        words = _read_lines(image.crop((0, 0, gutter, image.height)), languages) + [
            replace(w, left=w.left + gutter, line=(w.line[0] + _RIGHT_COLUMN, *w.line[1:]))
            for w in _read_lines(right, languages)
        ]
    boxes = [(w.left, w.top, w.left + w.width, w.top + w.height) for w in words]
    texts = reread_numbers(image, boxes, [w.text for w in words])
    grids = [(table.ys[0], grid) for table, grid in kept]
    text = page_text([replace(w, text=t) for w, t in zip(words, texts, strict=True)], grids)
    confidences += [w.confidence for w in words]
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return text, mean, [grid for _, grid in kept]


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
            text, confidence, grids = recognise_image(image, languages)
        except Exception as exc:  # one unreadable page must not cost the others
            reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
            return OcrPage(number, "", 0.0, reason)
        return OcrPage(number, text, confidence, grids=grids)

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
                result.grids[page.number] = page.grids
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
