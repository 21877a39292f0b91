"""Learn the hybrid fusion weights (qa/fusion_weights.json) from tuning data only.

    .venv/bin/python -m evaluation.train_fusion [--shared ../shared] [--out qa/fusion_weights.json]

Tuning data, each part weighted equally:
- DRCD dev, the articles whose id hashes to the tuning half (`tuning_article`);
- CMRC 2018 trial (Simplified Chinese; no other use in the project);
- the development set's tune split, on the two sample reports (.txt);
- XQuAD en->zh dev, the articles whose title hashes to the tuning half (the others are held out;
  the held-out figures are printed at the end).

Every question is run through the product's own retriever to get its candidates; each candidate's
features (qa/fusion.py) are kept and a linear model is fitted with a listwise softmax loss: the
relevant passages should take the probability mass among the question's candidates. Indexes and
features are cached under --cache, so a second run only refits.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from evaluation.drcd import Paragraph, SquadSet, load_squad
from evaluation.judging import Judge
from evaluation.questions import Question, evenly_spaced, load_questions, select_split
from evaluation.runner import corpus_index, squad_index
from qa.config import Config
from qa.errors import QAError
from qa.fusion import FEATURES, FusionWeights, features
from qa.pipeline import Pipeline
from qa.query import clean_question
from qa.retrieval import query_terms

REPO = Path(__file__).resolve().parents[1]
K = 10  # the product's default number of passages; the stores are searched as deep as for it
L2 = 1e-3


def tuning_article(article_id: str) -> bool:
    """Fixed half of a set's articles used for tuning; the other half is never fitted on."""
    return hashlib.sha256(article_id.encode()).digest()[0] % 2 == 0


@dataclass
class Part:
    """One tuning source: per question, the feature matrix and which candidates are relevant."""

    name: str
    matrices: list[np.ndarray] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)
    held_out: list[bool] = field(default_factory=list)


def _article_half(squad: SquadSet, article_of: dict[str, str], keep_tuning: bool) -> SquadSet:
    paragraphs = [p for p in squad.paragraphs if tuning_article(article_of[p.doc_id]) == keep_tuning]
    chunk_ids = {p.chunk_id for p in paragraphs}
    questions = [q for q in squad.questions if set(q.gold_chunk_ids) & chunk_ids]
    return SquadSet(source=squad.source, paragraphs=paragraphs, questions=questions)


def _capped(squad: SquadSet, questions: int, paragraphs: int) -> SquadSet:
    """An evenly spaced slice of questions over their gold paragraphs plus siblings, up to a cap."""
    qs = evenly_spaced(squad.questions, questions)
    gold = {c for q in qs for c in q.gold_chunk_ids}
    keep: list[Paragraph] = [p for p in squad.paragraphs if p.chunk_id in gold]
    keep += [p for p in squad.paragraphs if p.chunk_id not in gold][: max(0, paragraphs - len(keep))]
    return SquadSet(source=squad.source, paragraphs=keep, questions=qs)


def _collect(name: str, pipe: Pipeline, questions: list[Question], held_out: set[str] | None = None) -> Part:
    part = Part(name)
    judge = Judge()
    retriever = pipe.retriever
    for q in questions:
        if not q.answerable:
            continue
        try:
            query = clean_question(q.question)
        except QAError:
            continue  # the set holds a few empty questions; the product refuses them too
        candidates = retriever.candidates(query, K)
        labels = np.array([judge.is_relevant(q, c.chunk) for c in candidates], dtype=bool)
        if not labels.any() or labels.all():
            continue  # nothing to learn: the ranking cannot be right or wrong
        part.matrices.append(features(query, query_terms(query), candidates))
        part.labels.append(labels)
        part.held_out.append(held_out is not None and q.id in held_out)
    return part


def _squad_part(name: str, squad: SquadSet, cache: Path, held_out: set[str] | None = None) -> Part:
    config = Config().updated({"index_dir": cache / name})
    squad_index(squad, config, cache / name)
    pipe = Pipeline.open(config)
    try:
        return _collect(name, pipe, squad.questions, held_out)
    finally:
        pipe.close()


