"""ReportApp request handlers called directly (no HTTP) over a real index."""

from __future__ import annotations

import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gradio as gr
from conftest import FIXTURES, make_config

from qa.pipeline import Pipeline, ingest
from ui.app import ReportApp, UISettings
from ui.citations import CitationRecord, ExportFiles, citation_record

THREADS = 8


def _age(folder: Path) -> None:
    """Make an export folder look as if a search made it long ago."""
    os.utime(folder, (1_000_000_000, 1_000_000_000))


def _export_three_times(
    rq: ReportApp, records: list[CitationRecord], start: threading.Barrier
) -> list[ExportFiles]:
    start.wait()  # every thread cleans up at the same moment
    return [rq.export(records, "dissolved oxygen") for _ in range(3)]


def test_concurrent_exports_never_trip_over_each_other(fixture_pipeline) -> None:
    rq = ReportApp(fixture_pipeline, UISettings())
    records = [citation_record(hit) for hit in fixture_pipeline.search("dissolved oxygen", k=3)]
    assert records
    for round_no in range(4):
        stale = [rq.export_root / f"stale-{round_no}-{i}" for i in range(150)]
        for folder in stale:
            folder.mkdir()
            (folder / "passages.csv").write_text("old", encoding="utf-8")
            _age(folder)
        start = threading.Barrier(THREADS)
        with ThreadPoolExecutor(THREADS) as pool:
            jobs = [pool.submit(_export_three_times, rq, records, start) for _ in range(THREADS)]
            made = [files for job in jobs for files in job.result()]
        assert len({files.csv.parent for files in made}) == len(made)  # one fresh folder per export
        assert all(files.csv.is_file() and files.json.is_file() for files in made)
        assert not any(folder.exists() for folder in stale)


def test_the_app_follows_reports_ingested_while_it_runs(tmp_path: Path, default_embedder) -> None:
    reports = tmp_path / "reports"
    shutil.copytree(FIXTURES / "reports", reports)
    config = make_config(tmp_path / "idx")
    ingest([reports], config, progress=False)
    pipeline = Pipeline.open(config, reload_interval_s=0)
    try:
        rq = ReportApp(pipeline, UISettings())
        shown = sorted(rq.docs)
        assert rq.on_load(shown) == (gr.skip(),) * 6  # nothing new: the page is left as it is

        (reports / "lighthouse.txt").write_text(
            "Lighthouse Maintenance\n\nThe lighthouse lamp was replaced with an LED unit in May 2024.\n",
            encoding="utf-8",
        )
        ingest([reports], config, progress=False)
        found = rq.api_search("lighthouse lamp LED", k=1)
        new_id = found["results"][0]["doc_id"]
        assert found["results"][0]["file_name"] == "lighthouse.txt"
        # The report filter knows the new report, and a page opened now lists it.
        only_new = rq.api_search("lamp", k=3, doc_ids=[new_id])
        assert "error" not in only_new and {r["doc_id"] for r in only_new["results"]} == {new_id}
        header, table, chat_docs, *_, now_shown = rq.on_load(shown)
        assert new_id in now_shown and "lighthouse.txt" in table and "已收錄 3 份報告" in header
        assert new_id in {value for _, value in chat_docs.choices}
    finally:
        pipeline.close()
