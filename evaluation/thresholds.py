"""The one rule for learning a threshold from scored guesses (bench/learn_cells.py, bench/learn_names.py)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.chunking import chunk_document
from corpus.reading import ReadingConfig, read_document
from corpus.types import Chunk


@dataclass(frozen=True)
class Threshold:
    value: float  # midway between the best cut and the next lower score seen
    gain: int  # right guesses less wrong ones kept at that cut
    cut: float  # the lowest score kept
    lower: float  # the next lower score seen (0.0 when none)


def gainful_threshold(seen: Sequence[tuple[float, bool]]) -> Threshold | None:
    """The cut keeping the most right (score, True) less wrong (score, False) guesses, set midway
    to the next lower score; None when no cut keeps more right than wrong guesses."""
    values = sorted({v for v, _ in seen}, reverse=True)
    gains = [sum(1 if right else -1 for v, right in seen if v >= t) for t in values]
    if not values or max(gains) <= 0:
        return None
    k = gains.index(max(gains))
    lower = values[k + 1] if k + 1 < len(values) else 0.0
    return Threshold((values[k] + lower) / 2, gains[k], values[k], lower)


# --- what the learning scripts share: the tune part's table questions and the reports' .txt twins ---


def learning_arguments(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """`reports` (the folder of the sample reports) and `--set` (the development set)."""
    parser = argparse.ArgumentParser(description=description.split("\n")[0])
    parser.add_argument("reports", type=Path)
    parser.add_argument("--set", type=Path, default=Path(__file__).parent / "data" / "devset.jsonl")
    return parser.parse_args(argv)


def tune_table_questions(path: Path) -> list[dict[str, Any]]:
    """The tune part's table questions of a JSONL set, as written (the threshold is learned on these only)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [q for q in rows if q["type"] == "table" and q["split"] == "tune"]


def text_twin_chunks(reports: Path) -> dict[str, list[Chunk]]:
    """Chunks of each report's .txt twin (its tables are the ground truth), by report name."""
    config = ReadingConfig(cache_dir=None)
    return {p.stem: chunk_document(read_document(p, config)) for p in sorted(reports.glob("*.txt"))}


def print_threshold(seen: Sequence[tuple[float, bool]], name: str, none_value: str, digits: int) -> None:
    """Print the learned threshold as the constant to ship (or the value that keeps nothing)."""
    found = gainful_threshold(seen)
    if found is None:
        print(f"no threshold gains: {name} = {none_value}")
        return
    cut, lower = f"{found.cut:.{digits}f}", f"{found.lower:.{digits}f}"
    print(f"gains less losses {found.gain} at >= {cut}; next lower score {lower}")
    print(f"{name} = {found.value:.2f}")
