"""Fingerprints of embedding models and the index-vs-query model compatibility check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from index.types import ModelIdentity

# Files whose bytes decide the vectors: weights, tokenizer, and the module stack.
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
_TOKENIZER_FILES = (
    "tokenizer.json",
    "sentencepiece.bpe.model",
    "spiece.model",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
)
_CONFIG_FILES = ("config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json")


class ModelMismatchError(Exception):
    """The query-time embedding model differs from the one that built the index."""


def _hash_file(h: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)


def model_files(folder: Path) -> list[Path]:
    """The files of a sentence-transformers folder that determine its vectors, in stable order."""
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES]
    files += [folder / name for name in (*_TOKENIZER_FILES, *_CONFIG_FILES) if (folder / name).is_file()]
    return sorted(set(files), key=lambda p: p.relative_to(folder).as_posix())


def fingerprint_files(folder: Path, files: Iterable[Path]) -> str:
    """SHA-256 over the relative names and bytes of ``files``."""
    h = hashlib.sha256()
    for path in files:
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        _hash_file(h, path)
    return h.hexdigest()


def encoding_fingerprint(
    weights_fingerprint: str, query_prompt: str, passage_prompt: str, max_seq: int
) -> str:
    """Combine the weights' hash with the settings that also change the vectors."""
    settings = json.dumps([query_prompt, passage_prompt, max_seq], ensure_ascii=False)
    return hashlib.sha256(f"{weights_fingerprint}\0{settings}".encode()).hexdigest()


def check_model_compatible(index_model: ModelIdentity, embedder: ModelIdentity) -> None:
    """Refuse to query an index with vectors from a different model (or different settings)."""
    if index_model.fingerprint == embedder.fingerprint and index_model.dim == embedder.dim:
        return
    if index_model.name == embedder.name and index_model.dim == embedder.dim:
        what = "the same model name but different weights, tokenizer, prompts or max_seq_length"
    else:
        what = f"model '{embedder.name}' ({embedder.dim}-d)"
    raise ModelMismatchError(
        f"index was built with embedding model '{index_model.name}' ({index_model.dim}-d, "
        f"fingerprint {index_model.fingerprint[:12]}) but the query uses {what} "
        f"(fingerprint {embedder.fingerprint[:12]}); set the embedding model to "
        f"'{index_model.name}' with its original settings, or rebuild the index with the current model"
    )
