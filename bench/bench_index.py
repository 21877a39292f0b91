"""Index benchmark: full build, no-change re-ingest, and warm search latency on the sample reports.

    .venv/bin/python bench/bench_index.py [--reports ../shared/reports] [--questions N]

Targets (2-core machine, default model, model already converted): build < 90 s, no-change
re-ingest < 5 s, warm `search` p50 < 50 ms and `ask` p50 < 150 ms over 100 questions in one process.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpus import read_corpus
from index.embedding import Embedder, load_embedder
from qa import pipeline
from qa.config import Config
from qa.pipeline import Pipeline, ingest

REPO = Path(__file__).resolve().parents[1]


def _questions(n: int) -> list[str]:
    path = REPO / "evaluation" / "data" / "devset.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [r["question"] for r in rows]
    return (qs * (n // len(qs) + 1))[:n]


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class _TimedEmbedder:
    """The build's embedder, with the time spent encoding passages added up."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.identity = inner.identity
        self.backend = type(inner).__name__
        self.seconds = 0.0
        self.texts = 0
        self.tokens = 0
        if hasattr(inner, "encode_passages_with_spans"):  # only where the backend pools unit vectors
            self.encode_passages_with_spans = self._pooled

    def encode_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.tokens += sum(min(n, 512) for n in self._inner.count_tokens(texts))  # outside the timer
        t0 = time.perf_counter()
        try:
            return self._inner.encode_passages(texts, show_progress=show_progress)
        finally:
            self.seconds += time.perf_counter() - t0
            self.texts += len(texts)

    def _pooled(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[Sequence[tuple[int, int]]]],
        *,
        show_progress: bool = False,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The pooled unit vectors of index/unit_vectors.py, timed as passage encoding."""
        self.tokens += sum(min(n, 512) for n in self._inner.count_tokens(texts))
        t0 = time.perf_counter()
        try:
            return self._inner.encode_passages_with_spans(texts, spans, show_progress=show_progress)  # type: ignore[attr-defined]
        finally:
            self.seconds += time.perf_counter() - t0
            self.texts += len(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._inner.encode_queries(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._inner.count_tokens(texts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=Path, default=REPO.parent / "shared" / "reports")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="build the index here and keep it")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    index_dir = args.keep or workdir / "index"
    config = Config.load().updated({"index_dir": index_dir})
    embedder = _TimedEmbedder(load_embedder(config.embedding))  # load/conversion not in the build figure
    pipeline._embedder = lambda _config: embedder  # type: ignore[assignment]

    t0 = time.perf_counter()
    read_corpus([args.reports], config.reading, config.chunking)
    read_s = time.perf_counter() - t0
    t0, cpu0 = time.perf_counter(), _cpu()
    report = ingest([args.reports], config, rebuild=True, progress=False)
    build_s, build_cpu = time.perf_counter() - t0, _cpu() - cpu0
    # taken now: the searches and questions below encode texts too
    embed_s, texts, tokens = embedder.seconds, embedder.texts, embedder.tokens
    t0 = time.perf_counter()
    again = ingest([args.reports], config, progress=False)
    reingest_s = time.perf_counter() - t0
    assert not again.wrote

    t0 = time.perf_counter()
    pipe = Pipeline.open(config)
    open_s = time.perf_counter() - t0
    questions = _questions(args.questions)
    pipe.search(questions[0])  # warm-up
    search_ms = []
    for q in questions:
        t0 = time.perf_counter()
        pipe.search(q, k=10)
        search_ms.append((time.perf_counter() - t0) * 1000)
    ask_ms = []
    encoded_before = embedder.texts
    for q in questions:
        t0 = time.perf_counter()
        pipe.ask(q)
        ask_ms.append((time.perf_counter() - t0) * 1000)
    ask_passages = embedder.texts - encoded_before  # sentences encoded while questions waited
    generation = index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    index_mb = sum(p.stat().st_size for p in generation.iterdir() if p.is_file()) / 2**20
    units_mb = sum(p.stat().st_size for p in generation.glob("unit_*.npy")) / 2**20
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"reports: {args.reports} ({len(report.added)} documents, {report.chunks_total} chunks)")
    print("| measure | value | target |")
    print("| --- | --- | --- |")
    print(f"| full build (read, chunk, embed, write) | {build_s:.1f} s ({build_cpu:.0f} CPU-s) | < 90 s |")
    print(f"|   read + chunk, measured alone (page-text cache as it is) | {read_s:.1f} s | |")
    print(
        f"|   embed ({texts} texts, {tokens:,} tokens, {embedder.backend}) | "
        f"{embed_s:.1f} s ({tokens / max(embed_s, 1e-9):,.0f} tokens/s) | |"
    )
    print(f"|   everything else (read, chunk, BM25, FAISS, write) | {build_s - embed_s:.1f} s | |")
    print(f"| no-change re-ingest | {reingest_s:.2f} s | < 5 s |")
    print(f"| open index (warm process start) | {open_s:.2f} s | |")
    print(
        f"| search p50 / p95 ({len(search_ms)} questions) | {statistics.median(search_ms):.1f} / "
        f"{_pct(search_ms, 95):.1f} ms | p50 < 50 ms |"
    )
    print(
        f"| ask p50 / p95 ({len(ask_ms)} questions) | "
        f"{statistics.median(ask_ms):.1f} / {_pct(ask_ms, 95):.1f} ms | p50 < 150 ms |"
    )
    print(f"|   passages encoded while asking | {ask_passages} | |")
    print(f"| index size (sentence vectors) | {index_mb:.1f} MB ({units_mb:.1f} MB) | |")
    print(f"| peak RSS | {peak_mb:.0f} MB | |")
    pipe.close()
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
