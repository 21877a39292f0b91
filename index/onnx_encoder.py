"""The default model as an ONNX Runtime graph: float32, or int8 with per-channel weights.

The graph is written once from the converted sentence-transformers folder (numpy weights, no
torch) into ``<folder>/onnx/``. The word-embedding table (250k rows, most of the model's bytes)
stays outside the graph as a memory-mapped ``.npy``: a question touches a few dozen rows, so a
process that encodes one question starts without reading the whole table.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from index import quick_tokenizer
from index.e5_convert import PASSAGE_PROMPT, QUERY_PROMPT
from index.types import ModelIdentity

logger = logging.getLogger(__name__)

GRAPH_VERSION = 1  # bump when the graph or the quantisation recipe changes
QUANTS = ("fp32", "int8", "int8-mixed")
# int8-mixed keeps each layer's FFN output projection in float32: its input (after GELU) has the
# widest activation range, and quantising it per batch cost most of the MRR that int8 loses on DRCD.
_FLOAT_IN_MIXED = "_fo"
Pieces = Sequence[tuple[int, int]]  # the character spans of one unit inside its text
_MS = "com.microsoft"


class OnnxError(Exception):
    """ONNX Runtime is missing or the graph cannot be built or loaded."""


@cache
def onnx_available() -> bool:
    """True where onnxruntime and onnx import (the ``fast`` extra)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


