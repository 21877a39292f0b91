"""The ONNX Runtime encoder, its quick tokenizer, and a command line that never loads torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ci_guard import require_module
from conftest import REPO, make_config

from index.embedding import (
    EmbeddingConfig,
    EmbeddingError,
    ModelMismatchError,
    TorchEmbedder,
    check_model_compatible,
    default_model_dir,
    load_embedder,
    resolved_backend,
)

HEAVY = ("torch", "transformers", "sentence_transformers")

TEXTS = [
    "113 年中央政府科研預算總額達 1,517.4 億臺幣，由 27 個部會署執行 443 件科技計畫。",
    "智慧国家方案推动数位基础建设，2024 年完成 5G 专网布建。",
    "The national science budget rose by 5.3% to NT$151.7 billion in fiscal 2024.",
    "表 1-1\t主管機關\t科技預算\t占比\n國科會\t62,070,912\t40.9%",
    "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ　１２３ and emoji 😀 ☃",
    "短",
    "臺灣" * 400,  # longer than 512 tokens: cut like the torch backend
]


@pytest.fixture(scope="module")
def onnx_ready() -> None:
    require_module("onnxruntime")
    require_module("onnx")


@pytest.fixture(scope="module")
def torch_fp32() -> TorchEmbedder:
    emb = load_embedder(EmbeddingConfig(backend="torch", precision="float32", threads=2))
    assert isinstance(emb, TorchEmbedder)
    return emb


def test_auto_backend_picks_onnx_for_the_default_model_only(onnx_ready: None, tmp_path: Path) -> None:
    assert resolved_backend(EmbeddingConfig()) == "onnx"
    assert resolved_backend(EmbeddingConfig(model=str(tmp_path))) == "torch"
    assert resolved_backend(EmbeddingConfig(query_prompt="search: ")) == "torch"
    assert resolved_backend(EmbeddingConfig(backend="torch")) == "torch"


def test_quick_tokenizer_matches_the_library(onnx_ready: None, sample_reports: Path) -> None:
    from tokenizers import Tokenizer

    from index import quick_tokenizer
    from index.onnx_encoder import ensure_graph

    folder = default_model_dir()
    quick = quick_tokenizer.QuickTokenizer(ensure_graph(folder, "fp32") / quick_tokenizer.TABLES)
    library = Tokenizer.from_file(str(folder / "tokenizer.json"))
    library.enable_truncation(max_length=512)
    lines = [
        line for path in sorted(sample_reports.glob("*.txt")) for line in path.read_text("utf-8").splitlines()
    ]
    texts = [*TEXTS, *lines[::7], "", " ", "  two  spaces ", "\ttab\nline", "e\u0301", "Ⅻ ㍿ ﬁ ①"]
    assert len(texts) > 500
    wrong = [
        t
        for t in texts
        for p in ("query: ", "passage: ")
        if quick.ids(p + t, 512) != library.encode(p + t).ids
    ]
    assert wrong == []
    assert quick.has_special("a <s> b") and not quick.has_special("a s b")


def test_onnx_float32_gives_the_torch_vectors(onnx_ready: None, torch_fp32: TorchEmbedder) -> None:
    onnx = load_embedder(EmbeddingConfig(backend="onnx", onnx_quant="fp32", threads=2))
    assert onnx.identity == torch_fp32.identity
    cos = (onnx.encode_passages(TEXTS) * torch_fp32.encode_passages(TEXTS)).sum(axis=1)
    assert cos.min() > 0.9999
    q = onnx.encode_queries(TEXTS[:2]) @ torch_fp32.encode_queries(TEXTS[:2]).T
    assert np.diag(q).min() > 0.9999
    assert onnx.count_tokens(TEXTS) == torch_fp32.count_tokens(TEXTS)


def test_onnx_int8_stays_close_but_is_its_own_model(onnx_ready: None, torch_fp32: TorchEmbedder) -> None:
    int8 = load_embedder(EmbeddingConfig(backend="onnx", onnx_quant="int8", threads=2))
    # Below the retrieval-quality bar on DRCD: an index built with it is refused by float32 encoders.
    with pytest.raises(ModelMismatchError, match="onnx_quant=int8"):
        check_model_compatible(int8.identity, torch_fp32.identity)
    with pytest.raises(ModelMismatchError):
        check_model_compatible(torch_fp32.identity, int8.identity)
    vectors = int8.encode_passages(TEXTS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cos = (vectors * torch_fp32.encode_passages(TEXTS)).sum(axis=1)
    # Measured on report text: mean 0.997, worst 0.982; retrieval quality is the real test (README).
    assert cos.mean() > 0.99 and cos.min() > 0.97
    # One question alone and in a batch: the same vector (batching must not change results).
    one = int8.encode_queries([TEXTS[0]])
    assert float(one[0] @ int8.encode_queries(TEXTS[:3])[0]) > 0.999


def test_onnx_backend_refuses_other_models_and_bad_quant(onnx_ready: None, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(EmbeddingError, match="only runs the default model"):
        load_embedder(EmbeddingConfig(model=str(tmp_path), backend="onnx"))
    with pytest.raises(EmbeddingError, match="onnx_quant"):
        load_embedder(EmbeddingConfig(onnx_quant="int4"))


def test_cli_search_and_ask_never_import_torch(
    onnx_ready: None, tmp_path: Path, fixture_reports: Path
) -> None:
    from qa.pipeline import ingest

    config = make_config(tmp_path / "idx")
    ingest([fixture_reports], config, progress=False)
    probe = (
        "import json, sys\n"
        "from qa.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print('HEAVY=' + json.dumps([rc, heavy]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for argv in (["search", "預算"], ["ask", "預算是多少？"]):
        run = subprocess.run(
            [sys.executable, "-c", probe, *argv, "--index", str(config.index_dir), "-q"],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
        line = [ln for ln in run.stdout.splitlines() if ln.startswith("HEAVY=")]
        assert line, run.stderr[-2000:]
        rc, heavy = json.loads(line[0][len("HEAVY=") :])
        assert rc == 0 and heavy == [], (argv, rc, heavy, run.stderr[-1000:])


def test_device_selection_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from index import embedding
    from index.embedding import select_device

    assert select_device("auto", cuda_available=False) == "cpu"
    assert select_device("auto", cuda_available=True) == "cuda"
    assert select_device("cpu", cuda_available=True) == "cpu"
    with pytest.raises(EmbeddingError, match="no CUDA GPU"):
        select_device("cuda", cuda_available=False)
    # A GPU makes auto pick sentence-transformers, and the model is loaded onto it.
    monkeypatch.setattr(embedding, "gpu_present", lambda: True)
    assert resolved_backend(EmbeddingConfig()) == "torch"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    seen: list[str] = []

    class Loaded(Exception):
        pass

    def fake_load(source: str, local: bool, device: str = "cpu") -> None:
        seen.append(device)
        raise Loaded

    monkeypatch.setattr(embedding, "_load_st", fake_load)
    with pytest.raises(Loaded):
        load_embedder(EmbeddingConfig(cache_dir=None, batch_size=31))  # a fresh cache key
    assert seen == ["cuda"]
    with pytest.raises(EmbeddingError, match="device"):
        load_embedder(EmbeddingConfig(device="tpu"))


def test_int8_mixed_keeps_the_ffn_output_in_float32(onnx_ready: None) -> None:
    import onnx

    from index.onnx_encoder import _quant_name, ensure_graph

    folder = ensure_graph(default_model_dir(), "int8-mixed")
    graph = onnx.load(str(folder / _quant_name("int8-mixed")), load_external_data=False).graph
    ops = {n.name: n.op_type for n in graph.node}
    float_fo = [name for name, op in ops.items() if op == "MatMul" and name.endswith("_fo")]
    assert len(float_fo) == 12  # one per layer, left in float32
    assert not [name for name, op in ops.items() if op == "MatMul" and not name.endswith("_fo")]
    assert any(op == "QAttention" for op in ops.values())
    emb = load_embedder(EmbeddingConfig(backend="onnx", onnx_quant="int8-mixed", threads=2))
    assert "onnx_quant=int8-mixed" in emb.identity.name
