"""Hybrid retrieval: dense and BM25 candidates, fused, de-duplicated, with matched terms marked."""

from __future__ import annotations

import dataclasses
import logging
import operator
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from corpus import segment
from corpus.bilingual import names_in_question
from corpus.normalize import to_canonical_script, to_traditional_script
from corpus.segment import BM25_STOP_WORDS
from corpus.types import Chunk
from index.analysis import AnalysisOptions, lexical_tokens, match_form
from index.backend import SearchIndex
from index.embedding import Embedder
from index.types import Candidate, Hit, SearchFilter
from qa.conditions import agency_names, english_agencies_in
from qa.errors import QAError
from qa.language import asked_scripts
from qa.names import NameAligner, NameMatch

logger = logging.getLogger(__name__)

Mode = Literal["bm25", "dense", "hybrid"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")
# "learned" weighs each side by what the question and passage say it is worth (qa/fusion.py).
# "auto" uses it for English questions only: measured on the development set's check part (PDFs),
# the learned weights lift English and cross-lingual recall but cost Chinese table questions.
FUSIONS: tuple[str, ...] = ("auto", "zscore", "rrf", "learned")
# More passages than anyone reads; past this a larger k only makes every store scan deeper.
MAX_K = 1000


@dataclass
class RetrievalConfig:
    k: int = 10
    depth: int = 100  # candidates taken from each store before fusion
    # "auto" (learned for English questions, else zscore), "learned" (qa/fusion.py), "zscore"
    # (fixed share of standardised scores) or "rrf"
    fusion: str = "auto"
    lexical_weight: float = 0.7  # zscore only: share of BM25 in the fused score (bench/fusion_sweep.py)
    rrf_k: int = 60
    dedupe_overlap: float = 0.5  # drop a passage sharing more than this share with a better one
    english_glossary: bool = True  # English questions also search Chinese words (CC-CEDICT)


def _zscores(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    if std < 1e-9:
        return np.zeros_like(values)
    return (values - float(values.mean())) / std


def fuse(
    candidates: Sequence[Candidate], mode: Mode, config: RetrievalConfig, query: str = ""
) -> list[float]:
    """One score per candidate; higher is better (`query` feeds the learned fusion's features)."""
    if mode == "dense":
        return [c.dense or 0.0 for c in candidates]
    if mode == "bm25":
        return [c.lexical or 0.0 for c in candidates]
    if config.fusion == "rrf":
        return [
            sum(1.0 / (config.rrf_k + r) for r in (c.dense_rank, c.lexical_rank) if r is not None)
            for c in candidates
        ]
    if config.fusion == "learned" or (config.fusion == "auto" and _is_english(query)):
        from qa.fusion import features, shipped_weights

        return list(shipped_weights().score(features(query, query_terms(query), candidates)))
    if config.fusion not in ("zscore", "auto"):  # Config.load refuses these; a config built in code may not
        raise QAError(f"Unknown fusion {config.fusion!r}; use one of {', '.join(FUSIONS)}.")
    dense = _zscores(np.array([c.dense or 0.0 for c in candidates], dtype=np.float64))
    lexical = _zscores(np.array([c.lexical or 0.0 for c in candidates], dtype=np.float64))
    w = config.lexical_weight
    return list(w * lexical + (1.0 - w) * dense)


def _overlap(a: Candidate, b: Candidate) -> float:
    if a.chunk.doc_id != b.chunk.doc_id:
        return 0.0
    lo = max(a.chunk.char_start, b.chunk.char_start)
    hi = min(a.chunk.char_end, b.chunk.char_end)
    if hi <= lo:
        return 0.0
    shorter = min(a.chunk.char_end - a.chunk.char_start, b.chunk.char_end - b.chunk.char_start)
    return (hi - lo) / max(1, shorter)


_WORDISH = re.compile(r"[\w\u3400-\u9fff]")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")


def _is_english(query: str) -> bool:
    letters = sum(ch.isascii() and ch.isalpha() for ch in query)
    return letters >= 3 and not _CJK_CHAR.search(query)


def query_terms(query: str) -> list[str]:
    """Words of the query worth marking in a passage (no punctuation, no lone CJK characters)."""
    terms: list[str] = []
    for tok in segment(query):
        text = tok.text.strip()
        if not text or not _WORDISH.search(text):
            continue
        if len(text) == 1 and not text.isascii():
            continue
        if text.isascii() and len(text) < 2:
            continue
        if text.lower() in BM25_STOP_WORDS:  # "the", "of", 的: not what the reader looks for
            continue
        if text.lower() not in {t.lower() for t in terms}:
            terms.append(text)
    return terms


_LATIN = re.compile(r"[A-Za-z0-9]")


def _term_pattern(term: str) -> str:
    """`term` as a regular expression; a term that starts or ends in a Latin letter or digit must
    start or end a word there ("NT" is not the "nt" of "Central")."""
    head = r"(?<![A-Za-z0-9])" if _LATIN.match(term[:1]) else ""
    tail = r"(?![A-Za-z0-9])" if _LATIN.match(term[-1:]) else ""
    return f"{head}{re.escape(term)}{tail}"


def matched_terms(terms: Sequence[str], text: str) -> tuple[str, ...]:
    """The query terms found in `text`, in the script the text uses (for highlighting)."""
    found: list[str] = []
    for term in terms:
        # Length-preserving conversions: the match in `text` is exactly as long as the form found.
        for form in dict.fromkeys((term, to_traditional_script(term), to_canonical_script(term))):
            m = re.search(_term_pattern(form), text, re.IGNORECASE) if form else None
            if m is not None:
                found.append(m.group(0))
                break
    return tuple(found)


class Retriever:
    """Turns a query into ranked Hits from any SearchIndex."""

    def __init__(
        self,
        index: SearchIndex,
        embedder: Embedder | None,
        config: RetrievalConfig | None = None,
        analysis: AnalysisOptions | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self.analysis = analysis or AnalysisOptions()
        self._aligner: NameAligner | None = None
        self._aligned: dict[str, list[NameMatch]] = {}  # the last questions' (rows, then names)
        self._aligned_lock = threading.Lock()

    def table_names_for(self, query: str) -> list[str]:
        """The index's table row and column names an English question speaks of (qa/names.py)."""
        return list(dict.fromkeys(m.name for m in self._table_matches(query)))

    def named_table_rows(self, query: str, limit: int = 6) -> list[Chunk]:
        """The table chunks holding a row an English question names by its English name (文化部 for
        "Ministry of Culture"): the cell reader looks there even when the ranking does not."""
        matches = self._table_matches(query)
        if self._aligner is None:
            return []
        rows_of = self._aligner.rows_of
        groups = []
        for m in matches:
            # A label that starts with the name found counts too: 教育 (an index's row), 教育部 (an agency).
            labels = [label for label in rows_of if label.startswith(m.name)]
            groups.append([c for label in labels for c in rows_of[label]])
        # The rarest name first: 臺灣 stands in every table of the reports, 教育 in few.
        found = [c for group in sorted(groups, key=len) for c in group]
        return list({c.chunk_id: c for c in found}.values())[:limit]

    def _table_matches(self, query: str) -> list[NameMatch]:
        if not (self.config.english_glossary and _is_english(query)) or self.embedder is None:
            return []
        with self._aligned_lock:
            if query in self._aligned:
                return self._aligned[query]
            if self._aligner is None:
                from platformdirs import user_cache_dir

                cache = Path(user_cache_dir("reportqa")) / "names"
                self._aligner = NameAligner.for_chunks(self.index.all_chunks(), self.embedder, cache)
            aligner = self._aligner
        try:
            names = aligner.align(query)
        except Exception as error:  # the names only help: an answer must not fail for them
            logger.warning("table names not aligned, answering without them: %s", error)
            names = []
        with self._aligned_lock:
            if len(self._aligned) >= 64:
                self._aligned.pop(next(iter(self._aligned)))
            self._aligned[query] = names
        return names

    def _chinese_terms(self, query: str) -> list[str]:
        from qa.glossary import glossary

        # The reports' own bilingual names first: they are definitions, the dictionary only guesses.
        names = names_in_question(query, self.index.manifest.glossary)
        # Agencies named in English ("Ministry of Health and Welfare") by all their Chinese names.
        names += [n for name, _, _ in english_agencies_in(query) for n in agency_names(name)]
        guesses = glossary().terms(query) if glossary() is not None else []  # type: ignore[union-attr]
        terms = list(dict.fromkeys(names + guesses))
        if not terms:
            return []
        # Words and their bigrams, not single characters: a translation is a guess, and single
        # characters would let every wrong sense of it match.
        words_only = dataclasses.replace(self.analysis, char_unigrams=False)
        return lexical_tokens(" ".join(terms), words_only)

    @staticmethod
    def _checked_k(k: int) -> int:
        """At least one passage; more than MAX_K is capped (the stores would scan 3k deep)."""
        try:
            k = operator.index(k)
        except TypeError:
            raise QAError(f"The number of passages must be a whole number, not {k!r}.") from None
        if k < 1:
            raise QAError(f"The number of passages must be at least 1 (got {k}).")
        return min(k, MAX_K)

    def candidates(
        self, query: str, k: int, flt: SearchFilter | None = None, mode: Mode = "hybrid"
    ) -> list[Candidate]:
        """The unfused candidates of both stores for `query` (what fusion ranks; training reads them)."""
        vector = None
        if mode in ("dense", "hybrid"):
            if self.embedder is None:
                raise ValueError("dense retrieval needs an embedding model")
            vector = self.embedder.encode_queries([match_form(query, self.analysis)])[0]
        tokens = lexical_tokens(query, self.analysis) if mode in ("bm25", "hybrid") else None
        if tokens is not None and self.config.english_glossary and _is_english(query):
            tokens += self._chinese_terms(query)
        depth = max(self.config.depth, k * 3)
        return self.index.candidates(vector, tokens, depth, flt)

    def search(
        self, query: str, *, k: int | None = None, flt: SearchFilter | None = None, mode: Mode = "hybrid"
    ) -> list[Hit]:
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        k = self._checked_k(self.config.k if k is None else k)
        # 「英文執行摘要中…」 asks what the English text says: look there first, and everywhere when
        # the index holds no passage in that language (or the caller chose the scripts).
        scripts = asked_scripts(query) if flt is None or not flt.scripts else ()
        if scripts:
            scoped = dataclasses.replace(flt or SearchFilter(), scripts=scripts)
            hits = self._ranked(query, k, scoped, mode)
            if hits:
                return hits
        return self._ranked(query, k, flt, mode)

    def _ranked(self, query: str, k: int, flt: SearchFilter | None, mode: Mode) -> list[Hit]:
        candidates = self.candidates(query, k, flt, mode)
        if not candidates:
            return []
        scores = fuse(candidates, mode, self.config, query)
        order = sorted(range(len(candidates)), key=lambda i: -scores[i])
        kept: list[int] = []
        for i in order:
            if any(_overlap(candidates[i], candidates[j]) > self.config.dedupe_overlap for j in kept):
                continue
            kept.append(i)
            if len(kept) == k:
                break
        terms = query_terms(query)
        return [
            Hit(
                chunk=candidates[i].chunk,
                score=float(scores[i]),
                rank=rank,
                dense_score=candidates[i].dense,
                lexical_score=candidates[i].lexical,
                matched_terms=matched_terms(terms, candidates[i].chunk.text),
            )
            for rank, i in enumerate(kept, 1)
        ]


def highlight(text: str, terms: Sequence[str]) -> list[tuple[str, bool]]:
    """Split `text` into (segment, is_match) runs for the given terms (longest first)."""
    terms = sorted({t for t in terms if t}, key=len, reverse=True)
    if not terms:
        return [(text, False)] if text else []
    pattern = re.compile("|".join(_term_pattern(t) for t in terms), re.IGNORECASE)
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], False))
        if out and out[-1][1] and m.start() == pos:
            out[-1] = (out[-1][0] + m.group(0), True)  # adjacent terms read as one mark
        else:
            out.append((m.group(0), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out
