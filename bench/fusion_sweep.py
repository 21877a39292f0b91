"""Compare lexical analyses and fusion rules on a SQuAD-style set (DRCD dev) in one run.

    .venv/bin/python bench/fusion_sweep.py [--set ../shared/datasets/drcd/DRCD_dev.json] [--limit N]

Scores every question against every paragraph once (BM25 for each analysis, cosine with the
default model), then evaluates each fusion rule on those score matrices, so the rules are compared
on identical inputs. Prints Recall@1/5 and MRR@10 per rule; the product's defaults in
qa/retrieval.py and index/analysis.py come from this table.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import time
from collections.abc import Callable
from pathlib import Path

import bm25s
import numpy as np

from corpus import matching_text, to_canonical_script
from evaluation.drcd import load_squad
from index.analysis import AnalysisOptions, lexical_tokens, match_form
from index.builder import IndexOptions
from index.embedding import EmbeddingConfig, load_embedder

REPO = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3400-\u9fff]")


def _chars(text: str, bigrams: bool) -> list[str]:
    canon = to_canonical_script(matching_text(text))
    uni = [c for c in canon if CJK.match(c) or c.isalnum()]
    out = list(uni)
    if bigrams:
        out += [
            canon[i : i + 2] for i in range(len(canon) - 1) if CJK.match(canon[i]) and CJK.match(canon[i + 1])
        ]
    return out


ANALYSES: dict[str, Callable[[str], list[str]]] = {
    "words+bigrams+unigrams (product)": lambda t: lexical_tokens(t, AnalysisOptions()),
    "words+bigrams": lambda t: lexical_tokens(t, AnalysisOptions(char_unigrams=False)),
    "unigrams+bigrams": lambda t: _chars(t, bigrams=True),
}


def bm25_matrix(docs: list[str], queries: list[str], analyse: Callable[[str], list[str]]) -> np.ndarray:
    options = IndexOptions()
    model = bm25s.BM25(k1=options.bm25_k1, b=options.bm25_b)
    model.index([analyse(d) or ["\x00"] for d in docs], show_progress=False)
    vocab = model.vocab_dict
    out = np.zeros((len(queries), len(docs)), dtype=np.float32)
    for i, q in enumerate(queries):
        ids = [vocab[t] for t in analyse(q) if t in vocab]
        if ids:
            out[i] = model.get_scores_from_ids(ids)
    return out


def zscore_rows(m: np.ndarray, top: np.ndarray | None = None) -> np.ndarray:
    if top is None:
        mu, sd = m.mean(1, keepdims=True), m.std(1, keepdims=True)
    else:
        sub = np.take_along_axis(m, top, 1)
        mu, sd = sub.mean(1, keepdims=True), sub.std(1, keepdims=True)
    return (m - mu) / np.maximum(sd, 1e-9)


def ranks_of(scores: np.ndarray, gold: np.ndarray) -> np.ndarray:
    gold_scores = scores[np.arange(len(gold)), gold]
    return (scores > gold_scores[:, None]).sum(1) + 1


def report(name: str, r: np.ndarray) -> None:
    mrr = np.where(r <= 10, 1.0 / r, 0.0).mean()
    print(f"| {name} | {(r <= 1).mean():.4f} | {(r <= 5).mean():.4f} | {mrr:.4f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--set", type=Path, default=REPO.parent / "shared" / "datasets" / "drcd" / "DRCD_dev.json"
    )
    parser.add_argument("--limit", type=int)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/reportqa-sweep"))
    args = parser.parse_args()

    squad = load_squad(args.set, limit=args.limit)
    docs = [f"{p.article}\n{p.text}" for p in squad.paragraphs]
    index_of = {p.chunk_id: i for i, p in enumerate(squad.paragraphs)}
    qs = [q for q in squad.questions if q.answerable]
    queries = [q.question for q in qs]
    gold = np.array([index_of.get(q.gold_chunk_ids[0], -1) if q.gold_chunk_ids else -1 for q in qs])
    keep = gold >= 0
    print(f"{len(docs)} paragraphs, {int(keep.sum())} questions")

    embedder = load_embedder(EmbeddingConfig())
    args.cache.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(("\n".join(docs) + "\0" + "\n".join(queries)).encode()).hexdigest()[:12]
    dpath, qpath = args.cache / f"d-{key}.npy", args.cache / f"q-{key}.npy"
    t0 = time.perf_counter()
    if dpath.exists() and qpath.exists():
        dvec, qvec = np.load(dpath), np.load(qpath)
    else:
        opts = AnalysisOptions()
        dvec = embedder.encode_passages([match_form(d, opts) for d in docs], show_progress=True)
        qvec = np.vstack([embedder.encode_queries([match_form(q, opts)]) for q in queries])
        np.save(dpath, dvec)
        np.save(qpath, qvec)
    print(f"embedding: {time.perf_counter() - t0:.0f} s")
    dense = (qvec @ dvec.T)[keep]
    g = gold[keep]

    print("| rule | R@1 | R@5 | MRR@10 |\n| --- | --- | --- | --- |")
    report("dense", ranks_of(dense, g))
    for aname, analyse in ANALYSES.items():
        lex = bm25_matrix(docs, queries, analyse)[keep]
        report(f"bm25 {aname}", ranks_of(lex, g))
        depth = 100
        top_l = np.argsort(-lex, 1)[:, :depth]
        top_d = np.argsort(-dense, 1)[:, :depth]
        cand = np.concatenate([top_l, top_d], 1)
        zl, zd = zscore_rows(lex, cand), zscore_rows(dense, cand)
        for w in (0.5, 0.6, 0.7, 0.8, 0.9):
            report(f"zscore w={w} {aname}", ranks_of(w * zl + (1 - w) * zd, g))
        rl = np.argsort(np.argsort(-lex, 1), 1) + 1
        rd = np.argsort(np.argsort(-dense, 1), 1) + 1
        for k in (10, 60):
            report(f"rrf k={k} {aname}", ranks_of(1 / (k + rl) + 1 / (k + rd), g))


if __name__ == "__main__":
    main()
