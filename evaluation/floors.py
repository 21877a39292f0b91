"""Committed quality floors (evaluation/floors.toml) and the check against a run.

The file has one table per set and mode, e.g.::

    [devset.hybrid]
    "recall@5" = 0.90
    "recall@5[en]" = 0.85          # a metric restricted to one language (or question type)
    answer_hit = 0.80
    answerable_refused = 0.10      # a ceiling: lower is better

Metric names: recall@K, mrr@10, ndcg@10, answer_hit, citation_precision, unanswerable_refused,
accuracy, and the ceiling answerable_refused; any of them may carry a `[group]` suffix naming a
language (zh-Hant, zh-Hans, en) or question type.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from evaluation.metrics import AnswerScores, RetrievalScores
from evaluation.summary import EvalRun, ModeSummary

DEFAULT_FLOORS = Path(__file__).with_name("floors.toml")
CEILINGS = frozenset({"answerable_refused"})
_NAME = re.compile(r"^(?P<metric>[a-z_]+(?:@\d+)?)(?:\[(?P<group>[^\]]+)\])?$")
_ANSWER_METRICS = (
    "answer_hit",
    "citation_precision",
    "unanswerable_refused",
    "answerable_refused",
    "accuracy",
)


class FloorsError(ValueError):
    """A floors file or section that cannot be used."""


def load_floors(name: str, path: Path = DEFAULT_FLOORS) -> dict[str, dict[str, float]]:
    """Floors of one set, as {mode: {metric: value}}."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FloorsError(f"{path.name}: cannot read floors ({exc})") from None
    section = data.get(name)
    if not isinstance(section, dict) or not section:
        raise FloorsError(f"{path.name}: no floors for {name!r} (sections: {', '.join(sorted(data))})")
    floors: dict[str, dict[str, float]] = {}
    for mode, metrics in section.items():
        if not isinstance(metrics, dict) or not all(isinstance(v, int | float) for v in metrics.values()):
            raise FloorsError(f"{path.name}: [{name}.{mode}] must map metric names to numbers")
        floors[mode] = {metric: float(value) for metric, value in metrics.items()}
    return floors


def metric_value(summary: ModeSummary, name: str) -> float | None:
    """The value of a floor's metric in one mode's summary; None when the run did not measure it."""
    match = _NAME.match(name)
    if not match:
        raise FloorsError(f"unknown metric name {name!r}")
    metric, group = match["metric"], match["group"]
    if metric.startswith(("recall@", "mrr@", "ndcg@")):
        scores: RetrievalScores | None = summary.retrieval
        if group is not None:
            scores = summary.retrieval_by_lang.get(group) or summary.retrieval_by_type.get(group)
        if scores is None or scores.n == 0:
            return None
        if metric.startswith("recall@"):
            return scores.recall.get(int(metric.split("@")[1]))
        if metric == "mrr@10":
            return scores.mrr_at_10
        if metric == "ndcg@10":
            return scores.ndcg_at_10
        raise FloorsError(f"unknown metric name {name!r} (MRR and nDCG are measured at 10)")
    if metric in _ANSWER_METRICS:
        answers: AnswerScores | None = summary.answers
        if group is not None:
            answers = summary.answers_by_lang.get(group) or summary.answers_by_type.get(group)
        return None if answers is None else getattr(answers, metric)
    raise FloorsError(f"unknown metric name {name!r}")


def check_floors(run: EvalRun, floors: dict[str, dict[str, float]]) -> list[str]:
    """One line per floor the run falls below (or ceiling it exceeds, or metric it did not measure)."""
    failures: list[str] = []
    for mode, metrics in floors.items():
        try:
            summary = run.mode(mode)
        except KeyError:
            failures.append(f"{mode}: mode not evaluated, cannot check {len(metrics)} floors")
            continue
        for name, bound in metrics.items():
            value = metric_value(summary, name)
            base = _NAME.match(name)
            ceiling = base is not None and base["metric"] in CEILINGS
            if value is None:
                failures.append(f"{mode} {name}: not measured in this run")
            elif ceiling and value > bound:
                failures.append(f"{mode} {name} = {value:.4f} is above the ceiling {bound:.4f}")
            elif not ceiling and value < bound:
                failures.append(f"{mode} {name} = {value:.4f} is below the floor {bound:.4f}")
    return failures
