"""Local vs Milvus backend: ingest throughput, search latency, and memory projected to 10M chunks.

    .venv/bin/python bench/bench_milvus.py [--reports ../shared/reports] [--questions 100]
    .venv/bin/python bench/bench_milvus.py --uri http://milvus:19530   # a running server or cluster
    .venv/bin/python bench/bench_milvus.py --vectors-from INDEX          # skip embedding the passages

Without --uri a single-process Milvus (milvus-lite) is started on loopback and stopped afterwards.
Passages are embedded once and the vectors reused by both backends, so the ingest figures compare
the stores, not the model (embedding time is printed separately). Search latency is taken twice:
`candidates()` alone (the store) and the whole `search` (query embedding and fusion included).

Memory for 10M chunks is projected from what was measured here, per chunk:
  local   resident growth of this process when the index is opened and searched, per chunk
  milvus  the bytes a query node keeps loaded: vector + HNSW links (M = 32) + sparse BM25 vector
          (8 bytes per distinct token) + the scalar fields (record, section, ids), from the rows
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpus import chunk_document, read_document
from index.analysis import lexical_tokens, match_form
from index.backend import LocalIndex, open_index
from index.embedding import Embedder, load_embedder
from index.milvus import _chunk_record, token_text
from index.milvus_lite_server import running_server
from qa.config import Config
from qa.pipeline import ingest
from qa.retrieval import Retriever

REPO = Path(__file__).resolve().parents[1]
PROJECTED = 10_000_000
HNSW_M = 32


class ReusedVectors:
    """The real embedder, with passage vectors computed once and reused by every later ingest."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.identity = inner.identity
        self.cache: dict[str, np.ndarray] = {}
        self.seconds = 0.0

    def encode_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            started = time.perf_counter()
            for t, v in zip(
                missing, self.inner.encode_passages(missing, show_progress=show_progress), strict=True
            ):
                self.cache[t] = v
            self.seconds += time.perf_counter() - started
        if not texts:
            return np.zeros((0, self.identity.dim), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts]).astype(np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def _questions(n: int) -> list[str]:
    path = REPO / "evaluation" / "data" / "devset.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [r["question"] for r in rows]
    return (qs * (n // len(qs) + 1))[:n]


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _latency(config: Config, embedder: Embedder, questions: list[str]) -> dict[str, float]:
    index = open_index(config.index_dir, config.index)
    retriever = Retriever(index, embedder, config.retrieval, config.index.analysis)
    analysis = config.index.analysis
    prepared = [
        (embedder.encode_queries([match_form(q, analysis)])[0], lexical_tokens(q, analysis))
        for q in questions
    ]
    depth = config.retrieval.depth
    for v, t in prepared[:5]:  # warm-up
        index.candidates(v, t, depth)
    store: list[float] = []
    for v, t in prepared:
        started = time.perf_counter()
        index.candidates(v, t, depth)
        store.append((time.perf_counter() - started) * 1000)
    whole: list[float] = []
    for q in questions:
        started = time.perf_counter()
        retriever.search(q, k=10)
        whole.append((time.perf_counter() - started) * 1000)
    index.close()
    return {
        "store_p50": _pct(store, 50),
        "store_p95": _pct(store, 95),
        "search_p50": _pct(whole, 50),
        "search_p95": _pct(whole, 95),
    }


def _ingest(config: Config, paths: list[Path], embedder: Embedder) -> tuple[int, float]:
    import qa.pipeline as pipeline

    original = pipeline._embedder
    pipeline._embedder = lambda _config: embedder  # the same vectors for both backends
    try:
        started = time.perf_counter()
        report = ingest(paths, config, rebuild=True, progress=False)
        return report.chunks_total, time.perf_counter() - started
    finally:
        pipeline._embedder = original


def _local_bytes_per_chunk(config: Config, embedder: Embedder, questions: list[str]) -> tuple[float, float]:
    before = _rss_kb()
    index = LocalIndex.open(config.index_dir)
    n = len(index.chunks)
    retriever = Retriever(index, embedder, config.retrieval, config.index.analysis)
    for q in questions[:5]:  # the pages a search touches (vectors are memory-mapped)
        retriever.search(q, k=10)
    ram = (_rss_kb() - before) * 1024 / max(1, n)
    disk = sum(p.stat().st_size for p in index.folder.rglob("*") if p.is_file()) / max(1, n)
    index.close()
    return ram, disk


def _milvus_bytes_per_chunk(config: Config, dim: int) -> float:
    index = open_index(config.index_dir, config.index)
    chunks = index.all_chunks()
    index.close()
    analysis = config.index.analysis
    per = []
    for c in chunks[:2000]:
        tokens = lexical_tokens(c.index_text, analysis)
        record = len(_chunk_record(c).encode("utf-8"))
        scalars = record + len(token_text(tokens)) + len("\n".join(c.section_path).encode()) + 3 * 64 + 3 * 8
        per.append(dim * 4 + HNSW_M * 2 * 4 + 8 * len(set(tokens)) + scalars)
    return statistics.mean(per)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=Path, default=REPO.parent / "shared" / "reports")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--uri", help="a running Milvus (token from $QA_MILVUS_TOKEN); default: start one")
    parser.add_argument(
        "--vectors-from", type=Path, metavar="INDEX", help="reuse the passage vectors of a local index"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="qa-bench-milvus-"))
    base = Config.load().updated({"index_dir": workdir / "local"})
    # The text versions: PDF reading would dominate both ingests and is the same for both.
    paths = sorted(args.reports.glob("*.txt")) if args.reports.is_dir() else [args.reports]
    embedder = ReusedVectors(load_embedder(base.embedding))
    texts = [
        match_form(c.index_text, base.index.analysis)
        for p in paths
        for c in chunk_document(read_document(p, base.reading), base.chunking)
    ]
    if args.vectors_from:
        reused = LocalIndex.open(args.vectors_from)
        for i, c in enumerate(reused.chunks):
            embedder.cache[match_form(c.index_text, base.index.analysis)] = np.asarray(
                reused.dense.vectors[i]
            )
        reused.close()
    embedder.encode_passages(texts)
    questions = _questions(args.questions)
    print(f"{len(paths)} reports, {len(texts)} chunks; embedding them once took {embedder.seconds:.1f} s")

    results: dict[str, dict[str, float]] = {}
    n, seconds = _ingest(base, paths, embedder)
    results["local"] = {"chunks": n, "ingest_s": seconds, **_latency(base, embedder, questions)}
    ram, disk = _local_bytes_per_chunk(base, embedder, questions)
    results["local"]["bytes_per_chunk"] = ram

    def milvus(uri: str) -> None:
        config = base.updated(
            {
                "index_dir": workdir / "milvus",
                "index.backend": "milvus",
                "index.uri": uri,
                "index.collection": "bench",
            }
        )
        n, seconds = _ingest(config, paths, embedder)
        results["milvus"] = {"chunks": n, "ingest_s": seconds, **_latency(config, embedder, questions)}
        results["milvus"]["bytes_per_chunk"] = _milvus_bytes_per_chunk(config, embedder.identity.dim)

    if args.uri:
        milvus(args.uri)
    else:
        with running_server(workdir / "milvus-data") as uri:
            milvus(uri)

    print(f"\n{'':28}{'local':>14}{'milvus':>14}")
    rows = [
        ("ingest, chunks/s", lambda r: f"{r['chunks'] / r['ingest_s']:.0f}"),
        ("candidates() p50 ms", lambda r: f"{r['store_p50']:.1f}"),
        ("candidates() p95 ms", lambda r: f"{r['store_p95']:.1f}"),
        ("search p50 ms", lambda r: f"{r['search_p50']:.1f}"),
        ("search p95 ms", lambda r: f"{r['search_p95']:.1f}"),
        ("bytes in memory per chunk", lambda r: f"{r['bytes_per_chunk']:.0f}"),
        ("10M chunks, GB in memory", lambda r: f"{r['bytes_per_chunk'] * PROJECTED / 1e9:.1f}"),
    ]
    for label, fmt in rows:
        print(f"{label:28}{fmt(results['local']):>14}{fmt(results['milvus']):>14}")
    print(
        f"(local index on disk: {disk:.0f} bytes per chunk, {disk * PROJECTED / 1e9:.1f} GB for 10M chunks)"
    )


if __name__ == "__main__":
    main()
