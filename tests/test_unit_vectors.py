"""Answer-unit vectors stored with the index: one per unit, close to the per-question encoding,
used by the answer step without encoding sentences, and older indexes still answer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from corpus.units import split_units, unit_text
from index.backend import LocalIndex, unit_vectors_of
from index.manifest import MANIFEST
from index.storage import current_generation
from tests.conftest import make_config

# Cosine of a pooled unit vector with the same unit encoded on its own (150 chunks spread over
# both sample reports, 790 units: minimum 0.800, 5th percentile 0.861, median 0.898).
POOLED_MIN_COSINE = 0.78
POOLED_MEDIAN_COSINE = 0.88
QUESTION = "潮流機組全年累計發電多少度？"


class Counting:
    """The real embedder, counting the passages it is asked to encode."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.identity = inner.identity  # type: ignore[attr-defined]
        self.passages = 0

    def encode_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.passages += len(texts)
        return self.inner.encode_passages(texts)  # type: ignore[attr-defined]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)  # type: ignore[attr-defined]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)  # type: ignore[attr-defined]


def _build(tmp_path: Path, reports: Path, mode: str):
    from qa.pipeline import ingest

    config = make_config(tmp_path / mode, **{"index.unit_vectors": mode})
    ingest([reports], config, progress=False)
    return config


def _stored_and_alone(config, embedder) -> tuple[list[int], np.ndarray, np.ndarray]:
    index = LocalIndex.open(config.index_dir)
    try:
        counts, stored, texts = [], [], []
        found = index.unit_vectors([c.chunk_id for c in index.chunks])
        assert found is not None
        for chunk, got in zip(index.chunks, found.vectors, strict=True):
            units = split_units(chunk)
            assert got is not None and len(got) == len(units), chunk.chunk_id
            counts.append(len(units))
            stored.append(got)
            texts += [unit_text(u) for u in units]
    finally:
        index.close()
    return counts, np.concatenate(stored), embedder.encode_passages(texts)


def test_pooled_vectors_cover_every_unit_and_stay_close_to_encoding_alone(
    fixture_index, default_embedder
) -> None:
    assert fixture_index.index.unit_vectors == "pooled"  # the default
    counts, stored, alone = _stored_and_alone(fixture_index, default_embedder)
    assert sum(counts) > 20
    assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=2e-3)
    cosine = (stored * alone).sum(axis=1)
    assert cosine.min() >= POOLED_MIN_COSINE and np.median(cosine) >= POOLED_MEDIAN_COSINE, cosine


def test_standalone_vectors_equal_the_query_time_encoding(
    tmp_path: Path, fixture_reports: Path, default_embedder
) -> None:
    config = _build(tmp_path, fixture_reports, "standalone")
    _, stored, alone = _stored_and_alone(config, default_embedder)
    assert np.abs(stored - alone).max() < 2e-3  # float16 storage


def test_a_span_cut_off_by_the_token_limit_gets_no_pooled_vector(default_embedder) -> None:
    if not hasattr(default_embedder, "encode_passages_with_spans"):
        pytest.fail("the default embedder is expected to be the ONNX encoder")
    text = "海洋能源示範計畫。" * 150 + "最後一句在上限之外。"
    first, last = (0, 9), (len(text) - 10, len(text))
    vectors, parts = default_embedder.encode_passages_with_spans([text], [[[first], [last]]])
    assert np.allclose(vectors[0], default_embedder.encode_passages([text])[0], atol=1e-5)
    assert np.isfinite(parts[0][0]).all() and np.isnan(parts[0][1]).all()


def test_answers_read_stored_vectors_and_encode_no_sentence(
    fixture_index, tmp_path: Path, fixture_reports
) -> None:
    from qa.pipeline import Pipeline

    def passages_encoded(config, question: str = QUESTION) -> tuple[int, str]:
        pipe = Pipeline.open(config)
        try:
            counting = Counting(pipe.embedder)
            pipe.embedder = counting  # type: ignore[assignment]
            answer = pipe.ask(question)
            return counting.passages, answer.text
        finally:
            pipe.close()

    stored, answer = passages_encoded(fixture_index)
    assert stored == 0 and "1,284" in answer
    # Pooled vectors are not used across scripts (an English question, Chinese sentences).
    across, _ = passages_encoded(fixture_index, "How much electricity did the tidal units generate?")
    assert across > 0
    per_question, _ = passages_encoded(_build(tmp_path, fixture_reports, "none"))
    assert per_question > 0  # without stored vectors the candidates are encoded per question


def test_an_older_index_without_unit_vectors_still_answers(tmp_path: Path, fixture_reports: Path) -> None:
    from qa.pipeline import Pipeline, ingest

    config = _build(tmp_path, fixture_reports, "none")
    generation = current_generation(config.index_dir)
    manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    manifest["format_version"] = 1  # as written before unit vectors existed
    manifest["settings"].pop("unit_vectors")
    (generation / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    pipe = Pipeline.open(config)
    try:
        assert unit_vectors_of(pipe, ["any"]) is None
        assert "1,284" in pipe.ask(QUESTION).text
    finally:
        pipe.close()
    # The next ingest with today's settings reads every document again and stores unit vectors.
    report = ingest([fixture_reports], make_config(config.index_dir), progress=False)
    assert report.wrote and len(report.added) + len(report.updated) == 2
    index = LocalIndex.open(config.index_dir)
    try:
        assert index.units is not None and index.units.chunks == len(index.chunks)
    finally:
        index.close()


def test_an_incremental_ingest_carries_the_unit_vectors_of_unchanged_reports(
    tmp_path: Path, fixture_reports: Path
) -> None:
    import shutil

    from qa.pipeline import ingest

    reports = tmp_path / "reports"
    shutil.copytree(fixture_reports, reports)
    config = _build(tmp_path, reports, "pooled")
    index = LocalIndex.open(config.index_dir)
    ids = [c.chunk_id for c in index.chunks]
    stored = index.unit_vectors(ids)
    assert stored is not None and stored.kind == "pooled"
    before = dict(zip(ids, stored.vectors, strict=True))
    index.close()
    (reports / "new-note.txt").write_text(
        "離岸風電年度報告\n\n本年度新增離岸風電裝置容量 1,200 百萬瓩。\n", encoding="utf-8"
    )
    report = ingest([reports], config, progress=False)
    assert report.added == ["new-note.txt"] and len(report.unchanged) == 2
    index = LocalIndex.open(config.index_dir)
    try:
        ids = [c.chunk_id for c in index.chunks]
        after = index.unit_vectors(ids)
        assert after is not None
        for chunk, vectors in zip(index.chunks, after.vectors, strict=True):
            assert vectors is not None and len(vectors) == len(split_units(chunk))
            if chunk.chunk_id in before:
                assert np.array_equal(vectors, before[chunk.chunk_id])
        assert len(set(ids) - set(before)) >= 1
    finally:
        index.close()


def test_unit_vectors_that_disagree_with_the_chunks_make_a_one_line_error(
    tmp_path: Path, fixture_reports: Path
) -> None:
    from index.errors import IndexCorruptError
    from index.unit_vectors import OFFSETS

    config = _build(tmp_path, fixture_reports, "pooled")
    generation = current_generation(config.index_dir)
    offsets = np.load(generation / OFFSETS)
    np.save(generation / OFFSETS, offsets[:-1])  # one chunk short
    with pytest.raises(IndexCorruptError) as error:
        LocalIndex.open(config.index_dir)
    assert "unit vectors" in str(error.value) and "\n" not in str(error.value)
