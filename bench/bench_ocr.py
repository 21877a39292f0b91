"""OCR benchmark: how well scanned pages of the sample reports read back, and what retrieval loses.

Part 1 (default): renders a fixed set of pages of the two sample PDFs to images, OCRs them and
compares with the PDFs' own text: character error rate (CER) for prose pages and, separately, for
table pages; the share of the text layer's table cells that OCR reads into the same row and column
with the same text; and pages per second.

    python bench/bench_ocr.py [--reports DIR] [--pages-per-file 15] [--engine tesseract|rapidocr]

Part 2 (--index OUT): writes image-only versions of the sample PDFs (every page a picture, no text
layer) to OUT/scans, and evaluates the dev set on an index built from them (`qa eval --modes
hybrid`), to compare Recall@5 with the text-PDF index. Slow: every page goes through OCR.

    python bench/bench_ocr.py --index /tmp/ocr-eval [--scan NAME ...]   # default: both PDFs scanned
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPORTS = ROOT.parent / "shared" / "reports"
SCAN_DPI = 200  # a common office-scanner setting


@dataclass(frozen=True)
class PageScore:
    file: str
    page: int
    kind: str  # "prose" or "table"
    ref_chars: int
    edits: int
    confidence: float
    seconds: float
    table_cells: int = 0  # filled cells of the page's bordered tables, as the text layer gives them
    cells_same: int = 0  # of those, read by OCR into the same row and column with the same text

    @property
    def cer(self) -> float:
        return self.edits / max(1, self.ref_chars)


def scan_pdf(data: bytes, dpi: int = SCAN_DPI, pages: list[int] | None = None) -> bytes:
    """An image-only copy of a PDF: each page (1-based `pages`, default all) rendered to greyscale."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        numbers = pages or list(range(1, len(pdf) + 1))
        images = []
        for number in numbers:
            page = pdf[number - 1]
            images.append(page.render(scale=dpi / 72, grayscale=True).to_pil())
            page.close()
    finally:
        pdf.close()
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi))
    return out.getvalue()


def normalise(text: str) -> str:
    """Compare what a reader sees: compatibility forms folded, whitespace ignored."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def fixed_pages(count: int, per_file: int) -> list[int]:
    """Pages spread evenly over the document (the same set on every run)."""
    step = count / per_file
    return sorted({min(count, 1 + int(step * i + step / 2)) for i in range(per_file)})


def table_pages(path: Path) -> set[int]:
    """Pages on which the reader finds a table in the PDF's own text (read without OCR)."""
    from corpus.chunking import chunk_document
    from corpus.reading import ReadingConfig, read_document

    doc = read_document(path, ReadingConfig(cache_dir=None, ocr="never"))
    pages: set[int] = set()
    for chunk in chunk_document(doc):
        if chunk.kind == "table" and chunk.page_start is not None:
            pages.update(range(chunk.page_start, (chunk.page_end or chunk.page_start) + 1))
    return pages


def same_cells(own: list[list[list[str]]], read: list[list[list[str]]]) -> tuple[int, int]:
    """Filled cells of the text layer's tables, and how many OCR put at the same row and column
    with the same text (white space ignored, NFKC): tables are paired in page order."""
    total = same = 0
    for k, grid in enumerate(own):
        other = read[k] if k < len(read) else []
        for r, row in enumerate(grid):
            for c, cell in enumerate(row):
                if not normalise(cell):
                    continue
                total += 1
                got = other[r][c] if r < len(other) and c < len(other[r]) else ""
                same += normalise(got) == normalise(cell)
    return total, same


def _recogniser(engine: str):
    if engine == "tesseract":
        from corpus.ocr import DEFAULT_LANGUAGES, choose_languages, recognise_image
        from corpus.ocr import engine as tesseract_engine

        if tesseract_engine() is None:
            raise SystemExit("Tesseract with chi_tra, chi_sim and eng is not installed (scripts/setup.sh)")
        chosen: dict[str, str] = {}

        def tesseract(image, file: str):
            # As the product does: the first page read with both Chinese models picks one for the file.
            if file not in chosen:
                chosen[file] = choose_languages(recognise_image(image)[0], DEFAULT_LANGUAGES)
                print(f"  {file[:12]}: {chosen[file]}", flush=True)
            return recognise_image(image, chosen[file])

        return tesseract
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR  # only for the comparison; not a product dependency

    reader = RapidOCR()

    def rapid(image, file: str):
        result, _ = reader(np.array(image.convert("RGB")))
        result = result or []
        text = "\n".join(line[1] for line in result)
        return text, 100 * sum(float(line[2]) for line in result) / max(1, len(result)), []

    return rapid


