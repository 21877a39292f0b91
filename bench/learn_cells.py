"""Learn qa/cells.py's ROW_COVERAGE from the development set's tune part.

A table question may name its row in other words of the same length (网络 for 網路). The row then
counts as named when the question holds a stretch as long as the row's label that agrees with it
in at least ROW_COVERAGE of its characters. This script reads every tune table question's table
(from the .txt twin of its report, the ground truth) and, for the questions that name no row
verbatim, the row whose label the question comes closest to: taking it is a gain when it is the
right row and a loss otherwise (the question names the row in English, by an alias, or not at
all). The threshold is the one with the most gains less losses, set midway to the next lower
agreement seen.

    .venv/bin/python bench/learn_cells.py ../shared/reports
"""

from __future__ import annotations

from corpus.tables import read_table_text
from evaluation.matching import fold
from evaluation.thresholds import learning_arguments, print_threshold, text_twin_chunks, tune_table_questions
from qa.cells import label_cells, window_agreement


def main() -> None:
    args = learning_arguments(__doc__)
    chunks = text_twin_chunks(args.reports)
    seen: list[tuple[float, bool]] = []  # (closest agreement, whether that row is the right one)
    for q in tune_table_questions(args.set):
        if q["doc"] not in chunks:
            continue
        evidence = fold(q["evidence"][0])
        for chunk in chunks[q["doc"]]:
            if chunk.kind != "table" or evidence not in fold(chunk.text):
                continue
            table = read_table_text(chunk.text, chunk.table_header)
            if table is None:
                continue
            rows = [
                (max((window_agreement(k, q["question"]) for _, k in label_cells(r)), default=0.0), r)
                for r in table.rows
            ]
            best, row = max(rows, key=lambda item: item[0])
            if best == 1.0 or best == 0.0:
                continue  # named verbatim (no guess needed) or not at all (no guess made)
            right = evidence in fold("\t".join(row))
            seen.append((best, right))
            print(f"{q['id']}: closest row {'right' if right else 'wrong'} at {best:.3f}")
    print_threshold(seen, "ROW_COVERAGE", "1.0", 3)


if __name__ == "__main__":
    main()
