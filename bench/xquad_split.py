"""XQuAD figures of a `qa eval` run split by the fusion's article halves (tuning / held out).

    .venv/bin/python bench/xquad_split.py OUT/per_question.csv [--set XQUAD_JSON]

The learned fusion is fitted on the XQuAD articles whose title hashes to the tuning half
(evaluation/train_fusion.py, `tuning_article`); the held-out rows are the honest figures.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path

from evaluation.train_fusion import tuning_article

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("per_question", type=Path)
    parser.add_argument(
        "--set", type=Path, default=REPO.parent / "shared" / "datasets" / "xquad" / "xquad_en2zh_dev.json"
    )
    args = parser.parse_args()

    article_of = {
        qa["id"]: article["title"]
        for article in json.loads(args.set.read_text(encoding="utf-8"))["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    }
    ranks: dict[tuple[str, str], list[float]] = defaultdict(list)
    hits: dict[tuple[str, str], list[int]] = defaultdict(list)
    with args.per_question.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            half = "tuning" if tuning_article(article_of[row["id"]]) else "held out"
            ranks[(row["mode"], half)].append(float(row["rank"]) if row["rank"] else float("inf"))
            if row["verdict"] in ("hit", "miss", "wrongly-refused"):
                hits[(row["mode"], half)].append(row["verdict"] == "hit")
    print("| mode | articles | questions | R@1 | R@5 | MRR@10 | answer hit (answered) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (mode, half), r in sorted(ranks.items()):
        n = len(r)
        r1 = sum(x <= 1 for x in r) / n
        r5 = sum(x <= 5 for x in r) / n
        mrr = sum(1 / x for x in r if x <= 10) / n
        h = hits.get((mode, half))
        hit = f"{sum(h) / len(h):.3f} ({len(h)})" if h else ""
        print(f"| {mode} | {half} | {n} | {r1:.3f} | {r5:.3f} | {mrr:.3f} | {hit} |")


if __name__ == "__main__":
    main()