def score_pages(reports: Path, per_file: int, engine: str, dpi: int | None = None) -> list[PageScore]:
    import pypdfium2 as pdfium

    from corpus.ocr import render_page
    from corpus.pdf import extract_pdf
    from corpus.tables import find_grids

    recognise = _recogniser(engine)
    scores: list[PageScore] = []
    for path in sorted(reports.glob("*.pdf")):
        data = path.read_bytes()
        own = extract_pdf(path, data, 1, "never").page_texts
        tables = table_pages(path)
        numbers = fixed_pages(len(own), per_file)
        scan = pdfium.PdfDocument(scan_pdf(data, pages=numbers))
        for index, number in enumerate(numbers):
            image = render_page(scan, index, dpi) if dpi else render_page(scan, index)
            if index == 0:
                recognise(image, path.name)  # warm-up (and model choice): not timed
            started = time.perf_counter()
            text, confidence, grids = recognise(image, path.name)
            seconds = time.perf_counter() - started
            ref = normalise(own[number - 1])
            cells, same = same_cells(find_grids(data, number - 1, number)[0], grids)
            score = PageScore(
                path.name,
                number,
                "table" if number in tables else "prose",
                len(ref),
                edit_distance(ref, normalise(text)),
                round(confidence, 1),
                round(seconds, 2),
                cells,
                same,
            )
            scores.append(score)
            print(
                f"  {path.name[:12]} p.{number:<4} {score.kind:5} CER {score.cer:6.2%}  "
                f"conf {confidence:5.1f}  {seconds:5.1f} s" + (f"  cells {same}/{cells}" if cells else ""),
                flush=True,
            )
        scan.close()
    return scores


def report(scores: list[PageScore]) -> dict[str, object]:
    out: dict[str, object] = {"pages": len(scores)}
    for kind in ("prose", "table"):
        part = [s for s in scores if s.kind == kind]
        if part:
            out[f"{kind}_pages"] = len(part)
            out[f"{kind}_cer"] = round(sum(s.edits for s in part) / sum(s.ref_chars for s in part), 4)
            out[f"{kind}_worst_page_cer"] = round(max(s.cer for s in part), 4)
    cells = sum(s.table_cells for s in scores)
    if cells:
        out["table_cells"] = cells
        out["table_cells_same"] = round(sum(s.cells_same for s in scores) / cells, 4)
    total = sum(s.seconds for s in scores)
    out["pages_per_second"] = round(len(scores) / total, 3) if total else None
    out["mean_confidence"] = round(sum(s.confidence for s in scores) / len(scores), 1)
    return out


def build_scans(reports: Path, target: Path, only: list[str]) -> list[Path]:
    """Image-only copies of the sample PDFs (those whose name contains one of `only`, default all;
    the others are copied as they are, so the index holds both reports either way)."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(reports.glob("*.pdf")):
        out = target / path.name  # same file name: the dev set names its documents by file
        if only and not any(part in path.name for part in only):
            out.write_bytes(path.read_bytes())
            print(f"  copied {out} (text PDF)", flush=True)
            continue
        out.write_bytes(scan_pdf(path.read_bytes()))
        written.append(out)
        print(f"  wrote {out} ({out.stat().st_size / 1e6:.1f} MB)", flush=True)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=REPORTS)
    parser.add_argument("--pages-per-file", type=int, default=15)
    parser.add_argument("--engine", choices=("tesseract", "rapidocr"), default="tesseract")
    parser.add_argument(
        "--dpi", type=int, help="render the scans at this resolution for OCR (default: the product's)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures and per-page scores here")
    parser.add_argument("--index", type=Path, metavar="OUT", help="part 2: image-only PDFs, index, eval")
    parser.add_argument(
        "--scan", action="append", default=[], metavar="NAME", help="part 2: scan only PDFs named *NAME*"
    )
    args = parser.parse_args()

    if args.index:
        scans = build_scans(args.reports, args.index / "scans", args.scan)
        command = [
            sys.executable, "-m", "qa", "eval", str(ROOT / "evaluation" / "data" / "devset.jsonl"),
            "--corpus", str(scans[0].parent), "--out", str(args.index / "eval"),
            "--modes", "hybrid", "--no-plots",
        ]  # fmt: skip
        print("  " + " ".join(command), flush=True)
        # A 200-dpi scan of the 170-page report is over the default 50 MB file limit.
        return subprocess.call(command, env={**os.environ, "QA_READING__MAX_FILE_MB": "500"})

    scores = score_pages(args.reports, args.pages_per_file, args.engine, args.dpi)
    figures = report(scores)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(
            json.dumps({"figures": figures, "pages": [asdict(s) for s in scores]}, indent=1), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
