"""The default model's tokenizer in plain Python, for a process that encodes a few short texts.

Building the ``tokenizers`` Unigram model from 250k pieces costs seconds at start-up; a question
needs a few dozen Viterbi steps. This module segments exactly like the ``tokenizer.json`` that
``e5_convert.build_tokenizer`` writes (per-codepoint normalisation, runs of spaces collapsed,
U+2581 for spaces and in front, characters in no piece isolated, Unigram Viterbi, unknowns fused,
``<s> ... </s>``); a test compares both on thousands of texts. Its tables are one ``marshal`` file.
"""

from __future__ import annotations

import marshal
import os
import re
from pathlib import Path

from index import e5_convert

_METASPACE = "\u2581"
_UNK_PENALTY = 10.0  # the ``tokenizers`` Unigram score of an unknown character: min score - 10
TABLES = "quick_tokenizer.marshal"


def write_tables(out: Path) -> Path:
    """Write the tables (pieces, scores, normalisation map, special ids) into ``out``."""
    packed = e5_convert.read_packed(e5_convert.default_packed_path(), with_weights=False)
    specials = {packed.bos, packed.eos, packed.pad, packed.unk}
    pieces = {
        p: (i, float(s))
        for i, (p, s) in enumerate(zip(packed.pieces, packed.scores, strict=True))
        if i not in specials
    }
    data = {
        "pieces": pieces,  # marshal loads a dict in C: no per-piece Python work at start-up
        "known": "".join(sorted({ch for p in pieces for ch in p})),
        "max_len": max(len(p) for p in pieces),
        "unk_score": float(packed.scores.min()) - _UNK_PENALTY,
        "specials": [packed.pieces[i] for i in sorted(specials)],
        "norm": dict(packed.norm_map),
        "bos": packed.bos,
        "eos": packed.eos,
        "unk": packed.unk,
    }
    target = out / TABLES
    tmp = out / f".{TABLES}.{os.getpid()}"
    tmp.write_bytes(marshal.dumps(data))
    os.replace(tmp, target)
    return target


class QuickTokenizer:
    """Token ids of ``<s> text </s>``, cut to ``max_length`` tokens like the torch backend."""

    def __init__(self, tables: Path) -> None:
        data = marshal.loads(tables.read_bytes())
        self.bos, self.eos, self.unk = int(data["bos"]), int(data["eos"]), int(data["unk"])
        self._specials: list[str] = [*data["specials"], "<mask>"]
        self._piece: dict[str, tuple[int, float]] = data["pieces"]
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
