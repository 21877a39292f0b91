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
