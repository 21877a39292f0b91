"""Tables recovered from each sample PDF against the same tables in its .txt twin.

The .txt twin's runs of tab-separated lines are the ground truth (the PDFs were rendered from them,
each run as a bordered table). Per report: share of .txt tables found in the PDF, share of their
cells identical after whitespace folding (all whitespace removed, widths folded), and the tables
that fail with the reason.

    .venv/bin/python bench/bench_tables.py ../shared/reports
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from corpus.cleaning import squash
from corpus.reading import ReadingConfig, read_document
from corpus.structure import _is_toc_row, _lines
from corpus.tables import split_row


@dataclass
class RunTable:
    line: int  # first row's index among the document's non-empty lines
    rows: list[list[str]]
    name: str


@dataclass
class ReportResult:
    name: str
    tables: int = 0
    found: int = 0
    cells: int = 0
    same_cells: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def tab_tables(text: str) -> list[RunTable]:
    """Runs of tab-separated lines, without the table of contents (title + page number rows)."""
    lines = _lines(text)
    out: list[RunTable] = []
    i = 0
    while i < len(lines):
        if "\t" not in lines[i].text:
            i += 1
            continue
        j = i
        while j < len(lines) and "\t" in lines[j].text:
            j += 1
        run = lines[i:j]
        if sum(_is_toc_row(line) for line in run) * 2 <= len(run):
            caption = lines[i - 1].text[:30] if i else ""
            rows = [split_row(line.text) or [] for line in run]
            out.append(RunTable(i, rows, caption))
        i = j
    return out


def _key(row: list[str]) -> str:
    return squash("".join(row))


def compare(truth: list[RunTable], found: list[RunTable], result: ReportResult) -> None:
    by_row: dict[str, int] = {}
    for n, table in enumerate(found):
        for row in table.rows:
            by_row.setdefault(_key(row), n)
    for table in truth:
        result.tables += 1
        keys = [_key(r) for r in table.rows]
        votes: dict[int, int] = {}
        for k in keys:
            if k in by_row:
                votes[by_row[k]] = votes.get(by_row[k], 0) + 1
        cells = sum(len(r) for r in table.rows)
        result.cells += cells
        if not votes:
            result.failures.append(f"{table.name!r}: not found as a table ({len(table.rows)} rows)")
            continue
        best = max(votes, key=lambda n: votes[n])
        other = found[best]
        result.found += 1
        matcher = difflib.SequenceMatcher(a=keys, b=[_key(r) for r in other.rows], autojunk=False)
        same = 0
        for tag, a0, a1, b0, b1 in matcher.get_opcodes():
            if tag == "equal":
                same += sum(len(table.rows[a]) for a in range(a0, a1))
            elif tag == "replace":
                for a, b in zip(range(a0, a1), range(b0, b1), strict=False):
                    mine, theirs = table.rows[a], other.rows[b]
                    same += sum(
                        1
                        for j, cell in enumerate(mine)
                        if j < len(theirs) and squash(cell) == squash(theirs[j])
                    )
        result.same_cells += same
        if same < cells:
            result.failures.append(
                f"{table.name!r}: {cells - same}/{cells} cells differ "
                f"({len(table.rows)} rows in .txt, {len(other.rows)} in PDF)"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--show", type=int, default=10, help="failing tables listed per report")
    args = parser.parse_args(argv)
    config = ReadingConfig(cache_dir=None)  # measure extraction itself, not the cache
    ok = True
    for pdf in sorted(args.folder.glob("*.pdf")):
        twin = pdf.with_suffix(".txt")
        if not twin.exists():
            continue
        result = ReportResult(pdf.stem)
        started = time.perf_counter()
        doc = read_document(pdf, config)
        result.seconds = time.perf_counter() - started
        truth = tab_tables(read_document(twin, config).text)
        compare(truth, tab_tables(doc.text), result)
        found_share = result.found / max(1, result.tables)
        cell_share = result.same_cells / max(1, result.cells)
        ok = ok and found_share >= 0.95 and cell_share >= 0.95
        print(
            f"{result.name}: tables found {result.found}/{result.tables} ({found_share:.1%}), "
            f"cells identical {result.same_cells}/{result.cells} ({cell_share:.3f}), "
            f"read in {result.seconds:.0f} s"
        )
        for line in result.failures[: args.show]:
            print(f"  - {line}")
        if len(result.failures) > args.show:
            print(f"  ... {len(result.failures) - args.show} more")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
