"""Shared fixtures: the sample corpus location, the real default embedder, and small real indexes."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from ci_guard import skip_or_fail

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_script(path: Path, name: str) -> ModuleType:
    """A module from a file outside the packages (bench scripts, PDF fixtures), loaded once per run."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        skip_or_fail(f"{SHARED} is not present (the sample reports and data sets)")
    return SHARED


@pytest.fixture(scope="session")
def sample_reports(shared_dir: Path) -> Path:
    return shared_dir / "reports"


@pytest.fixture(scope="session")
def default_embedder():
    """The product's default model (converted once per machine into the user cache)."""
    from index.embedding import EmbeddingConfig, load_embedder

    return load_embedder(EmbeddingConfig())


@pytest.fixture(scope="session")
def fixture_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the hand-written fixture reports (tests may add or change files)."""
    target = tmp_path_factory.mktemp("reports")
    for path in (FIXTURES / "reports").iterdir():
        shutil.copy2(path, target / path.name)
    return target


def make_config(index_dir: Path, **overrides: object):
    from qa.config import Config

    return Config().updated({"index_dir": index_dir, **overrides})


def ask_indexed(tmp_path: Path, report_text: str, question: str):
    """Index one report written by a test (real ingest, default model) and ask it `question`."""
    from qa.pipeline import Pipeline, ingest

    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "report.txt").write_text(report_text, encoding="utf-8")
    config = make_config(tmp_path / "idx")
    ingest([reports], config, progress=False)
    pipe = Pipeline.open(config)
    try:
        return pipe.ask(question)
    finally:
        pipe.close()


@pytest.fixture(scope="session")
def fixture_index(tmp_path_factory: pytest.TempPathFactory, fixture_reports: Path, default_embedder):
    """A real index (FAISS + BM25 + SQLite, default model) over the fixture reports."""
    from qa.pipeline import ingest

    config = make_config(tmp_path_factory.mktemp("index") / "idx")
    ingest([fixture_reports], config, progress=False)
    return config


@pytest.fixture(scope="session")
def fixture_pipeline(fixture_index):
    from qa.pipeline import Pipeline

    pipe = Pipeline.open(fixture_index)
    yield pipe
    pipe.close()
