"""PNG charts of one run: recall@k per mode, answer accuracy by group, latency distributions."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter

from evaluation.summary import EvalRun

RECALL_PNG = "recall_at_k.png"
ACCURACY_PNG = "answer_accuracy.png"
LATENCY_PNG = "latency.png"
RELIABILITY_PNG = "reliability.png"


def plot_recall(run: EvalRun, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for summary in run.modes:
        ks = sorted(summary.retrieval.recall)
        ax.plot(ks, [summary.retrieval.recall[k] for k in ks], marker="o", label=summary.mode)
    ax.set_xscale("log")
    ax.set_xticks(list(run.info.ks), [str(k) for k in run.info.ks])
    ax.set_xlabel("k")
    ax.set_ylabel("Recall@k")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend()
    ax.set_title(f"{run.info.set_name}: Recall@k ({run.info.n_answerable} answerable questions)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_accuracy(run: EvalRun, path: Path) -> None:
    """Grouped bars: hit rate (answerable) or refusal rate (unanswerable) by type and by language."""
    asked = [m for m in run.modes if m.answers is not None]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), squeeze=False)
    for ax, attr, title in (
        (axes[0][0], "answers_by_type", "by question type"),
        (axes[0][1], "answers_by_lang", "by language"),
    ):
        groups = sorted({g for m in asked for g in getattr(m, attr)})
        width = 0.8 / max(len(asked), 1)
        x = np.arange(len(groups))
        for i, summary in enumerate(asked):
            by_group = getattr(summary, attr)
            values = [(by_group[g].accuracy or 0.0) if g in by_group else 0.0 for g in groups]
            ax.bar(x + i * width, values, width, label=summary.mode)
        ax.set_xticks(x + width * (len(asked) - 1) / 2, groups, rotation=20)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("answer accuracy")
        ax.set_title(title)
        ax.grid(True, axis="y", alpha=0.3)
        if asked:
            ax.legend()
    fig.suptitle(f"{run.info.set_name}: answered correctly (unanswerable: refused)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_latency(run: EvalRun, path: Path) -> None:
    series: list[tuple[str, list[float]]] = []
    for summary in run.modes:
        mine = [o for o in run.outcomes if o.mode == summary.mode]
        series.append((f"search\n{summary.mode}", [o.search_ms for o in mine]))
        asked = [o.ask_ms for o in mine if o.asked and o.ask_ms is not None]
        if asked:
            series.append((f"ask\n{summary.mode}", asked))
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(series)), 4))
    ax.boxplot([values or [0.0] for _, values in series], showfliers=True)
    ax.set_xticks(range(1, len(series) + 1), [label for label, _ in series])
    ax.set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.set_ylabel("milliseconds (log scale)")
    ax.set_title(f"{run.info.set_name}: latency per call")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_reliability(run: EvalRun, path: Path) -> None:
    """Observed accuracy against mean confidence per bin (the diagonal is perfect calibration),
    with each bin's question count written beside its point."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
    for summary in run.modes:
        bins = summary.reliability
        if not bins:
            continue
        xs = [b.mean_confidence for b in bins]
        ys = [b.accuracy for b in bins]
        ax.plot(xs, ys, marker="o", label=summary.mode)
        for b in bins:
            ax.annotate(
                str(b.n), (b.mean_confidence, b.accuracy), textcoords="offset points", xytext=(4, -10)
            )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence (bin mean)")
    ax.set_ylabel("observed accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    ax.set_title(f"{run.info.set_name}: reliability (n per bin)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_plots(run: EvalRun, out_dir: Path) -> list[Path]:
    """Write the charts into `out_dir` and return their paths."""
    paths = [out_dir / RECALL_PNG, out_dir / ACCURACY_PNG, out_dir / LATENCY_PNG]
    plot_recall(run, paths[0])
    plot_accuracy(run, paths[1])
    plot_latency(run, paths[2])
    if any(m.reliability for m in run.modes):
        paths.append(out_dir / RELIABILITY_PNG)
        plot_reliability(run, paths[-1])
    return paths
