"""Answer units of a chunk (made in corpus/units.py) and the cells of table rows."""

from __future__ import annotations

from corpus.units import Sentence, split_units, unit_text, with_antecedent

__all__ = ["Sentence", "header_cells", "row_cells", "split_units", "unit_text", "with_antecedent"]


def row_cells(row: str) -> list[str]:
    """Cells of a tab-separated row, stripped for display (each is still a substring of the row)."""
    return [cell.strip() for cell in row.split("\t")]


def header_cells(unit: Sentence) -> list[str]:
    """Column names of a row's table (the last line of its context is the header row)."""
    return row_cells(unit.header.rsplit("\n", 1)[-1]) if unit.header else []
