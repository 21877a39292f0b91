"""Bordered-table detection runs only on pages that draw something: the prose pages of a report,
most of its pages, are never parsed by pdfplumber, and the tables found stay the same."""

from __future__ import annotations

import io

import pdfplumber.page
import pytest
from conftest import FIXTURES, load_script
from pypdf import PdfReader

from corpus import tables
from corpus.tables import find_grids

pdfgen = load_script(FIXTURES / "corpus" / "pdfgen.py", "corpus_pdfgen")


@pytest.fixture(scope="module")
def sample() -> bytes:
    if pdfgen.fonts_missing():
        pytest.skip("fixture CJK fonts are not installed")
    return pdfgen.sample_pdf()


def test_only_pages_that_draw_are_searched_for_tables(sample: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = len(PdfReader(io.BytesIO(sample)).pages)
    searched: list[int] = []
    real = pdfplumber.page.Page.find_tables

    def spy(self: pdfplumber.page.Page, *args: object, **kwargs: object) -> object:
        searched.append(self.page_number)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pdfplumber.page.Page, "find_tables", spy)
    grids = find_grids(sample, 0, pages)
    with_tables = [number for number, found in enumerate(grids, start=1) if found]
    assert pages >= 3 and with_tables, "the sample PDF has prose pages and one bordered table"
    assert searched == with_tables


def test_skipping_undrawn_pages_finds_the_same_tables(sample: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = len(PdfReader(io.BytesIO(sample)).pages)
    quick = find_grids(sample, 0, pages)
    monkeypatch.setattr(tables, "_pages_with_drawings", lambda _pdfium, start, stop: set(range(start, stop)))
    assert find_grids(sample, 0, pages) == quick
    assert any(quick)
