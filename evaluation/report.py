"""Writes one run to disk: report.md, results.json, per_question.csv and the PNG charts."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from evaluation.calibration import Calibration
from evaluation.metrics import (
    AnswerScores,
    Breakdowns,
    RefusalScores,
    ReliabilityBin,
    RetrievalScores,
    mode_breakdowns,
)
from evaluation.plots import ACCURACY_PNG, LATENCY_PNG, RECALL_PNG, RELIABILITY_PNG, write_plots
from evaluation.summary import EvalRun

CSV_COLUMNS = (
    "id",
    "mode",
    "lang",
    "type",
    "split",
    "condition",
    "answerable",
    "rank",
    "search_ms",
    "verdict",
    "abstained",
    "confidence",
    "citations",
    "relevant_citations",
    "ask_ms",
    "question",
    "shown_answer",
    "error",
)
MAX_MISSES_LISTED = 40


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _cell(text: str, limit: int = 120) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _headline_k(ks: Sequence[int]) -> int:
    return 5 if 5 in ks else max(ks)


def _retrieval_row(name: str, s: RetrievalScores, ks: Sequence[int]) -> list[str]:
    return [name, str(s.n), *(_pct(s.recall[k]) for k in ks), _pct(s.mrr_at_10), _pct(s.ndcg_at_10)]


def _answer_row(name: str, a: AnswerScores) -> list[str]:
    return [
        name,
        str(a.n_answerable),
        _pct(a.answer_hit),
        f"{_pct(a.citation_precision)} ({a.n_citations})",
        str(a.n_unanswerable),
        _pct(a.unanswerable_refused),
        _pct(a.answerable_refused),
        _pct(a.accuracy),
        str(a.errors),
    ]


_ANSWER_HEADER = (
    "",
    "answerable",
    "answer hit",
    "citation precision (citations)",
    "unanswerable",
    "unanswerable refused",
    "answerable wrongly refused",
    "accuracy",
    "errors",
)


_REFUSAL_HEADER = ("near-miss kind", "unanswerable", "refused", "refusal rate", "errors")


def _refusal_row(kind: str, r: RefusalScores) -> list[str]:
    return [kind, str(r.n), str(r.refused), _pct(r.refusal_rate), str(r.errors)]


def split_counts(run: EvalRun) -> dict[str, int]:
    """Questions per split (tune / check) in this run; empty when the set is not split."""
    ids: dict[str, set[str]] = {}
    for o in run.outcomes:
        if o.split is not None:
            ids.setdefault(o.split, set()).add(o.question_id)
    return {name: len(ids[name]) for name in sorted(ids, reverse=True)}  # tune before check


def split_label(run: EvalRun) -> str:
    """The run's part: "check only" when limited to one, "tune 151, check 121" for both, "" for none."""
    counts = split_counts(run)
    if len(counts) == 1:
        return f"{next(iter(counts))} only"
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def breakdowns(run: EvalRun) -> dict[str, Breakdowns]:
    """Per mode: figures by split and refusals by near-miss kind, from the per-question outcomes."""
    return {m.mode: mode_breakdowns(run.outcomes, m.mode, run.info.ks) for m in run.modes}


def _calibration_lines(mode: str, c: Calibration) -> list[str]:
    lines = [
        f"### Abstention trade-off ({mode})",
        "",
        f"Refuse when confidence < threshold; {c.n_answerable} answerable and {c.n_unanswerable} "
        "unanswerable questions.",
        "",
    ]
    rows = [
        [f"{r.threshold:.2f}", f"{r.answerable_refused:.3f}", f"{r.unanswerable_answered:.3f}"]
        for r in c.rows
    ]
    lines += _table(("threshold", "answerable wrongly refused", "unanswerable wrongly answered"), rows)
    if c.suggested is not None:
        s = c.suggested
        lines += [
            f"Suggested threshold **{s.threshold:.4f}**: answerable wrongly refused "
            f"{s.answerable_refused:.3f} (limit {c.max_answerable_refused:.2f}), unanswerable wrongly "
            f"answered {s.unanswerable_answered:.3f}.",
            "",
        ]
    return lines


# A bin this full is expected to match its observed accuracy within RELIABILITY_TOLERANCE.
RELIABILITY_MIN_QUESTIONS = 30
RELIABILITY_TOLERANCE = 0.10


