"""The default model's tokenizer in plain Python, for a process that encodes a few short texts.

Building the ``tokenizers`` Unigram model from 250k pieces costs seconds at start-up; a question
needs a few dozen Viterbi steps. This module segments exactly like the ``tokenizer.json`` that
``e5_convert.build_tokenizer`` writes (per-codepoint normalisation, runs of spaces collapsed,
U+2581 for spaces and in front, characters in no piece isolated, Unigram Viterbi, unknowns fused,
``<s> ... </s>``); a test compares both on thousands of texts. Its tables load in milliseconds.
"""

from __future__ import annotations

import marshal
import mmap
import os
import re
import struct
import zlib
from pathlib import Path

from index import e5_convert

_METASPACE = "\u2581"
_UNK_PENALTY = 10.0  # the ``tokenizers`` Unigram score of an unknown character: min score - 10
TABLES = "quick_tokenizer.marshal"
PIECES = "quick_tokenizer.pieces"  # hash table of the pieces, memory-mapped: nothing to build at load


def _slot(key: bytes, mask: int) -> int:
    return zlib.crc32(key) & mask


def write_tables(out: Path) -> Path:
    """Write the tables (pieces, scores, normalisation map, special ids) into ``out``.

    ``PIECES`` holds an open-addressing hash table: ``slots`` (int32 piece index or -1),
    ``ids`` (int32), ``scores`` (float64), ``offsets`` (int64) and the UTF-8 ``blob`` of the pieces.
    """
    packed = e5_convert.read_packed(e5_convert.default_packed_path(), with_weights=False)
    specials = {packed.bos, packed.eos, packed.pad, packed.unk}
    entries = [(p, i, float(s)) for i, (p, s) in enumerate(zip(packed.pieces, packed.scores, strict=True))]
    entries = [e for e in entries if e[1] not in specials]
    size = 1 << max(len(entries) * 2, 2).bit_length()  # load factor <= 1/2
    slots = [-1] * size
    blob = bytearray()
    offsets = [0]
    for k, (piece, _, _) in enumerate(entries):
        key = piece.encode("utf-8")
        h = _slot(key, size - 1)
        while slots[h] != -1:
            h = (h + 1) & (size - 1)
        slots[h] = k
        blob += key
        offsets.append(len(blob))
    n = len(entries)
    body = struct.pack(f"<{size}i", *slots)
    body += struct.pack(f"<{n}i", *(e[1] for e in entries))
    body += struct.pack(f"<{n}d", *(e[2] for e in entries))
    body += struct.pack(f"<{n + 1}q", *offsets) + bytes(blob)
    data = {
        "size": size,
        "count": n,
        "known": "".join(sorted({ch for p, _, _ in entries for ch in p})),
        "max_len": max(len(p) for p, _, _ in entries),
        "unk_score": float(packed.scores.min()) - _UNK_PENALTY,
        "specials": [packed.pieces[i] for i in sorted(specials)],
        "norm": dict(packed.norm_map),
        "bos": packed.bos,
        "eos": packed.eos,
        "unk": packed.unk,
    }
    for name, payload in ((PIECES, body), (TABLES, marshal.dumps(data))):  # TABLES last: it marks done
        tmp = out / f".{name}.{os.getpid()}"
        tmp.write_bytes(payload)
        os.replace(tmp, out / name)
    return out / TABLES


class _Pieces:
    """Read-only view of the ``PIECES`` hash table: piece -> (id, score)."""

    def __init__(self, path: Path, size: int, count: int) -> None:
        with path.open("rb") as fh:
            self._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(self._mm)
        pos = 0

        def take(n: int, width: int, fmt: str) -> memoryview:
            nonlocal pos
            part = view[pos : pos + n * width].cast(fmt)
            pos += n * width
            return part

        self._mask = size - 1
        self._slots = take(size, 4, "i")
        self._ids = take(count, 4, "i")
        self._scores = take(count, 8, "d")
        self._offsets = take(count + 1, 8, "q")
        self._blob = view[pos:]

    def get(self, piece: str) -> tuple[int, float] | None:
        key = piece.encode("utf-8")
        h = _slot(key, self._mask)
        while (k := self._slots[h]) != -1:
            if self._blob[self._offsets[k] : self._offsets[k + 1]] == key:
                return self._ids[k], self._scores[k]
            h = (h + 1) & self._mask
        return None


class QuickTokenizer:
    """Token ids of ``<s> text </s>``, cut to ``max_length`` tokens like the torch backend."""

    def __init__(self, tables: Path) -> None:
        data = marshal.loads(tables.read_bytes())
        self.bos, self.eos, self.unk = int(data["bos"]), int(data["eos"]), int(data["unk"])
        self._specials: list[str] = [*data["specials"], "<mask>"]
        self._piece = _Pieces(tables.parent / PIECES, int(data["size"]), int(data["count"]))
        self._max_len: int = data["max_len"]
        self._unk_score: float = data["unk_score"]
        self._norm: dict[int, str] = data["norm"]
        self._known = frozenset(data["known"]) | {_METASPACE}
        self._spaces = re.compile(" {2,}")

    def has_special(self, text: str) -> bool:
        """True if ``text`` holds a special token's spelling (left to the full tokenizer)."""
        return any(s in text for s in self._specials)

    def _normalise(self, text: str) -> str:
        norm = self._norm
        out = "".join(norm.get(ord(ch), ch) for ch in text)
        return self._spaces.sub(" ", out)

    def _viterbi(self, s: str) -> list[int]:
        n = len(s)
        best: list[tuple[float, int, int] | None] = [None] * (n + 1)  # (score, start, id)
        best[0] = (0.0, -1, -1)
        piece = self._piece
        for pos in range(n):
            here = best[pos]
            if here is None:
                continue
            base = here[0]
            single = False
            for end in range(pos + 1, min(n, pos + self._max_len) + 1):
                hit = piece.get(s[pos:end])
                if hit is None:
                    continue
                if end == pos + 1:
                    single = True
                score = base + hit[1]
                node = best[end]
                if node is None or score > node[0]:
                    best[end] = (score, pos, hit[0])
            if not single:
                score = base + self._unk_score
                node = best[pos + 1]
                if node is None or score > node[0]:
                    best[pos + 1] = (score, pos, self.unk)
        ids: list[int] = []
        end = n
        while end > 0:
            node = best[end]
            assert node is not None
            ids.append(node[2])
            end = node[1]
        ids.reverse()
        fused: list[int] = []
        for i in ids:  # consecutive unknowns become one, as the Unigram model fuses them
            if not (i == self.unk and fused and fused[-1] == self.unk):
                fused.append(i)
        return fused

    def ids(self, text: str, max_length: int) -> list[int]:
        s = self._normalise(text).replace(" ", _METASPACE)
        if not s.startswith(_METASPACE):
            s = _METASPACE + s
        out: list[int] = []
        run_start = 0
        for i, ch in enumerate(s):
            if ch not in self._known:  # isolated: segmented on its own
                if i > run_start:
                    out += self._viterbi(s[run_start:i])
                out += self._viterbi(ch)
                run_start = i + 1
        if run_start < len(s):
            out += self._viterbi(s[run_start:])
        return [self.bos, *out[: max(max_length - 2, 0)], self.eos]
