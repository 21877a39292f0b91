"""English names in a question -> the Chinese names the reports' tables use, by the multilingual encoder.

A table names its rows and columns in Chinese (文化部, 前瞻基礎建設, 數位生活服務使用普及率); an English
question names them in English ("Ministry of Culture"), and no dictionary holds most of them. The
embedding model places a name and its translation close together, so each run of content words of
the question is compared with every row label and column header of the index's tables, and the
nearest one is taken when it stands out from the rest (`NAME_SALIENCE`, learned on the development set's
tune part by `bench/learn_names.py`). The names found join the question's lexical terms and the
cell reader's row and column forms.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.tables import close_cjk_gaps, is_numeric, read_table_text
from corpus.types import Chunk
from index.embedding import Embedder

logger = logging.getLogger(__name__)

# How far a phrase's nearest table name stands out from the phrase's similarity to ordinary words
# (standard deviations above their mean, over `BACKGROUND_WORDS` words spread over CC-CEDICT) for
# the name to be taken as its translation. A raw cosine does not separate them: a generic word
# ("share", "total") is close to every word, a name ("Ministry of Culture" -> 文化部) to one.
# Learned by bench/learn_names.py on the tune part's English table questions (right names less
# wrong ones, set midway between neighbouring scores).
NAME_SALIENCE = 7.04
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z&'’-]*|\d+(?:\.\d+)?")
# Words that end a phrase; "of", "and" and "for" stay inside a capitalised name (Ministry of Culture).
_BREAK = frozenset(
    """a an the in on at to from by with or is are was were be been being do does did what which who
    whom whose when where why how many much there this that these those it its as about into than
    then according report reports tell me please has have had their they them give list s per
    during since after before under over each every any all among between""".split()
)
_INNER = frozenset({"of", "and", "for", "&"})
_CAPITALISED = re.compile(r"[A-Z][\w&'-]*(?:\s+(?:(?:of|and|for|&)\s+)?[A-Z][\w&'-]*)*")
MAX_PHRASE_WORDS = 6
MAX_PHRASES = 16
MAX_NAME_CHARS = 24


def phrases(question: str) -> list[str]:
    """Runs of content words: 「Ministry of Culture」, 「digital life service usage rate」."""
    words = _WORD.findall(question)
    runs: list[list[str]] = [[]]
    for i, word in enumerate(words):
        lower = word.lower()
        nxt = words[i + 1] if i + 1 < len(words) else ""
        inner = lower in _INNER and runs[-1] and runs[-1][-1][:1].isupper() and nxt[:1].isupper()
        if ((lower in _BREAK or lower in _INNER) and not inner) or word[0].isdigit():
            runs.append([])
            continue
        if word.endswith(("'s", "’s")):
            # A possessive ends a name: "Israel's R&D expenditure" speaks of Israel, then of R&D.
            runs[-1].append(word[:-2])
            runs.append([])
            continue
        runs[-1].append(word)
    out = []
    for run in runs:
        if run and len(run) <= MAX_PHRASE_WORDS and sum(len(w) for w in run) >= 3:
            out.append(" ".join(run))
            # The capitalised name inside a run is a phrase of its own ("Ministry of Culture receive").
            name = _CAPITALISED.search(" ".join(run))
            if name and name.group(0) != out[-1] and len(name.group(0)) >= 3:
                out.append(name.group(0))
    # A pasted wall of text must not cost an encoder batch per sentence: the first phrases suffice.
    return list(dict.fromkeys(out))[:MAX_PHRASES]


def table_rows(chunks: Sequence[Chunk]) -> tuple[set[str], dict[str, list[Chunk]]]:
    """(every table name, the table chunks holding each row label)."""
    found: set[str] = set()
    rows_of: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        if chunk.kind != "table" or "\t" not in chunk.text:
            continue
        table = read_table_text(chunk.text, chunk.table_header)
        if table is None:
            continue
        labels = [c for row in table.rows for c in row[:3]]
        for n, cell in enumerate(labels + list(table.columns)):
            name = _name(cell)
            if name is None:
                continue
            found.add(name)
            if n < len(labels) and chunk not in rows_of.setdefault(name, []):
                rows_of[name].append(chunk)
    return found, rows_of


def _name(cell: str) -> str | None:
    name = close_cjk_gaps(cell.strip())
    if 2 <= len(name) <= MAX_NAME_CHARS and len(_CJK.findall(name)) >= 2 and not is_numeric(name):
        return name
    return None


BACKGROUND_WORDS = 400


def _background() -> list[str]:
    from qa.glossary import glossary

    found = glossary()
    return found.sample_words(BACKGROUND_WORDS) if found is not None else []


@dataclass(frozen=True)
class NameMatch:
    phrase: str
    name: str
    similarity: float  # cosine of the phrase and its nearest name
    salience: float  # that cosine in standard deviations above the phrase's mean over ordinary words


class NameAligner:
    """Nearest table names for the phrases of English questions, over one index's tables."""

    @classmethod
    def for_chunks(
        cls, chunks: Sequence[Chunk], embedder: Embedder, cache_dir: Path | None = None
    ) -> NameAligner:
        names, rows_of = table_rows(chunks)
        return cls(sorted(names), embedder, cache_dir, rows_of)

    def __init__(
        self,
        names: Sequence[str],
        embedder: Embedder,
        cache_dir: Path | None = None,
        rows_of: dict[str, list[Chunk]] | None = None,
        background: Sequence[str] | None = None,
    ) -> None:
        self.names = list(names)
        self.rows_of = rows_of or {}  # row label -> the table chunks holding that row
        self.embedder = embedder
        # Ordinary words a phrase's likeness to a name is measured against, so that salience means
        # the same over a small index of countries as over a large one of many kinds of names.
        self.background = list(_background() if background is None else background)
        self._vectors: tuple[np.ndarray, np.ndarray] | None = None
        self._cache_dir = cache_dir
        self._lock = threading.Lock()

    def _name_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if self._vectors is None:
                self._vectors = (self._load_or_encode(self.names), self._load_or_encode(self.background))
            return self._vectors

    def _cache_file(self, texts: Sequence[str]) -> Path | None:
        if self._cache_dir is None:
            return None
        identity = getattr(self.embedder, "identity", None)
        key = hashlib.sha256(
            "\n".join([getattr(identity, "fingerprint", type(self.embedder).__name__), *texts]).encode()
        ).hexdigest()[:20]
        return self._cache_dir / f"table-names-{key}.npy"

    def _load_or_encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        path = self._cache_file(texts)
        if path is not None and path.is_file():
            try:
                vectors = np.load(path)
                if vectors.shape[0] == len(texts):
                    return vectors
            except (OSError, ValueError):
                pass  # a damaged cache file is simply encoded again
        # Names are compared with names: the query prompt on both sides (a symmetric task for e5).
        vectors = np.asarray(self.embedder.encode_queries(list(texts)), dtype=np.float32)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, vectors)
                tmp.replace(path)
            except OSError as error:
                logger.info("table-name vectors not cached: %s", error)
        return vectors

    def matches(self, question: str, per_phrase: int = 1) -> list[NameMatch]:
        """Each phrase's nearest table names (`per_phrase` of them) with their scores, no threshold."""
        found = phrases(question)
        if not found or not self.names:
            return []
        names, background = self._name_vectors()
        vectors = np.asarray(self.embedder.encode_queries(found), dtype=np.float32)
        scores = vectors @ names.T
        base = vectors @ background.T if len(background) else scores
        mean, std = base.mean(axis=1), np.maximum(base.std(axis=1), 1e-6)
        out = []
        for i, phrase in enumerate(found):
            for j in np.argsort(-scores[i])[:per_phrase]:
                salience = float((scores[i, j] - mean[i]) / std[i])
                out.append(NameMatch(phrase, self.names[j], float(scores[i, j]), salience))
        return out

    def align(self, question: str, threshold: float = NAME_SALIENCE) -> list[NameMatch]:
        """The table names an English question's phrases name (the nearest of each), most salient first."""
        kept = [m for m in self.matches(question) if m.salience >= threshold]
        return sorted(kept, key=lambda m: -m.salience)
