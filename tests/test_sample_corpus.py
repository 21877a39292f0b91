"""End to end on the two sample reports: ingest the folder, then search in Chinese and English.

Slow (embeds both reports): run with `-m slow`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_config
from pypdf import PdfReader

from qa.pipeline import Pipeline, ingest

pytestmark = pytest.mark.slow


def _pages_containing(pdf: Path, needle: str) -> set[int]:
    squeeze = "".join(needle.split())
    return {
        i
        for i, page in enumerate(PdfReader(pdf).pages, 1)
        if squeeze in "".join((page.extract_text() or "").split())
    }


@pytest.fixture(scope="module")
def sample_pipeline(sample_reports: Path, tmp_path_factory: pytest.TempPathFactory, default_embedder):
    config = make_config(tmp_path_factory.mktemp("sample") / "idx")
    report = ingest([sample_reports], config, progress=False)
    # Each report is there as PDF and as text; the PDF is indexed (it has pages), the text skipped.
    assert len(report.added) == 2 and all(name.endswith(".pdf") for name in report.added)
    assert sum("same report as" in s.reason for s in report.skipped) == 2
    pipe = Pipeline.open(config)
    yield pipe
    pipe.close()


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("113 年中央政府科研預算總額是多少？", "1,517.4 億臺幣"),
        ("5G網路非偏鄉人口涵蓋率達到多少", "98.15%"),
        ("5G网络非偏乡人口覆盖率达到多少", "98.15%"),  # Simplified question, Traditional report
        ("What return on investment did the Taiwan Industry Innovation Platform deliver?", "1:19.1"),
    ],
)
def test_questions_find_the_page_that_holds_the_answer(
    sample_pipeline: Pipeline, sample_reports: Path, query: str, needle: str
) -> None:
    hits = sample_pipeline.search(query, k=5)
    hit = next((h for h in hits if needle in h.chunk.text), None)
    assert hit is not None, [h.chunk.text[:80] for h in hits]
    assert hit.rank <= 3
    pdf = sample_reports / hit.chunk.file_name
    pages = _pages_containing(pdf, needle)
    assert pages, f"{needle} not on any page of {pdf.name}"
    assert hit.chunk.page_start is not None and hit.chunk.page_end is not None
    assert any(hit.chunk.page_start <= p <= hit.chunk.page_end for p in pages)
    assert hit.chunk.section_path  # every passage knows its section


def test_page_filter_and_page_text(sample_pipeline: Pipeline) -> None:
    doc = next(d for d in sample_pipeline.documents() if d.file_name.startswith("智慧國家"))
    assert doc.pages > 90
    from index.types import SearchFilter

    hits = sample_pipeline.search(
        "數位經濟規模", k=5, filter=SearchFilter(doc_ids=(doc.doc_id,), page_min=1, page_max=10)
    )
    assert hits and all(h.chunk.page_start is not None and h.chunk.page_start <= 10 for h in hits)
    page = hits[0].chunk.page_start
    assert page is not None
    assert sample_pipeline.page_text(doc.doc_id, page).strip()
