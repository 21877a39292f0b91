"""`qa eval`: registered with the `qa` command through the `reportqa.commands` entry point."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from qa.config import Config


def run(args: argparse.Namespace, config: Config) -> int:
    from evaluation.runner import run_eval_command  # the pipeline loads only when the command runs

    return run_eval_command(args, config)


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    from evaluation.runner import add_eval_arguments

    p = sub.add_parser(
        "eval",
        help="score retrieval, answers and abstention on a question set (JSONL or DRCD)",
        description="Runs every question through search and ask in each mode and writes report.md, "
        "results.json, per_question.csv and charts to --out.",
    )
    add_eval_arguments(p)
    common(p)
    p.set_defaults(func=run)