def build_parts(shared: Path, cache: Path) -> list[Part]:
    datasets = shared / "datasets"
    parts: list[Part] = []

    drcd = load_squad(datasets / "drcd" / "DRCD_dev.json")
    drcd_articles = {p.doc_id: p.paragraph_id.split("-")[0] for p in drcd.paragraphs}
    parts.append(_squad_part("drcd", _capped(_article_half(drcd, drcd_articles, True), 400, 300), cache))

    cmrc = load_squad(datasets / "cmrc2018" / "cmrc2018_trial.json")
    parts.append(_squad_part("cmrc", _capped(cmrc, 300, 200), cache))

    # XQuAD: the whole set is indexed (retrieval competes over all 120 paragraphs, as `qa eval` does);
    # questions of held-out articles are collected for the final check but never fitted on.
    xquad = load_squad(datasets / "xquad" / "xquad_en2zh_dev.json")
    article = {p.chunk_id: p.article for p in xquad.paragraphs}
    held = {q.id for q in xquad.questions if not tuning_article(article[q.gold_chunk_ids[0]])}
    parts.append(_squad_part("xquad", xquad, cache, held_out=held))

    devset = select_split(load_questions(REPO / "evaluation" / "data" / "devset.jsonl"), "tune")
    config = Config().updated({"index_dir": cache / "devset"})
    corpus_index(sorted((shared / "reports").glob("*.txt")), config, cache / "devset", progress=False)
    pipe = Pipeline.open(config)
    try:
        parts.append(_collect("devset-tune", pipe, devset))
    finally:
        pipe.close()
    return parts


def _loss(theta: np.ndarray, groups: list[tuple[np.ndarray, np.ndarray, float]]) -> tuple[float, np.ndarray]:
    total, grad = 0.0, np.zeros_like(theta)
    for x, y, weight in groups:
        s = x @ theta
        s = s - s.max()
        p = np.exp(s)
        p /= p.sum()
        mass = p[y].sum()
        total -= weight * np.log(max(mass, 1e-300))
        # d(-log sum_{relevant} p)/dtheta = E_p[x] - E_{p | relevant}[x]
        grad += weight * (p @ x - (p[y] / mass) @ x[y])
    total += L2 * float(theta @ theta)
    grad += 2 * L2 * theta
    return total, grad


def fit(parts: list[Part]) -> np.ndarray:
    groups: list[tuple[np.ndarray, np.ndarray, float]] = []
    for part in parts:
        fitted = [(x, y) for x, y, h in zip(part.matrices, part.labels, part.held_out, strict=True) if not h]
        for x, y in fitted:
            groups.append((x, y, 1.0 / (len(fitted) * len(parts))))
    start = np.zeros(len(FEATURES))
    start[FEATURES.index("lexical_z")], start[FEATURES.index("dense_z")] = 0.7, 0.3  # today's rule
    result = minimize(_loss, start, args=(groups,), jac=True, method="L-BFGS-B")
    return np.asarray(result.x)


def _ranks(part: Part, theta: np.ndarray, held_out: bool) -> np.ndarray:
    ranks = []
    for x, y, h in zip(part.matrices, part.labels, part.held_out, strict=True):
        if h != held_out:
            continue
        s = x @ theta
        ranks.append(int((s > s[y].max()).sum()) + 1)
    return np.array(ranks)


def _print_table(parts: list[Part], rules: dict[str, np.ndarray]) -> None:
    print("| part | questions | rule | R@1 | R@5 | MRR@10 |\n| --- | --- | --- | --- | --- | --- |")
    for part in parts:
        for held_out in (False, True):
            for rule, theta in rules.items():
                r = _ranks(part, theta, held_out)
                if not len(r):
                    continue
                label = f"{part.name}{' (held out)' if held_out else ''}"
                mrr = float(np.where(r <= 10, 1.0 / r, 0.0).mean())
                r1, r5 = (r <= 1).mean(), (r <= 5).mean()
                print(f"| {label} | {len(r)} | {rule} | {r1:.3f} | {r5:.3f} | {mrr:.3f} |")


def _unit(name: str, value: float = 1.0) -> np.ndarray:
    theta = np.zeros(len(FEATURES))
    theta[FEATURES.index(name)] = value
    return theta


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/reportqa-train-fusion"))
    parser.add_argument("--out", type=Path, default=REPO / "qa" / "fusion_weights.json")
    args = parser.parse_args()

    started = time.perf_counter()
    parts = build_parts(args.shared, args.cache)
    for part in parts:
        print(f"{part.name}: {len(part.matrices)} questions ({sum(part.held_out)} held out)")
    theta = fit(parts)
    zscore = _unit("lexical_z", 0.7) + _unit("dense_z", 0.3)
    _print_table(
        parts, {"dense": _unit("dense_z"), "bm25": _unit("lexical_z"), "zscore 0.7": zscore, "learned": theta}
    )
    weights = FusionWeights(
        features=FEATURES,
        weights=tuple(round(float(w), 6) for w in theta),
        trained_on="DRCD dev tuning-half articles, CMRC 2018 trial, devset tune split, "
        "XQuAD en->zh dev tuning-half articles (python -m evaluation.train_fusion)",
    )
    args.out.write_text(weights.to_json() + "\n", encoding="utf-8")
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