@cache
def cpu_has_vnni() -> bool:
    """True where the CPU has an int8 dot-product instruction (AVX-VNNI or AVX512-VNNI)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_vnni" in flags or "avx_vnni" in flags


def _reduce_range() -> bool:
    # Without VNNI, u8 x s8 products are summed in int16 pairs that saturate at full 8-bit range;
    # ONNX Runtime's guidance is 7-bit weights there.
    return not cpu_has_vnni()


# ------------------------------------------------------------------ graph


def _graph(weights: dict[str, np.ndarray], config: dict[str, Any]) -> Any:
    """An ONNX model: (word embeddings [B,T,H] float, attention mask [B,T] int32) -> hidden [B,T,H]."""
    from onnx import TensorProto, helper, numpy_helper

    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    eps = float(config["layer_norm_eps"])
    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], out: str, domain: str = "", **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [out], name=out, domain=domain, **attrs))
        return out

    w = weights
    # Positions: the engine numbers real tokens from 0; HF rows 0/1 are padding rows (see e5_convert).
    pos = w["embeddings.position_embeddings.weight"][2:] + w["embeddings.token_type_embeddings.weight"][0]
    const("pos_type", pos.astype(np.float32))
    const("zero", np.array([0], dtype=np.int64))
    const("one", np.array([1], dtype=np.int64))
    node("Shape", ["word_embeds"], "shape")
    const("two", np.array([2], dtype=np.int64))
    node("Slice", ["shape", "one", "two"], "seq_len")
    node("Slice", ["pos_type", "zero", "seq_len"], "pos_slice")
    node("Add", ["word_embeds", "pos_slice"], "emb_sum")
    x = node(
        "LayerNormalization",
        [
            "emb_sum",
            const("emb_ln_w", w["embeddings.LayerNorm.weight"]),
            const("emb_ln_b", w["embeddings.LayerNorm.bias"]),
        ],
        "emb_ln",
        axis=-1,
        epsilon=eps,
    )
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}."

        def add_norm(out: str, residual: str, bias: np.ndarray, norm: str, name: str) -> str:
            """LayerNorm(out + bias + residual) as one fused node."""
            gamma, beta = const(f"{name}_w", w[norm + ".weight"]), const(f"{name}_b", w[norm + ".bias"])
            inputs = [out, residual, gamma, beta, const(f"{name}_bias", bias)]
            return node("SkipLayerNormalization", inputs, name, domain=_MS, epsilon=eps)

        def lin(name: str, p: str = p) -> tuple[np.ndarray, np.ndarray]:
            return w[p + name + ".weight"].T, w[p + name + ".bias"]

        (qw, qb), (kw, kb), (vw, vb) = (lin(f"attention.self.{n}") for n in ("query", "key", "value"))
        qkv_w = const(f"l{i}_qkv_w", np.concatenate([qw, kw, vw], axis=1).astype(np.float32))
        qkv_b = const(f"l{i}_qkv_b", np.concatenate([qb, kb, vb]).astype(np.float32))
        att = node("Attention", [x, qkv_w, qkv_b, "mask"], f"l{i}_att", domain=_MS, num_heads=heads)
        aw, ab = lin("attention.output.dense")
        ao = node("MatMul", [att, const(f"l{i}_ao_w", aw)], f"l{i}_ao")
        x = add_norm(ao, x, ab, p + "attention.output.LayerNorm", f"l{i}_aln")
        fw, fb = lin("intermediate.dense")
        ff = node("MatMul", [x, const(f"l{i}_fi_w", fw)], f"l{i}_fi")
        ff = node("BiasGelu", [ff, const(f"l{i}_fi_b", fb)], f"l{i}_gelu", domain=_MS)
        ow, ob = lin("output.dense")
        fo = node("MatMul", [ff, const(f"l{i}_fo_w", ow)], f"l{i}_fo")
        x = add_norm(fo, x, ob, p + "output.LayerNorm", f"l{i}_oln")
    nodes.append(helper.make_node("Identity", [x], ["hidden"], name="hidden"))
    graph = helper.make_graph(
        nodes,
        "e5",
        [
            helper.make_tensor_value_info("word_embeds", TensorProto.FLOAT, ["batch", "seq", hidden]),
            helper.make_tensor_value_info("mask", TensorProto.INT32, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "seq", hidden])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(_MS, 1)],
        producer_name="reportqa",
    )
    model.ir_version = 8  # the IR of opset 17, which every onnxruntime >= 1.14 loads
    return model


def _load_weights(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    from safetensors.numpy import load_file

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return load_file(str(folder / "model.safetensors")), config


def onnx_dir(folder: Path) -> Path:
    return folder / f"onnx-v{GRAPH_VERSION}"


def _quant_name(quant: str) -> str:
    return f"model-{quant}-r7.onnx" if quant != "fp32" and _reduce_range() else f"model-{quant}.onnx"


def ensure_graph(folder: Path, quant: str) -> Path:
    """The ONNX folder for ``folder``'s model with ``quant`` weights, written once (atomically)."""
    from filelock import FileLock

    if not onnx_available():
        raise OnnxError("onnxruntime is not installed (pip install 'reportqa[fast]')")
    out = onnx_dir(folder)
    target = out / _quant_name(quant)
    needed = (target, out / "word_embeddings.npy", out / quick_tokenizer.TABLES, out / quick_tokenizer.PIECES)
    if all(p.is_file() for p in needed):
        return out
    out.mkdir(exist_ok=True)
    with FileLock(str(out / ".lock")):
        if all(p.is_file() for p in needed):
            return out
        if not all((out / name).is_file() for name in (quick_tokenizer.TABLES, quick_tokenizer.PIECES)):
            quick_tokenizer.write_tables(out)
        logger.info("writing the %s ONNX graph into %s (one-off)", quant, out)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
        try:
            weights, config = _load_weights(folder)
            if not (out / "word_embeddings.npy").is_file():
                np.save(tmp / "word_embeddings.npy", weights["embeddings.word_embeddings.weight"])
                os.replace(tmp / "word_embeddings.npy", out / "word_embeddings.npy")
            fp32 = out / "model-fp32.onnx"
            if not fp32.is_file():
                import onnx

                onnx.save(_graph(weights, config), str(tmp / fp32.name))
                os.replace(tmp / fp32.name, fp32)
            if quant != "fp32":
                import onnx
                from onnxruntime.quantization import QuantType, quantize_dynamic

                names = [n.name for n in onnx.load(str(fp32)).graph.node]
                keep = [n for n in names if n.endswith(_FLOAT_IN_MIXED)] if quant == "int8-mixed" else []
                quantize_dynamic(
                    fp32,
                    tmp / target.name,
                    op_types_to_quantize=["MatMul", "Attention"],
                    per_channel=True,
                    reduce_range=_reduce_range(),
                    weight_type=QuantType.QInt8,
                    nodes_to_exclude=keep,
                    # contrib ops (Attention, BiasGelu) have no shape inference for the quantiser
                    extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
                )
                os.replace(tmp / target.name, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


# --------------------------------------------------------------- embedder


@dataclass(frozen=True)
class OnnxSettings:
    quant: str
    max_seq_length: int
    batch_size: int
    threads: int  # passages in bulk
    query_threads: int  # a question, or a few short texts


class OnnxEmbedder:
    """The default model in ONNX Runtime; same tokenizer, truncation, pooling as the torch backend."""

    BULK = 64  # as TorchEmbedder: from this many texts on, a call gets every core

    def __init__(self, folder: Path, identity: ModelIdentity, settings: OnnxSettings) -> None:
        self._folder = folder
        self._dir = ensure_graph(folder, settings.quant)
        self._model = self._dir / _quant_name(settings.quant)
        self._words = np.load(self._dir / "word_embeddings.npy", mmap_mode="r")
        self._quick = quick_tokenizer.QuickTokenizer(self._dir / quick_tokenizer.TABLES)
        self._full: Any = None  # the tokenizers library, loaded for bulk work only (slow to load)
        self.identity = identity
        self.settings = settings
        self.max_seq_length = settings.max_seq_length
        self.quant = settings.quant
        self.prompts = (QUERY_PROMPT, PASSAGE_PROMPT)
        self._sessions: dict[int, Any] = {}
        self._lock = threading.Lock()

    def _session(self, threads: int) -> Any:
        with self._lock:
            if threads not in self._sessions:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                opts.intra_op_num_threads = threads
                opts.inter_op_num_threads = 1
                # A spinning pool burns the other core while a question waits on it (busy machines).
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                try:
                    self._sessions[threads] = ort.InferenceSession(
                        str(self._model), opts, providers=["CPUExecutionProvider"]
                    )
                except Exception as exc:  # ORT raises its own untyped errors
                    raise OnnxError(f"{self._model}: cannot load ONNX graph ({exc})") from None
            return self._sessions[threads]

    def _tokenizer(self) -> Any:
        with self._lock:
            if self._full is None:
                from tokenizers import Tokenizer

                self._full = Tokenizer.from_file(str(self._folder / "tokenizer.json"))
                self._full.no_padding()
                self._full.no_truncation()
            return self._full

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._tokenizer().encode_batch([PASSAGE_PROMPT + t for t in texts])]

    def _ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids, cut to max_seq_length; few texts by the quick tokenizer, many by the library."""
        limit = self.max_seq_length
        if len(texts) < self.BULK and not any(self._quick.has_special(t) for t in texts):
            return [self._quick.ids(t, limit) for t in texts]
        encs = self._tokenizer().encode_batch(texts)
        # The library's cut: the first limit - 2 content tokens, then </s> (as sentence-transformers).
        return [e.ids if len(e.ids) <= limit else [*e.ids[: limit - 1], e.ids[-1]] for e in encs]

    def _hidden(self, rows: list[list[int]], threads: int) -> tuple[np.ndarray, np.ndarray]:
        """Token states [B,T,H] and the mask [B,T] of a padded batch."""
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int32)
        for row, r in enumerate(rows):
            ids[row, : len(r)] = r
            mask[row, : len(r)] = 1
        words = np.asarray(self._words[ids.ravel()], dtype=np.float32).reshape(*ids.shape, -1)
        (hidden,) = self._session(threads).run(["hidden"], {"word_embeds": words, "mask": mask})
        return hidden, mask

    def _forward(self, rows: list[list[int]], threads: int) -> np.ndarray:
        hidden, mask = self._hidden(rows, threads)
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
        return _normalized(pooled)

    def _encode(self, texts: Sequence[str], prompt: str, show_progress: bool) -> np.ndarray:

        texts = list(texts)
        out = np.zeros((len(texts), self.identity.dim), dtype=np.float32)
        if not texts:
            return out
        threads = self.settings.threads if len(texts) >= self.BULK else self.settings.query_threads
        encs = self._ids([prompt + t for t in texts])
        if len(texts) == 1:
            out[0] = self._forward(encs, threads)[0]
            return out
        lengths = np.asarray([len(e) for e in encs])
        from tqdm.auto import tqdm

        with tqdm(total=len(texts), desc="embedding", unit="text", disable=not show_progress) as bar:
            for idx in self._token_batches(lengths):
                out[idx] = self._forward([encs[i] for i in idx], threads)
                bar.update(len(idx))
        return out

    def _token_batches(self, lengths: np.ndarray) -> Iterator[np.ndarray]:
        """Index groups holding about the same number of tokens: short texts go many to a batch."""
        from index.embedding import length_batches

        budget = self.settings.batch_size * 128
        for group in length_batches(lengths, self.settings.batch_size * 4):
            step = max(1, budget // max(1, int(lengths[group[0]])))
            for start in range(0, len(group), step):
                yield group[start : start + step]

    def encode_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, PASSAGE_PROMPT, show_progress)

    def encode_passages_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[Pieces]], *, show_progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and, from the same forward pass, a vector per unit of each text.

        A unit is one or more character spans of its text (a table row with its caption and header
        row); its vector is the mean of the token states those characters cover, normalised. A unit
        the token limit cuts (or whose span covers no token) gets a row of NaN: the caller encodes
        it some other way.
        """
        texts = list(texts)
        dim = self.identity.dim
        out = np.zeros((len(texts), dim), dtype=np.float32)
        parts = [np.full((len(s), dim), np.nan, dtype=np.float32) for s in spans]
        if not texts:
            return out, parts
        limit = self.max_seq_length
        encs = self._tokenizer().encode_batch([PASSAGE_PROMPT + t for t in texts])
        rows: list[list[int]] = []
        token_spans: list[list[np.ndarray | None]] = []
        shift = len(PASSAGE_PROMPT)
        for enc, text_spans in zip(encs, spans, strict=True):
            ids, offsets = list(enc.ids), list(enc.offsets)
            if len(ids) > limit:  # the same cut as _ids: the first limit - 2 tokens, then </s>
                ids, offsets = [*ids[: limit - 1], ids[-1]], offsets[: limit - 1]
            rows.append(ids)
            token_spans.append(_token_spans(offsets, text_spans, shift))
        lengths = np.asarray([len(r) for r in rows])
        from tqdm.auto import tqdm

        with tqdm(total=len(texts), desc="embedding", unit="text", disable=not show_progress) as bar:
            for idx in self._token_batches(lengths):
                hidden, mask = self._hidden([rows[i] for i in idx], self.settings.threads)
                m = mask[:, :, None].astype(np.float32)
                out[idx] = _normalized((hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0))
                for b, i in enumerate(idx):
                    for u, tokens in enumerate(token_spans[i]):
                        if tokens is not None:
                            parts[i][u] = _normalized(hidden[b, tokens].mean(axis=0))
                bar.update(len(idx))
        return out, parts

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, QUERY_PROMPT, False)


def _normalized(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def _token_spans(
    offsets: Sequence[tuple[int, int]], units: Sequence[Pieces], shift: int
) -> list[np.ndarray | None]:
    """Token positions of each unit's character spans (shifted by `shift`); None when a span is
    cut off by the token limit, unplaced (negative start) or covers no token."""
    starts = np.asarray([a for a, _ in offsets], dtype=np.int64)
    ends = np.asarray([b for _, b in offsets], dtype=np.int64)
    content = np.flatnonzero(ends > starts)  # special tokens cover no characters
    if not len(content):
        return [None] * len(units)
    starts, ends = starts[content], ends[content]
    kept_end = int(ends[-1])
    found: list[np.ndarray | None] = []
    for pieces in units:
        positions: list[np.ndarray] = []
        for start, end in pieces:
            if start < 0 or end + shift > kept_end:
                break  # unplaced, or cut off by the token limit
            # first token ending after the span starts, first token starting at or after its end
            first = int(np.searchsorted(ends, start + shift, side="right"))
            last = int(np.searchsorted(starts, end + shift, side="left"))
            if last <= first:
                break
            positions.append(content[first:last])
        else:
            found.append(np.unique(np.concatenate(positions)) if positions else None)
            continue
        found.append(None)
    return found
