"""Learn qa/names.py's NAME_SALIENCE from the development set's tune part.

An English table question names its row or column in English ("Ministry of Culture"); each run of
its content words is compared with every row label and column header of the sample reports' tables
(read from the .txt twins, the ground truth), and the nearest name is kept when it stands out from
the rest by NAME_SALIENCE standard deviations. This script scores every phrase of the tune part's
English table questions: taking its nearest name is a gain when that name stands in the question's
evidence row or names a column of its table, and a loss otherwise. The threshold is the one with
most gains less losses, set midway to the next lower salience seen.

    .venv/bin/python bench/learn_names.py ../shared/reports
"""

from __future__ import annotations

import re

from corpus.tables import read_table_text
from evaluation.matching import fold
from evaluation.thresholds import learning_arguments, print_threshold, text_twin_chunks, tune_table_questions
from index.embedding import EmbeddingConfig, load_embedder
from qa.names import NameAligner


def main() -> None:
    args = learning_arguments(__doc__)
    chunks = [c for report in text_twin_chunks(args.reports).values() for c in report]
    aligner = NameAligner.for_chunks(chunks, load_embedder(EmbeddingConfig()))
    seen: list[tuple[float, bool]] = []
    for q in tune_table_questions(args.set):
        if q["lang"] != "en":
            continue
        evidence = fold(q["evidence"][0])
        # The table holding the evidence row: its column names count as right as well.
        headers = ""
        for chunk in chunks:
            table = read_table_text(chunk.text, chunk.table_header) if chunk.kind == "table" else None
            if table is not None and evidence in fold(chunk.text):
                headers = fold(table.caption + "".join(table.columns))
                break
        right_text = re.sub(r"\s+", "", evidence + headers)
        for match in aligner.matches(q["question"]):
            right = fold(re.sub(r"\s+", "", match.name)) in right_text
            seen.append((match.salience, right))
            mark = "right" if right else "wrong"
            print(f"{q['id']}: {match.phrase!r} -> {match.name} {match.salience:.2f} ({mark})")
    print_threshold(seen, "NAME_SALIENCE", "inf", 2)


if __name__ == "__main__":
    main()
