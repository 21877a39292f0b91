"""Read and chunk report files; print per-file figures and the chunk length distribution.

Usage: python bench/read_corpus.py [PATH ...]   (default: the sample reports, both formats)
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

from corpus import ReadingConfig, read_corpus
from corpus.chunking import budget

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "reports"


def _quantiles(values: list[int]) -> str:
    if not values:
        return "no chunks"
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"min {min(values)} / p25 {q[0]:.0f} / median {q[1]:.0f} / p75 {q[2]:.0f} / max {max(values)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[DEFAULT])
    parser.add_argument(
        "--pdf-only", action="store_true", help="skip .txt/.md twins of PDFs (the default for indexing)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    started = time.perf_counter()
    result = read_corpus(
        args.paths, ReadingConfig(prefer_pdf_twins=args.pdf_only), progress=sys.stderr.isatty()
    )
    total = time.perf_counter() - started

    print(f"{'file':<40} {'pages':>5} {'lines':>6} {'chunks':>6} {'tables':>6} {'seconds':>7}")
    for f in result.files:
        print(f"{f.path.name:<40} {f.pages:>5} {f.lines:>6} {f.chunks:>6} {f.tables:>6} {f.seconds:>7.1f}")
    for s in result.skipped:
        print(s)
    print(result.summary())
    print(f"total {total:.1f} s")
    chars = [len(c.text) for c in result.chunks]
    budgets = [budget(c.text) for c in result.chunks]
    print(f"chunk length, characters: {_quantiles(chars)}")
    print(f"chunk length, budget units (CJK = 1, other = 1/3): {_quantiles(budgets)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
