"""Read and chunk report files; print per-file figures and the chunk length distribution.

Usage: python bench/read_corpus.py [PATH ...] [--pdf-only]
(default: the sample reports folder, both formats of each report)

The files are read twice with a fresh PDF text cache: cold (pypdf extracts every page) and warm
(the cache is used). Wall time on a shared machine varies with load; CPU time (this process and
its page-extraction workers) is the steadier figure.
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from corpus import CorpusReadResult, ReadingConfig, read_corpus
from corpus.chunking import budget

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "reports"


def _cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _quantiles(values: list[int]) -> str:
    if not values:
        return "no chunks"
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"min {min(values)} / p25 {q[0]:.0f} / median {q[1]:.0f} / p75 {q[2]:.0f} / max {max(values)}"


def _timed(paths: list[Path], reading: ReadingConfig) -> tuple[CorpusReadResult, float, float]:
    wall, cpu = time.perf_counter(), _cpu_seconds()
    result = read_corpus(paths, reading, progress=sys.stderr.isatty())
    return result, time.perf_counter() - wall, _cpu_seconds() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[DEFAULT])
    parser.add_argument(
        "--pdf-only", action="store_true", help="skip .txt/.md twins of PDFs (the default for indexing)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    with tempfile.TemporaryDirectory() as cache:
        reading = ReadingConfig(prefer_pdf_twins=args.pdf_only, cache_dir=Path(cache))
        result, cold_wall, cold_cpu = _timed(args.paths, reading)
        _warm, warm_wall, warm_cpu = _timed(args.paths, reading)

    print(f"{'file':<40} {'pages':>5} {'lines':>6} {'chunks':>6} {'tables':>6} {'seconds':>7}")
    for f in result.files:
        print(f"{f.path.name:<40} {f.pages:>5} {f.lines:>6} {f.chunks:>6} {f.tables:>6} {f.seconds:>7.1f}")
    for s in result.skipped:
        print(s)
    print(result.summary())
    print(
        f"cold: {cold_wall:.1f} s wall, {cold_cpu:.1f} s CPU   warm (PDF text cached): {warm_wall:.1f} s wall"
    )
    print(f"      (warm CPU {warm_cpu:.1f} s)")
    chars = [len(c.text) for c in result.chunks]
    budgets = [budget(c.text) for c in result.chunks]
    print(f"chunk length, characters: {_quantiles(chars)}")
    print(f"chunk length, budget units (CJK = 1, other = 1/3): {_quantiles(budgets)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
