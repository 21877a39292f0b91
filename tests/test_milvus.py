"""The Milvus backend against a real single-process Milvus server on loopback, checked against local."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ci_guard import require_module
from conftest import REPO, make_config

require_module("pymilvus", "the Milvus client (pip install -e .[milvus])")
require_module("milvus_lite", "the single-process Milvus server (pip install -e .[milvus])")

from index.milvus import MilvusTarget, connect, read_committed  # noqa: E402
from index.milvus_lite_server import free_port, running_server  # noqa: E402
from index.types import SearchFilter  # noqa: E402
from qa.errors import IndexUnavailable  # noqa: E402
from qa.pipeline import Pipeline, build_index_from_chunks, ingest  # noqa: E402

QUERIES = [
    "研發經費是多少",
    "潮流機組的平均可用率",
    "How many samples were taken?",
    "人才培育",
    "dredging the northern harbour",
    "波浪機組停機幾天",
]


def _refused(uri: str) -> bool:
    host, port = uri.removeprefix("http://").split(":")
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) != 0


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory):
    with running_server(tmp_path_factory.mktemp("milvus") / "data") as uri:
        yield uri
    assert _refused(uri), "the Milvus server is still answering after the tests"


def milvus_config(index_dir: Path, uri: str, collection: str, **overrides: object):
    return make_config(
        index_dir,
        **{"index.backend": "milvus", "index.uri": uri, "index.collection": collection, **overrides},
    )


def _rows(uri: str, collection: str, expr: str = "gen >= 0") -> int:
    client = connect(MilvusTarget(uri, collection))
    try:
        return len(client.query(collection, filter=expr, output_fields=["pk"], limit=16384))
    finally:
        client.close()


@pytest.fixture(scope="module")
def milvus_fixture_index(tmp_path_factory, milvus_uri, fixture_reports, default_embedder):
    config = milvus_config(tmp_path_factory.mktemp("mv") / "idx", milvus_uri, "fixture_reports")
    report = ingest([fixture_reports], config, progress=False)
    assert report.wrote and report.new_chunks > 0
    return config


def _ids(hits) -> list[str]:
    return [h.chunk.chunk_id for h in hits]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_search_matches_the_local_backend(milvus_fixture_index, fixture_pipeline, mode) -> None:
    pipe = Pipeline.open(milvus_fixture_index)
    try:
        for q in QUERIES:
            local = fixture_pipeline.search(q, k=5, mode=mode)
            remote = pipe.search(q, k=5, mode=mode)
            assert _ids(remote) == _ids(local), q
            for a, b in zip(remote, local, strict=True):
                if mode != "bm25":
                    assert a.dense_score == pytest.approx(b.dense_score, abs=1e-4)
                assert (a.lexical_score or 0) > 0 or (b.lexical_score or 0) == 0
    finally:
        pipe.close()


def test_documents_chunks_and_filters_match_the_local_backend(milvus_fixture_index, fixture_pipeline) -> None:
    pipe = Pipeline.open(milvus_fixture_index)
    try:
        assert [d.doc_id for d in pipe.documents()] == [d.doc_id for d in fixture_pipeline.documents()]
        assert pipe.chunks() == fixture_pipeline.chunks()
        first = fixture_pipeline.chunks()[0]
        assert pipe.chunk(first.chunk_id) == first
        assert pipe.chunk("no-such-chunk") is None
        for d in fixture_pipeline.documents():
            assert pipe.document_text(d.doc_id) == fixture_pipeline.document_text(d.doc_id)
        doc = fixture_pipeline.documents()[1].doc_id
        for flt in (
            SearchFilter(doc_ids=(doc,)),
            SearchFilter(section_contains="執行成果"),
            SearchFilter(scripts=("en",)),
        ):
            for q in QUERIES[:3]:
                local = fixture_pipeline.search(q, k=5, filter=flt)
                assert _ids(pipe.search(q, k=5, filter=flt)) == _ids(local), (q, flt)
    finally:
        pipe.close()


def test_reingest_without_change_writes_nothing(milvus_fixture_index, fixture_reports, milvus_uri) -> None:
    target = MilvusTarget(milvus_uri, "fixture_reports")
    client = connect(target)
    before = read_committed(client, target)
    rows = _rows(milvus_uri, target.collection)
    report = ingest([fixture_reports], milvus_fixture_index, progress=False)
    after = read_committed(client, target)
    client.close()
    assert not report.wrote and report.new_chunks == 0
    assert before is not None and after is not None and after.gen == before.gen
    assert _rows(milvus_uri, target.collection) == rows


def test_changed_and_pruned_reports_replace_their_rows(tmp_path, milvus_uri, default_embedder) -> None:
    reports = tmp_path / "reports"
    shutil.copytree(REPO / "tests" / "fixtures" / "reports", reports)
    config = milvus_config(tmp_path / "idx", milvus_uri, "incremental")
    first = ingest([reports], config, progress=False)
    harbour = reports / "harbour-survey.txt"
    harbour.write_text(harbour.read_text(encoding="utf-8") + "\nA new closing note on ferry traffic.\n")
    second = ingest([reports], config, progress=False)
    assert second.updated == ["harbour-survey.txt"] and second.unchanged
    assert second.new_chunks < first.new_chunks  # only the changed report was embedded
    (reports / "海洋能源示範計畫報告.md").unlink()
    third = ingest([reports], config, progress=False, prune=True)
    assert third.removed == ["海洋能源示範計畫報告.md"]
    # Rows of replaced and removed reports are deleted, not just hidden.
    assert _rows(milvus_uri, "incremental") == third.chunks_total
    pipe = Pipeline.open(config)
    try:
        assert {h.chunk.file_name for h in pipe.search("潮流機組", k=5)} <= {"harbour-survey.txt"}
        assert any("ferry" in h.chunk.text for h in pipe.search("ferry traffic", k=3))
    finally:
        pipe.close()


def test_killed_ingest_leaves_the_earlier_collection_searchable(
    tmp_path, milvus_uri, milvus_fixture_index, fixture_reports, sample_reports
) -> None:
    reports = tmp_path / "reports"
    shutil.copytree(fixture_reports, reports)
    config = milvus_config(tmp_path / "idx", milvus_uri, "killed")
    ingest([reports], config, progress=False)
    pipe = Pipeline.open(config)
    before = [_ids(pipe.search(q, k=5)) for q in QUERIES]
    pipe.close()
    shutil.copy2(next(sample_reports.glob("*.txt")), reports)  # a large report: many batches
    env = dict(
        os.environ,
        QA_INDEX=str(tmp_path / "idx"),
        QA_INDEX__BACKEND="milvus",
        QA_INDEX__URI=milvus_uri,
        QA_INDEX__COLLECTION="killed",
        PYTHONPATH=str(REPO),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa", "ingest", str(reports)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600
        while _rows(milvus_uri, "killed", "gen > 1") == 0:  # wait until it has written new rows
            assert proc.poll() is None, "the ingest finished before it could be killed"
            assert time.monotonic() < deadline, "the ingest wrote nothing in 10 minutes"
            time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
    pipe = Pipeline.open(config)
    try:
        assert pipe.generation == "gen-000001"
        assert [_ids(pipe.search(q, k=5)) for q in QUERIES] == before
        assert all(c.file_name in {p.name for p in fixture_reports.iterdir()} for c in pipe.chunks())
    finally:
        pipe.close()
    # The next run deletes the killed run's rows before writing its own.
    (reports / next(sample_reports.glob("*.txt")).name).unlink()
    (reports / "harbour-survey.txt").write_text("Harbour note.\nThe survey was repeated in 2025.\n")
    report = ingest([reports], config, progress=False, prune=True)
    assert report.wrote
    assert _rows(milvus_uri, "killed") == report.chunks_total


def test_server_down_or_wrong_uri_is_one_line_naming_the_uri(tmp_path) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    config = milvus_config(tmp_path / "idx", uri, "nowhere")
    with pytest.raises(IndexUnavailable) as err:
        Pipeline.open(config)
    message = str(err.value)
    assert uri in message and "\n" not in message
    with pytest.raises(IndexUnavailable) as err:
        ingest([REPO / "tests" / "fixtures" / "reports"], config, progress=False)
    assert uri in str(err.value)


def test_missing_collection_says_how_to_build_it(tmp_path, milvus_uri) -> None:
    with pytest.raises(IndexUnavailable, match="qa ingest"):
        Pipeline.open(milvus_config(tmp_path / "idx", milvus_uri, "never_built"))


def test_drcd_slice_ranks_as_the_local_backend_does(
    tmp_path, milvus_uri, shared_dir, default_embedder
) -> None:
    from evaluation.drcd import load_squad

    squad = load_squad(shared_dir / "datasets" / "drcd" / "DRCD_dev.json", limit=60, max_paragraphs=40)
    local = make_config(tmp_path / "local")
    remote = milvus_config(tmp_path / "remote", milvus_uri, "drcd_slice")
    for config in (local, remote):
        build_index_from_chunks(squad.documents(), squad.chunks(), config)
    a, b = Pipeline.open(local), Pipeline.open(remote)
    try:
        questions = squad.questions
        same = sum(_ids(a.search(q.question, k=5)) == _ids(b.search(q.question, k=5)) for q in questions)
    finally:
        a.close()
        b.close()
    # Exact dense search and the same BM25 statistics: ties in float sums are the only difference.
    assert same >= 0.95 * len(questions)


@pytest.mark.slow
def test_sample_reports_ingest_into_the_server(
    tmp_path, milvus_uri, sample_reports, default_embedder
) -> None:
    config = milvus_config(tmp_path / "idx", milvus_uri, "sample_reports")
    txt = sorted(sample_reports.glob("*.txt"))
    report = ingest(txt, config, progress=False)
    assert len(report.added) == 2 and report.chunks_total > 500
    assert not ingest(txt, config, progress=False).wrote
    assert _rows(milvus_uri, "sample_reports") == report.chunks_total
    pipe = Pipeline.open(config)
    try:
        names = {h.chunk.file_name for q in ("科技研發績效", "智慧國家方案") for h in pipe.search(q, k=3)}
        assert names == {p.name for p in txt}
    finally:
        pipe.close()


def test_backend_setting_is_checked_and_the_token_is_not_a_setting(tmp_path) -> None:
    from qa.config import Config
    from qa.errors import QAError

    assert Config().updated({"index.backend": "Milvus"}).index.backend == "milvus"
    with pytest.raises(QAError, match="allowed: local, milvus"):
        Config().updated({"index.backend": "mivlus"})
    with pytest.raises(QAError, match=r"Unknown setting 'index\.token'"):
        Config().updated({"index.token": "secret"})