def _reliability_lines(mode: str, bins: Sequence[ReliabilityBin]) -> list[str]:
    lines = [
        f"### Reliability ({mode})",
        "",
        "Questions by confidence, answered or refused, and how often the answer (shown or withheld) was "
        f"right; unanswerable questions count as wrong. Bins with {RELIABILITY_MIN_QUESTIONS}+ "
        f"questions should be within {RELIABILITY_TOLERANCE:.2f} of their mean confidence "
        "(reliability.png).",
        "",
    ]
    rows = [
        [
            f"{b.low:.1f}-{b.high:.1f}",
            str(b.n),
            f"{b.mean_confidence:.3f}",
            f"{b.accuracy:.3f}",
            f"{b.gap:.3f}"
            + (" (over)" if b.n >= RELIABILITY_MIN_QUESTIONS and b.gap > RELIABILITY_TOLERANCE else ""),
        ]
        for b in bins
    ]
    lines += _table(("confidence", "questions", "mean confidence", "observed accuracy", "gap"), rows)
    return lines


def render_markdown(run: EvalRun) -> str:
    info = run.info
    ks = info.ks
    hk = _headline_k(ks)
    n_asked = len({o.question_id for o in run.outcomes if o.asked})
    parts = breakdowns(run)
    label = split_label(run)
    out: list[str] = [
        f"# Evaluation: {info.set_name}",
        "",
        f"- Set: `{info.set_path}` ({info.set_kind}), {info.n_questions} questions "
        f"({info.n_answerable} answerable, {info.n_unanswerable} unanswerable)",
        f"- Index: `{info.index_dir}`, {info.n_documents} documents, {info.n_passages} passages"
        + (f" (built in {info.index_seconds:.0f} s)" if info.index_seconds is not None else ""),
        f"- Retrieval modes: {', '.join(info.modes)} (top {info.search_depth} retrieved); answers asked in: "
        f"{', '.join(info.answer_modes) or 'none'} ({n_asked} questions)",
        *([f"- Split: {label} (a fixed hash of each question id)"] if label else []),
        f"- Started {info.started_at}, took {info.seconds:.0f} s",
        "",
        "## Retrieval",
        "",
        "Answerable questions. A passage is relevant when it is the gold paragraph (SQuAD-style sets) or "
        "contains an evidence or answer string of the question, from the report it names "
        "(whitespace-, width- and script-insensitive).",
        "",
    ]
    header = ("mode", "n", *(f"Recall@{k}" for k in ks), "MRR@10", "nDCG@10")
    out += _table(header, [_retrieval_row(m.mode, m.retrieval, ks) for m in run.modes])

    grouped_retrieval = [
        ("language", {m.mode: m.retrieval_by_lang for m in run.modes}),
        ("question type", {m.mode: m.retrieval_by_type for m in run.modes}),
        ("split", {mode: b.retrieval_by_split for mode, b in parts.items()}),
    ]
    for title, by_mode in grouped_retrieval:
        groups = sorted({g for by in by_mode.values() for g in by}, reverse=title == "split")
        # One split alone is still worth a line: it says which part the figures are for.
        if len(groups) < (1 if title == "split" else 2):
            continue
        out += [f"### Recall@{hk} by {title}", ""]
        rows = []
        for m in run.modes:
            by = by_mode[m.mode]
            rows.append(
                [
                    m.mode,
                    *(
                        f"{_pct(by[g].recall[hk])} ({by[g].n})" if g in by and by[g].n else "–"
                        for g in groups
                    ),
                ]
            )
        out += _table(("mode", *groups), rows)

    asked = [m for m in run.modes if m.answers is not None]
    if asked:
        out += [
            "## Answers",
            "",
            "Answer hit: the shown answer contains an acceptable answer (citation marks removed; "
            "whitespace- and Simplified/Traditional-insensitive). Citation precision: shown citations of "
            "answered answerable questions whose passage is relevant. Accuracy: hit for answerable "
            "questions, refusal for unanswerable ones.",
            "",
        ]
        out += _table(_ANSWER_HEADER, [_answer_row(m.mode, m.answers) for m in asked if m.answers])
        for title, attr in (("question type", "answers_by_type"), ("language", "answers_by_lang")):
            for m in asked:
                by = getattr(m, attr)
                if len(by) < 2:
                    continue
                out += [f"### Answers by {title} ({m.mode})", ""]
                out += _table(_ANSWER_HEADER, [_answer_row(g, s) for g, s in by.items()])
        for m in asked:
            by_split = parts[m.mode].answers_by_split
            if by_split:
                out += [f"### Answers by split ({m.mode})", ""]
                rows = [_answer_row(g, by_split[g]) for g in sorted(by_split, reverse=True)]
                out += _table(_ANSWER_HEADER, rows)
        for m in asked:
            by_kind = parts[m.mode].refusal_by_condition
            if by_kind:
                out += [
                    f"### Refusal by near-miss kind ({m.mode})",
                    "",
                    "Unanswerable questions grouped by the one condition they change in a fact the "
                    "reports do state; refused is the right outcome.",
                    "",
                ]
                out += _table(_REFUSAL_HEADER, [_refusal_row(k, r) for k, r in by_kind.items()])

    out += ["## Latency", "", "Wall-clock milliseconds per call, after one warm-up call per mode.", ""]
    rows = []
    for m in run.modes:
        ask = m.ask_latency
        rows.append(
            [
                m.mode,
                f"{m.search_latency.p50_ms:.1f}",
                f"{m.search_latency.p95_ms:.1f}",
                f"{ask.p50_ms:.1f}" if ask else "–",
                f"{ask.p95_ms:.1f}" if ask else "–",
            ]
        )
    out += _table(("mode", "search p50", "search p95", "ask p50", "ask p95"), rows)

    for m in asked:
        if m.reliability:
            out += _reliability_lines(m.mode, m.reliability)
        if m.calibration is not None and m.calibration.n_unanswerable:
            out += _calibration_lines(m.mode, m.calibration)

    if run.floors_checked is not None:
        out += [f"## Floors ({run.floors_checked})", ""]
        out += [f"- FAIL {f}" for f in run.floor_failures] or ["All floors met."]
        out += [""]

    if run.verbatim_problems or run.unreachable:
        out += ["## Problems with the set", ""]
        if run.unreachable:
            out += [
                f"{len(run.unreachable)} answerable questions have no relevant passage anywhere in the index "
                "(evidence split across passages, or missing): " + ", ".join(run.unreachable),
                "",
            ]
        out += [f"- {_cell(p, 200)}" for p in run.verbatim_problems] + [""]

    focus = next((m.mode for m in asked if m.mode == "hybrid"), asked[0].mode if asked else None)
    if focus is not None:
        misses = [o for o in run.outcomes if o.mode == focus and o.asked and not o.correct]
        out += [f"## Wrong answers ({focus}, {len(misses)})", ""]
        rows = [
            [
                o.question_id,
                o.verdict,
                "–" if o.rank is None else str(o.rank),
                _cell(o.question, 60),
                _cell(o.error or o.shown_answer, 100),
            ]
            for o in misses[:MAX_MISSES_LISTED]
        ]
        out += _table(("id", "verdict", "rank", "question", "shown answer"), rows)
        if len(misses) > MAX_MISSES_LISTED:
            out += [f"… and {len(misses) - MAX_MISSES_LISTED} more in per_question.csv.", ""]

    out += [
        "## Charts",
        "",
        f"![Recall@k per mode]({RECALL_PNG})",
        "",
        f"![Answer accuracy by type and language]({ACCURACY_PNG})",
        "",
        f"![Latency]({LATENCY_PNG})",
        "",
    ]
    if any(m.reliability for m in run.modes):
        out += [f"![Reliability: confidence against observed accuracy]({RELIABILITY_PNG})", ""]
    return "\n".join(out)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def results_json(run: EvalRun) -> dict[str, Any]:
    """Every summary figure of the run (per-question outcomes live in per_question.csv)."""
    parts = breakdowns(run)
    return {
        "info": _jsonable(run.info),
        "modes": {m.mode: {**_jsonable(m), **_jsonable(parts[m.mode])} for m in run.modes},
        "split": split_counts(run),
        "verbatim_problems": run.verbatim_problems,
        "unreachable": run.unreachable,
        "floors_checked": run.floors_checked,
        "floor_failures": run.floor_failures,
    }


def write_csv(run: EvalRun, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for o in run.outcomes:
            writer.writerow(
                [
                    o.question_id,
                    o.mode,
                    o.lang,
                    o.type,
                    o.split or "",
                    o.condition or "",
                    int(o.answerable),
                    "" if o.rank is None else o.rank,
                    f"{o.search_ms:.2f}",
                    o.verdict,
                    int(o.abstained) if o.asked else "",
                    "" if o.confidence is None else f"{o.confidence:.4f}",
                    o.citations if o.asked else "",
                    o.relevant_citations if o.asked else "",
                    "" if o.ask_ms is None else f"{o.ask_ms:.2f}",
                    o.question,
                    o.shown_answer,
                    o.error or "",
                ]
            )


def write_report(run: EvalRun, out_dir: Path, *, plots: bool = True) -> list[Path]:
    """Write report.md, results.json, per_question.csv and (optionally) the charts; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "report.md", out_dir / "results.json", out_dir / "per_question.csv"]
    paths[0].write_text(render_markdown(run), encoding="utf-8")
    paths[1].write_text(json.dumps(results_json(run), ensure_ascii=False, indent=2), encoding="utf-8")
    write_csv(run, paths[2])
    if plots:
        paths += write_plots(run, out_dir)
    return paths
