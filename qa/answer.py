"""Extractive answers with verified citations, figure-first answers and abstention.

From the top passages, every sentence (or table row) is scored by the question's terms, numbers and
names it contains, its dense similarity to the question and the passage's rank; the best one to three
are shown, each followed by its citation number. A confidence in [0, 1] decides whether to answer or
to abstain. An optional OpenAI-compatible chat model rewrites the answer (qa/generative.py); its
sentences are kept only where their citations verify.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import numpy as np

from corpus.address import format_address
from corpus.tables import caption_parts, table_numbers_in
from corpus.types import Chunk
from index.backend import unit_vectors_of
from index.types import Hit
from qa.cells import (  # table-cell answers; the hook is in answer_question
    CHANGE_NAMED,
    SHARE_NAMED,
    cell_answer,
    cell_key,
    condition_words,
    other_kind_of,
)
from qa.citations import build_citation, verify_quote
from qa.conditions import (
    Condition,
    Evidence,
    canonical,
    check_conditions,
    conflicting_years,
    extract_conditions,
    named_in,
    written_as_is,
    year_mentions,
)
from qa.confidence import (
    CONDITION_KINDS,
    AnswerFeatures,
    CandidateFeatures,
    ConfidenceModel,
    condition_counts,
    shipped_model,
    sigmoid,
)
from qa.figures import (
    RANKING,
    RATING,
    RATING_NAMED,
    Figure,
    FigureKind,
    Measure,
    asked_measure,
    digits,
    enumerator_end,
    expected_kind,
    find_figures,
    fits,
    is_figure_question,
    states_a_quantity,
    years_in,
)
from qa.glossary import Translations
from qa.language import (
    Language,
    Term,
    detect_language,
    is_cjk_text,
    latin_word_set,
    matching_form,
    messages,
    question_bigrams,
    question_terms,
    term_found,
)
from qa.sentences import Sentence, header_cells, row_cells, split_units, with_antecedent
from qa.types import Answer, Citation, ConditionResult
from qa.vector_cache import passage_vectors

if TYPE_CHECKING:
    from qa.generative import GenerativeAnswer

__all__ = [
    "AnswerConfig",
    "Embedder",
    "ScoredCandidates",
    "Selectable",
    "answer_question",
    "candidate_records",
    "effective_threshold",
    "select_indices",
    "verify_quote",
]

logger = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the answerer needs from index.embedding's Embedder."""

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray: ...


@dataclass
class AnswerConfig:
    """Settings of the answering layer (composed into the product's Config by the lead)."""

    max_sentences: int = 3
    passages: int = 5  # top hits considered for sentences
    # Refuse below this confidence; None uses the threshold learned with the shipped confidence model
    # (qa/data/confidence.json). `qa eval --calibrate` suggests one for another corpus.
    abstain_below: float | None = None
    # "learned": the shipped models give the confidence (qa/data/confidence.json, with the sentence
    # choice it names); "hand": the hand-set weights of earlier releases, with HAND_THRESHOLD unless
    # abstain_below is set. Learned is the default since it was trained on XQuAD's tuning half too:
    # it answers more held-out XQuAD and DRCD questions rightly and holds the development check part.
    confidence: str = "learned"
    generative_url: str | None = None  # OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1
    generative_model: str | None = None
    generative_api_key: str | None = None
    generative_timeout_s: float = 30.0
    max_candidates: int = 24  # sentences embedded per question (cheap lexical pre-selection first)
    keep_ratio: float = 0.8  # further sentences need this share of the best sentence's score
    # ... or this share when they come from the best sentence's own passage: the answer often sits
    # beside the sentence that repeats the question's words (chosen on the tuning halves, README).
    same_passage_ratio: float = 0.5


CONFIDENCE_MODES = ("learned", "hand")  # [answer] confidence
# The hand-set confidence's threshold, calibrated on the development set (<= 5% of answerable refused).
HAND_THRESHOLD = 0.25
# A table or figure label (表 2, 附表 6, 圖 3), not the same character ending a word: 發表 39,589 篇
# counts papers published, 代表 3 人 people.
_LABEL = (
    r"(?:(?<![發发代報报列課课時时外統统總总清電电圖图])表|(?<![地藍蓝企意試试構构版插表])(?:圖|图)"
    r"|附錄|附录|Table|Figure)"
)
_LABEL_NUMBER = re.compile(rf"(?:{_LABEL}|Fig\.|\d-)\s*$")


@dataclass
class _Candidate:
    hit: Hit
    unit: Sentence
    coverage: float  # weighted share of question terms in the sentence (or row with its header)
    passage_coverage: float  # the same over the passage with its title and section path
    cross_script: bool  # question and sentence in different languages (English vs Chinese)
    dense: float | None = None
    figure: Figure | None = None
    column: str | None = None  # table rows: the header of the column the figure came from
    score: float = 0.0  # the sentence model's probability that this sentence holds the answer
    logit: float = 0.0  # ... as log-odds
    conditions: list[ConditionResult] = field(default_factory=list)  # the question's, checked here
    features: CandidateFeatures | None = None

    @property
    def blocked(self) -> list[ConditionResult]:
        """Conditions this sentence contradicts or lacks: it must not be given as the answer."""
        return [r for r in self.conditions if r.blocking]


@dataclass(frozen=True)
class _QuestionInfo:
    text: str
    language: Language
    terms: tuple[Term, ...]
    bigrams: frozenset[str]
    figure_question: bool
    kind: FigureKind | None
    numbers: frozenset[str] = field(default_factory=frozenset)  # digits of numbers in the question
    measure: Measure | None = None  # what the asked figure counts (多少「位」使用者), when the question says


def _coverage(info: _QuestionInfo, text: str, cross_script: bool) -> float:
    """Weighted share of question terms (and, for Chinese, character bigrams) found in `text`."""
    match_text = matching_form(text)
    words = latin_word_set(text)
    # Across languages only numbers and names written in Latin letters (AI, NIST) can match.
    terms = [t for t in info.terms if not cross_script or t.kind == "number" or t.name]
    if not terms:
        return 0.0
    total = sum(t.weight for t in terms)
    found = sum(t.weight for t in terms if term_found(t, match_text, words))
    share = found / total
    if info.bigrams and not cross_script:
        grams = sum(1 for g in info.bigrams if g in match_text) / len(info.bigrams)
        share = 0.6 * share + 0.4 * grams
    return share


def _passage_text(chunk: Chunk) -> str:
    return f"{chunk.title}\n{chunk.index_text}"


def _unit_text(unit: Sentence) -> str:
    return f"{unit.header}\n{unit.text}" if unit.is_row and unit.header else unit.text


def _sentence_figures(info: _QuestionInfo, text: str) -> list[Figure]:
    """The figures of a sentence that could answer the question (not labels, not its own numbers)."""
    out = []
    for figure in find_figures(text):
        if _LABEL_NUMBER.search(text[: figure.start]) or text[figure.end : figure.end + 1] in ("-", "–"):
            continue  # 表 2-1, 圖 3: labels, not figures
        if figure.start < enumerator_end(text):
            continue  # "(6) 應用…": a list marker
        if digits(figure.number) in info.numbers:
            continue  # the question's own numbers (113 年) are not the answer
        if figure.kind == "year" and info.kind != "year":
            continue
        if (
            not figure.unit
            and text[figure.end : figure.end + 1].isascii()
            and text[figure.end : figure.end + 1].isalpha()
        ):
            continue  # 5G, 100Mbps, 4K: part of a name, not a figure
        out.append(figure)
    return out


def _pick_sentence_figure(info: _QuestionInfo, text: str) -> Figure | None:
    best: tuple[float, Figure] | None = None
    lowered = text.lower()
    anchors = [lowered.find(t.text) for t in info.terms if t.kind != "number" and t.text in lowered]
    for figure in _sentence_figures(info, text):
        fit = fits(info.measure, figure, text) if info.measure is not None else None
        if fit is False:
            continue  # 143,036 小時 is no number of users
        score = 2.0 if info.kind is not None and figure.kind == info.kind else 0.0
        score += 1.0 if fit else 0.0  # of the asked counter (3 場 for 幾場), not one that says nothing (4 個)
        score += 0.5 if figure.unit else 0.0
        if anchors:
            score -= min(abs(figure.start - a) for a in anchors) / 200.0
        if best is None or score > best[0]:
            best = (score, figure)
    return best[1] if best else None


def _pick_row_figure(info: _QuestionInfo, unit: Sentence) -> tuple[Figure, str] | None:
    """The cell of a table row that answers the question, with the header of its column."""
    cells = row_cells(unit.text)
    header = header_cells(unit)
    # A growth asked is read from the column that states one (年均複合成長率), never from a year's level.
    changes = {i for i, name in enumerate(header) if CHANGE_NAMED.search(matching_form(name))}
    growth = info.measure is not None and info.measure.change and bool(changes)
    best: tuple[float, Figure, str] | None = None
    offset = 0
    for index, raw in enumerate(unit.text.split("\t")):
        cell_start = offset + (len(raw) - len(raw.lstrip()))
        offset += len(raw) + 1
        if index == 0 or not cells[index] or (growth and index not in changes):
            continue
        figures = [f for f in find_figures(cells[index]) if f.kind != "year" or info.kind == "year"]
        if not figures:
            continue
        column = header[index] if index < len(header) else ""
        column_match = matching_form(column)
        words = latin_word_set(column)
        score = sum(t.weight for t in info.terms if term_found(t, column_match, words))
        kinds = {f.kind for f in figures}
        if info.kind == "percent":
            score += 2.0 if "percent" in kinds or "%" in column else 0.0
        elif info.kind is not None and info.kind in kinds:
            score += 1.0
        elif "percent" in kinds or "%" in column:
            score -= 0.5  # shares are the answer only when asked for
        score -= 0.01 * index
        figure = Figure(cells[index], cell_start, cell_start + len(cells[index]), cells[index], "", "other")
        if best is None or score > best[0]:
            best = (score, figure, column)
    return (best[1], best[2]) if best else None


def _local_idf(info: _QuestionInfo, hits: Sequence[Hit]) -> _QuestionInfo:
    """Reweight question terms by how rare they are among the candidate sentences.

    A word that every sentence of the top passages contains (the year of a yearly report) says less
    about which sentence answers than the name of the one agency the question is about.
    """
    units = [
        (matching_form(_unit_text(u)), latin_word_set(_unit_text(u)))
        for h in hits
        for u in split_units(h.chunk)
    ]
    if not units:
        return info
    terms = []
    for term in info.terms:
        df = sum(1 for form, words in units if term_found(term, form, words))
        idf = math.log(1.0 + len(units) / (1.0 + df))
        terms.append(dataclasses.replace(term, weight=term.weight * idf))
    return dataclasses.replace(info, terms=tuple(terms))


def _candidates(info: _QuestionInfo, hits: Sequence[Hit]) -> list[_Candidate]:
    found: list[_Candidate] = []
    for hit in hits:
        passage = _passage_text(hit.chunk)
        chunk_cross = is_cjk_text(hit.chunk.text) == (info.language == "en")
        passage_coverage = _coverage(info, passage, chunk_cross)
        for unit in split_units(hit.chunk):
            cross = is_cjk_text(unit.text) == (info.language == "en")
            # A row is read with its caption and header (which column is which); rows of one table
            # differ by their own cells, which the local IDF weights make count.
            coverage = _coverage(info, _unit_text(unit), cross)
            found.append(_Candidate(hit, unit, coverage, passage_coverage, cross))
    return found


def _rank_prior(hit: Hit) -> float:
    return 1.0 / (1.0 + 0.5 * (max(hit.rank, 1) - 1))


# -- The hand-set sentence score and confidence of the earlier releases. They stay as features of the
# learned models (and as the sentence choice when held-out training data says it chooses better):
# the learned model then starts from what they already get right.
# Cosine ranges of the default e5 model: unrelated text sits near 0.75, relevant text at 0.85+; an
# English question against Chinese text scores 0.78-0.86 on its answer sentence.
_DENSE_RANGE = (0.77, 0.89)
_CROSS_RANGE = (0.76, 0.84)


def _squash(cosine: float | None, cross_script: bool = False) -> float:
    """A cosine mapped onto [0, 1] between "unrelated" and "clearly relevant"."""
    if cosine is None:
        return 0.0
    floor, ceil = _CROSS_RANGE if cross_script else _DENSE_RANGE
    return float(min(1.0, max(0.0, (cosine - floor) / (ceil - floor))))


def _hand_score(info: _QuestionInfo, candidate: _Candidate, use_dense: bool) -> float:
    coverage = 0.7 * candidate.coverage + 0.3 * candidate.passage_coverage
    prior = _rank_prior(candidate.hit)
    if use_dense:
        dense = _squash(candidate.dense, candidate.cross_script)
        if candidate.cross_script:
            score = 0.15 * coverage + 0.65 * dense + 0.2 * prior
        else:
            score = 0.45 * coverage + 0.35 * dense + 0.2 * prior
    else:
        score = 0.75 * coverage + 0.25 * prior
    if info.figure_question:
        wanted = candidate.figure is not None and (info.kind is None or candidate.figure.kind == info.kind)
        score += 0.15 if wanted or (candidate.figure is not None and candidate.unit.is_row) else 0.0
    if not candidate.unit.is_row and len(candidate.unit.text) < 12:
        score *= 0.6  # headings and fragments rarely answer anything
    return score


def _hand_confidence(info: _QuestionInfo, hits: Sequence[Hit], chosen: list[_Candidate]) -> float:
    """The earlier releases' confidence in the chosen sentences (retrieval and sentence evidence)."""
    if not chosen:
        return 0.0
    top = chosen[0]
    use_dense = top.dense is not None
    joined = "\n".join(_unit_text(c.unit) for c in chosen)
    coverage = 0.7 * _coverage(info, joined, top.cross_script) + 0.3 * top.passage_coverage
    hit_dense = [h.dense_score for h in hits if h.dense_score is not None]
    cross = top.cross_script
    passage_dense = _squash(max(hit_dense), cross) if hit_dense else _squash(top.dense, cross)
    sentence_dense = _squash(top.dense, cross) if top.dense is not None else passage_dense
    if (use_dense or hit_dense) and cross:
        numbers = [t for t in info.terms if t.kind == "number"]
        confidence = 0.5 * sentence_dense + 0.4 * passage_dense + (0.1 * coverage if numbers else 0.05)
    elif use_dense or hit_dense:
        confidence = 0.45 * coverage + 0.3 * sentence_dense + 0.25 * passage_dense
    else:
        confidence = 0.85 * coverage + 0.15 * _rank_prior(top.hit)
    if info.figure_question and not any(c.figure is not None for c in chosen):
        confidence *= 0.7
    return float(min(1.0, max(0.0, confidence * _missing_factor(info, hits, top))))


def _missing_factor(info: _QuestionInfo, hits: Sequence[Hit], top: _Candidate) -> float:
    """Penalty for what the question names but the evidence lacks (a year, a number, a name)."""
    factor = 1.0
    asked_years = years_in(info.text)
    if asked_years:
        stated = years_in("\n".join([_unit_text(top.unit), *top.hit.chunk.section_path]))
        around = years_in(top.hit.chunk.index_text)
        if stated and not asked_years & stated:
            factor *= 0.75 if asked_years & around else 0.45
        elif not stated and around and not asked_years & around:
            factor *= 0.6
    chunk_form = matching_form(top.hit.chunk.index_text)
    chunk_words = latin_word_set(top.hit.chunk.index_text)
    for term in info.terms:
        is_year = term.text.isdigit() and (
            int(term.text) in asked_years or int(term.text) + 1911 in asked_years
        )
        if term.kind == "number" and not is_year and not term_found(term, chunk_form, chunk_words):
            factor *= 0.55
    if top.cross_script:
        return factor
    forms = [(matching_form(_passage_text(h.chunk)), latin_word_set(_passage_text(h.chunk))) for h in hits]
    content = [t for t in info.terms if (t.kind == "cjk" and len(t.text) >= 2) or _is_name(t)]
    total = sum(t.weight for t in content)
    if total:
        missing = [t for t in content if not any(term_found(t, f, w) for f, w in forms)]
        factor *= 1.0 - 0.7 * sum(t.weight for t in missing) / total
        for term in missing:
            if _names_something(term):
                factor *= 0.75  # a name no top passage mentions
    return factor


def _attach_figures(info: _QuestionInfo, candidates: list[_Candidate]) -> None:
    for candidate in candidates:
        if candidate.unit.is_row:
            picked = _pick_row_figure(info, candidate.unit)
            if picked:
                candidate.figure, candidate.column = picked
        else:
            candidate.figure = _pick_sentence_figure(info, candidate.unit.text)


# Whether pooled unit vectors serve questions in the other script (English question, Chinese
# sentence); chosen by the development set's answer hit (README "Sentence vectors").
POOLED_ACROSS_SCRIPTS = False


def _embed(
    info: _QuestionInfo,
    candidates: list[_Candidate],
    embedder: Embedder | None,
    limit: int,
    index: object | None = None,
) -> bool:
    """Dense similarity of the question and each of the `limit` lexically best sentences.

    Sentence vectors come from the index where it stores them (one encoder call per question: the
    question); the others are encoded now, kept between questions by qa/vector_cache.py.
    """
    if embedder is None or not candidates:
        return False
    candidates.sort(key=lambda c: 0.7 * c.coverage + 0.3 * _rank_prior(c.hit), reverse=True)
    del candidates[limit:]
    try:
        query = embedder.encode_queries([info.text])[0]
        vectors = _stored_vectors(index, candidates)
        missing = [i for i, v in enumerate(vectors) if v is None]
        if missing:
            fresh = passage_vectors(embedder, [_unit_text(candidates[i].unit) for i in missing])
            for i, vector in zip(missing, fresh, strict=True):
                vectors[i] = vector
    except Exception as error:  # the answer must not fail because the dense feature did
        logger.warning("sentence embedding failed, answering without it: %s", error)
        return False
    for candidate, similarity in zip(candidates, np.stack(vectors) @ query, strict=True):  # type: ignore[arg-type]
        candidate.dense = float(similarity)
    return True


def _stored_vectors(index: object | None, candidates: Sequence[_Candidate]) -> list[np.ndarray | None]:
    """Each candidate's unit vector as the index stored it, or None (not stored, or not the same units)."""
    found: list[np.ndarray | None] = [None] * len(candidates)
    if index is None:
        return found
    chunks = {c.hit.chunk.chunk_id: c.hit.chunk for c in candidates}
    stored = unit_vectors_of(index, list(chunks))
    if stored is None:
        return found
    by_unit: dict[tuple[str, int, int], np.ndarray] = {}
    for (chunk_id, chunk), vectors in zip(chunks.items(), stored.vectors, strict=True):
        units = split_units(chunk)
        if vectors is not None and len(vectors) == len(units):  # otherwise the chunk changed: encode
            by_unit.update({(chunk_id, u.start, u.end): vectors[k] for k, u in enumerate(units)})
    for i, c in enumerate(candidates):
        # A vector pooled inside a Chinese chunk matched an English question worse than the
        # sentence encoded alone (development set, README "Sentence vectors"): those are encoded.
        if stored.kind == "pooled" and c.cross_script and not POOLED_ACROSS_SCRIPTS:
            continue
        found[i] = by_unit.get((c.hit.chunk.chunk_id, c.unit.start, c.unit.end))
    return found


@dataclass(frozen=True)
class Selectable:
    """What sentence choice reads of a candidate (also rebuilt from cached features in training)."""

    score: float
    coverage: float
    cross_script: bool
    blocked: bool
    form: str  # matching form of the sentence, to drop repeats from overlapping chunks
    passage: str = ""  # chunk id ("" when unknown: cached training records)


def select_indices(
    items: Sequence[Selectable],
    max_sentences: int,
    keep_ratio: float,
    same_passage_ratio: float | None = None,
) -> list[int]:
    """The one to `max_sentences` candidates shown, best first; sentences of the best one's passage
    need `same_passage_ratio` of its score and coverage, others `keep_ratio`."""
    order = sorted(range(len(items)), key=lambda i: items[i].score, reverse=True)
    chosen: list[int] = []
    for i in order:
        candidate = items[i]
        if len(chosen) >= max_sentences:
            break
        if chosen:
            first = items[chosen[0]]
            ratio = keep_ratio
            if same_passage_ratio is not None and candidate.passage and candidate.passage == first.passage:
                ratio = same_passage_ratio
            if candidate.score < ratio * first.score:
                continue
            if candidate.coverage < ratio * first.coverage:
                continue  # close only by rank or dense similarity: more likely a neighbour than an answer
            if candidate.cross_script and not first.cross_script:
                continue  # the answer is in the question's language; other-language text adds nothing
            if candidate.blocked:
                continue  # a sentence about another year, agency or country is not part of an answer
            if any(candidate.form in items[j].form or items[j].form in candidate.form for j in chosen):
                continue  # overlapping chunks repeat sentences
        chosen.append(i)
    return chosen


def _selectable(candidate: _Candidate) -> Selectable:
    return Selectable(
        score=candidate.score,
        coverage=candidate.coverage,
        cross_script=candidate.cross_script,
        blocked=bool(candidate.blocked),
        form=matching_form(candidate.unit.text),
        passage=candidate.hit.chunk.chunk_id,
    )


def _select(candidates: list[_Candidate], config: AnswerConfig) -> list[_Candidate]:
    items = [_selectable(c) for c in candidates]
    picked = select_indices(items, config.max_sentences, config.keep_ratio, config.same_passage_ratio)
    return [candidates[i] for i in picked]


@dataclass(frozen=True)
class _QuestionEvidence:
    """What the retrieved passages as a whole say about the question (the same for every sentence)."""

    passage_dense: float
    asked_years: frozenset[int]
    content_missing: float
    names_missing: int
    # the question's words as passages in the other language would state them
    translations: Translations | None = None


def _question_evidence(info: _QuestionInfo, hits: Sequence[Hit]) -> _QuestionEvidence:
    """The typical unanswerable question names a year, an agency or a subject that no top passage
    states (retrieval would have found one that did): measure what is missing across them all."""
    hit_dense = [h.dense_score for h in hits if h.dense_score is not None]
    forms = [(matching_form(_passage_text(h.chunk)), latin_word_set(_passage_text(h.chunk))) for h in hits]
    # Chinese words and Latin names only: English common words vary too much with paraphrase
    # (handed out / issued) to count as missing.
    content = [t for t in info.terms if (t.kind == "cjk" and len(t.text) >= 2) or _is_name(t)]
    total = sum(t.weight for t in content)
    missing = [t for t in content if not any(term_found(t, f, w) for f, w in forms)]
    share = sum(t.weight for t in missing) / total if total else 0.0
    names = sum(1 for t in missing if _names_something(t))
    return _QuestionEvidence(
        passage_dense=max(hit_dense) if hit_dense else 0.0,
        asked_years=frozenset(years_in(info.text)),
        content_missing=share,
        names_missing=names,
        translations=_translations(info, hits),
    )


# Translations looked for per word: the dictionary's first few are often rare senses.
_GLOSS_WORDS = 12


def _translations(info: _QuestionInfo, hits: Sequence[Hit]) -> Translations | None:
    """The question's words in the other language, when passages in that language are to be read."""
    english = info.language == "en"
    if not any(is_cjk_text(h.chunk.text) == english for h in hits):
        return None
    words = [t.text for t in info.terms if t.kind == "cjk" and len(t.text) >= 2]
    return Translations.of(info.text, words, into_english=not english, per_word=_GLOSS_WORDS)


def _features(info: _QuestionInfo, q: _QuestionEvidence, candidate: _Candidate) -> CandidateFeatures:
    """The record the sentence and confidence models read for one candidate."""
    unit, chunk = candidate.unit, candidate.hit.chunk
    year_other = year_around = year_unstated = False
    if q.asked_years:
        stated = years_in("\n".join([_unit_text(unit), *chunk.section_path]))
        around = years_in(chunk.index_text)
        year_other = bool(stated) and not q.asked_years & stated
        year_around = year_other and bool(q.asked_years & around)
        year_unstated = not stated and bool(around) and not q.asked_years & around
    chunk_form, chunk_words = matching_form(chunk.index_text), latin_word_set(chunk.index_text)
    numbers_missing = 0
    for term in info.terms:
        is_year = term.text.isdigit() and (
            int(term.text) in q.asked_years or int(term.text) + 1911 in q.asked_years
        )
        if term.kind == "number" and not is_year and not term_found(term, chunk_form, chunk_words):
            numbers_missing += 1
    absent = [t for t in info.terms if _names_something(t) and not term_found(t, chunk_form, chunk_words)]
    if absent:  # the document's title names its subject too (a DRCD article's, a report's)
        title_form, title_words = _title_forms(chunk.title)
        absent = [t for t in absent if not term_found(t, title_form, title_words)]
    figure = candidate.figure
    wanted = figure is not None and (info.kind is None or figure.kind == info.kind or unit.is_row)
    cosine = candidate.dense if candidate.dense is not None else 0.0
    # Across languages the question's Chinese words cannot be looked for: only the names count,
    # and the words' dictionary translations.
    cross = candidate.cross_script
    translated = q.translations if cross else None
    met_unit = sum(1 for r in candidate.conditions if r.status == "met" and r.where in ("sentence", "row"))
    met = sum(1 for r in candidate.conditions if r.status == "met")
    label_named = column_year = column_coverage = 0.0
    if unit.is_row:
        cells = row_cells(unit.text)
        label = canonical(cells[0]) if cells else ""
        label_named = float(len(label) >= 2 and label in canonical(info.text))
        column = candidate.column or ""
        column_year = float(bool(q.asked_years & years_in(column)))
        column_coverage = _coverage(info, column, cross) if column else 0.0
    return CandidateFeatures(
        coverage=candidate.coverage,
        passage_coverage=candidate.passage_coverage,
        dense=cosine,
        dense_known=float(candidate.dense is not None),
        dense_cross=cosine if cross else 0.0,
        passage_dense=q.passage_dense,
        hit_score=float(candidate.hit.score),
        rank_prior=_rank_prior(candidate.hit),
        cross_script=float(cross),
        is_row=float(unit.is_row),
        fragment=float(not unit.is_row and len(unit.text) < 12),
        figure_question=float(info.figure_question),
        has_figure=float(figure is not None),
        figure_kind=float(info.figure_question and wanted),
        year_other=float(year_other),
        year_around=float(year_around),
        year_unstated=float(year_unstated),
        numbers_missing=float(numbers_missing),
        content_missing=0.0 if cross else q.content_missing,
        names_missing=0.0 if cross else float(q.names_missing),
        english=float(info.language == "en"),
        n_terms=math.log1p(len(info.terms)),
        blocked=float(len(candidate.blocked)),
        # As in earlier releases, each failed condition halves the hand score.
        hand_score=_hand_score(info, candidate, candidate.dense is not None)
        * _BLOCKED_FACTOR ** len(candidate.blocked),
        met_unit=float(met_unit),
        met_wider=float(met - met_unit),
        label_named=label_named,
        column_year=column_year,
        column_coverage=column_coverage,
        **condition_counts(candidate.conditions),
        names_absent=0.0 if cross else float(len(absent)),
        gloss_absent=translated.absent_share(f"{chunk.title}\n{chunk.index_text}") if translated else 0.0,
        gloss_unit_absent=translated.absent_share(_unit_text(unit)) if translated else 0.0,
    )


def _score_candidates(
    info: _QuestionInfo, hits: Sequence[Hit], candidates: list[_Candidate], model: ConfidenceModel
) -> None:
    q = _question_evidence(info, hits)
    for candidate in candidates:
        candidate.features = _features(info, q, candidate)
        candidate.logit = model.sentence_logit(candidate.features)
        candidate.score = (
            candidate.features.hand_score if model.selection == "hand" else sigmoid(candidate.logit)
        )


def _hand_chosen(candidates: list[_Candidate], config: AnswerConfig) -> list[_Candidate]:
    """The sentences the hand score would show (its confidence is a feature of the answer model)."""
    items = [
        dataclasses.replace(_selectable(c), score=c.features.hand_score if c.features else 0.0)
        for c in candidates
    ]
    picked = select_indices(items, config.max_sentences, config.keep_ratio, config.same_passage_ratio)
    return [candidates[i] for i in picked]


def _answer_features(
    info: _QuestionInfo,
    hits: Sequence[Hit],
    candidates: list[_Candidate],
    chosen: list[_Candidate],
    config: AnswerConfig,
) -> AnswerFeatures | None:
    if not chosen or chosen[0].features is None:
        return None
    top = chosen[0]
    others = [c.logit for c in candidates if c is not top]
    return AnswerFeatures(
        top=top.features,
        sentence_logit=top.logit,
        margin=top.logit - max(others) if others else 0.0,
        n_chosen=float(len(chosen)),
        hand_confidence=_hand_confidence(info, hits, _hand_chosen(candidates, config)),
    )


# How a refusal names a measure the question asks by its kind alone (「涵蓋率是多少」 -> 比率).
_MEASURE_NAMES: dict[str, dict[str, str]] = {
    "zh-Hant": {"money": "金額", "percent": "比率", "change": "增減"},
    "zh-Hans": {"money": "金额", "percent": "比率", "change": "增减"},
    "en": {"money": "amount", "percent": "share", "change": "change"},
}

# A refusal names the neighbouring fact only when the sentence holds at least half of the question's
# words: otherwise it is about another subject, not the same one in another year or place.
_NEIGHBOUR_COVERAGE = 0.5


def _if_met(model: ConfidenceModel, features: AnswerFeatures) -> float:
    """The confidence the answer would have if the conditions it fails had not been asked."""
    top = features.top
    changes: dict[str, float] = {"blocked": 0.0, "year_other": 0.0, "year_around": 0.0, "year_unstated": 0.0}
    for kind in CONDITION_KINDS:
        changes.update({f"{kind}_missing": 0.0, f"{kind}_contradicted": 0.0})
    met = dataclasses.replace(top, **changes)
    shift = model.sentence_logit(met) - model.sentence_logit(top)
    return model.confidence(
        dataclasses.replace(
            features, top=met, sentence_logit=features.sentence_logit + shift, margin=features.margin + shift
        )
    )


def _is_name(term: Term) -> bool:
    """Latin words written with capitals in the question (NVIDIA, Kinmen, AI) are names."""
    return term.kind == "latin" and term.name


@lru_cache(maxsize=256)
def _title_forms(title: str) -> tuple[str, frozenset[str]]:
    """A document title's matching form and Latin words (the same for all its passages)."""
    return matching_form(title), latin_word_set(title)


def _names_something(term: Term) -> bool:
    """A name or a Chinese word of three or more characters (研究船, 基地台): a subject, not a verb."""
    return (term.kind == "cjk" and len(term.text) >= 3) or _is_name(term)


def effective_threshold(config: AnswerConfig, model: ConfidenceModel | None = None) -> float:
    """`[answer] abstain_below` when set, else the threshold learned with the confidence model."""
    if config.abstain_below is not None:
        return config.abstain_below
    if config.confidence == "hand":
        return HAND_THRESHOLD
    return (model or shipped_model()).threshold


def _where(citation: Citation, chunk: Chunk, language: Language) -> str:
    return format_address(
        page_start=citation.page_start,
        page_end=citation.page_end,
        page_label=chunk.page_label,
        line_start=citation.line_start,
        line_end=citation.line_end,
        ocr=chunk.ocr,
        language=language,
    )


def _render_row(unit: Sentence, language: Language) -> str:
    cells = row_cells(unit.text)
    header = header_cells(unit)
    assign, separator = (" = ", "; ") if language == "en" else ("：", "；")
    pairs = [
        f"{header[i]}{assign}{cells[i]}" if i < len(header) and header[i] else cells[i]
        for i in range(1, len(cells))
        if cells[i]
    ]
    label = cells[0] if cells else ""
    return f"{label} — {separator.join(pairs)}" if label else separator.join(pairs)


def _render(candidate: _Candidate, citation: Citation, language: Language) -> str:
    body = _render_row(candidate.unit, language) if candidate.unit.is_row else candidate.unit.text
    same_script = not candidate.cross_script and (
        language != "zh-Hans" or detect_language(candidate.unit.text) == "zh-Hans"
    )
    if same_script:
        return f"{body} [{citation.number}]"
    where = _where(citation, candidate.hit.chunk, language)
    title = citation.title
    template = messages(language).according_to
    if not where:
        template = template.replace("（{address}）", "").replace(" ({address})", "")
    return template.format(title=title, address=where, n=citation.number, quote=body)


def _render_figure(candidate: _Candidate, number: int, language: Language) -> str:
    figure = candidate.figure
    assert figure is not None
    text = messages(language)
    if candidate.unit.is_row:
        label = row_cells(candidate.unit.text)[0]
        return text.figure_from_column.format(
            figure=figure.text, column=candidate.column, row=label, n=number
        )
    if candidate.cross_script or (
        language == "zh-Hans" and detect_language(candidate.unit.text) != "zh-Hans"
    ):
        return text.quoted_figure.format(figure=figure.text, n=number)
    return f"{figure.text} [{number}]"


def _question_info(question: str) -> _QuestionInfo:
    terms = question_terms(question)
    numbers = set()
    for term in terms:
        if term.kind == "number":
            numbers.add(digits(term.text))
            numbers.update(term.aliases)
    figure_question = is_figure_question(question)
    return _QuestionInfo(
        text=question,
        language=detect_language(question),
        terms=terms,
        bigrams=frozenset(question_bigrams(question)),
        figure_question=figure_question,
        kind=expected_kind(question) if figure_question else None,
        numbers=frozenset(numbers),
        measure=asked_measure(question) if figure_question else None,
    )


def _abstain(
    info: _QuestionInfo,
    hits: list[Hit],
    confidence: float,
    started: float,
    *,
    text: str | None = None,
    conditions: list[ConditionResult] | None = None,
    citations: list[Citation] | None = None,
) -> Answer:
    return Answer(
        question=info.text,
        text=text or messages(info.language).abstain,
        abstained=True,
        confidence=confidence,
        citations=citations or [],
        related=hits,
        language=info.language,
        latency_ms=(time.perf_counter() - started) * 1000.0,
        conditions=conditions or [],
    )


# ---------------------------------------------------------------------------------------------
# Conditions (qa/conditions.py): the year, agency, place, programme and qualifier the question names

# The sentence model weighs failed conditions itself; this share only bounds how much weaker than the
# chosen sentence a neighbouring fact may be, and keeps a refusal's confidence below the answers'.
_BLOCKED_FACTOR = 0.5


_PARAGRAPH_CHUNKS = 3  # how far back a paragraph cut by chunking is followed to its start


def paragraph_lead(chunk: Chunk, fetch: Callable[[str], Chunk | None] | None) -> str:
    """The start of the paragraph that `chunk` begins inside of, from the chunks before it: a
    paragraph cut by chunking keeps its subject (「國家同步輻射研究中心…」) in the earlier chunk."""
    if fetch is None or chunk.kind != "text":
        return ""
    lead, start, ordinal = "", chunk.char_start, chunk.ordinal
    for _ in range(_PARAGRAPH_CHUNKS):
        previous = fetch(f"{chunk.doc_id}:{ordinal - 1}") if ordinal > 0 else None
        if previous is None or not previous.char_start < start <= previous.char_end:
            break
        before = previous.text[: start - previous.char_start]
        if "\n" in before:
            return before.rsplit("\n", 1)[1] + lead
        lead, start, ordinal = before + lead, previous.char_start, previous.ordinal
    return lead


def _evidence(info: _QuestionInfo, candidate: _Candidate, lead: str = "") -> Evidence:
    unit = candidate.unit
    chunk = candidate.hit.chunk
    label = row_cells(unit.text)[0] if unit.is_row else ""
    caption = unit.header.split("\n", 1)[0] if unit.is_row and unit.header and "\n" in unit.header else ""
    return Evidence(
        unit=_unit_text(unit),
        section=" / ".join(chunk.section_path),
        passage=lead + chunk.text,
        title=chunk.title,
        label=label,
        column=candidate.column or "",
        caption=caption,
        # The passage's language decides whether a Chinese name can be looked for in it at all.
        cross_script=is_cjk_text(chunk.text) == (info.language == "en"),
    )


def _check_candidates(
    info: _QuestionInfo,
    conditions: tuple[Condition, ...],
    candidates: list[_Candidate],
    fetch: Callable[[str], Chunk | None] | None = None,
) -> None:
    leads: dict[str, str] = {}
    for candidate in candidates:
        chunk = candidate.hit.chunk
        if chunk.chunk_id not in leads:
            leads[chunk.chunk_id] = paragraph_lead(chunk, fetch)
        evidence = _evidence(info, candidate, leads[chunk.chunk_id])
        candidate.conditions = check_conditions(conditions, evidence)


_CJK_TEXT = re.compile(r"[\u4e00-\u9fff]")


# A change stated in a sentence beyond CHANGE_NAMED's words: 提升至, 較…多, up from, rose.
_CHANGE_STATED = re.compile(
    r"提升|提高|上升|下降|成長|增|減|较|較|多出|翻倍|倍|\b(?:rose|rise|grew|grow|fell|up|down|more|less|higher|lower)\b",
    re.IGNORECASE,
)


def _check_measure(info: _QuestionInfo, candidates: list[_Candidate]) -> None:
    """A sentence whose figures all count something other than the question's (多少位使用者 against
    143,036 小時, 經費 against 48,195 臺) answers another question: the measure is contradicted."""
    measure = info.measure
    if measure is None:
        return
    asked = "change" if measure.change else (measure.kind or "")
    named = measure.text or _MEASURE_NAMES[info.language].get(asked, "")
    for candidate in candidates:
        text = candidate.unit.text
        if candidate.unit.is_row:
            # A row's unit stands in its header; a share or an amount is not read from a ranking,
            # nor a growth from a column of levels.
            column = candidate.column or ""
            caption = candidate.unit.header.split("\n", 1)[0] if candidate.unit.header else ""
            # A caption naming a ranking (「…競爭力排名」) makes every column of it a rank.
            ranked = RANKING.search(column) or (RANKING.search(caption) and "\t" not in caption)
            ranking = measure.kind is not None and not measure.change and ranked
            level = measure.change and not CHANGE_NAMED.search(matching_form(f"{caption} {column}"))
            # A rating is read only from a column or caption that names one.
            unrated = measure.counter_class == RATING and not RATING_NAMED.search(
                canonical(f"{caption} {column}")
            )
            # A share asked of a table that states none (a count of researchers for the share of
            # women among them): no cell of it is the share.
            unshared = (
                measure.kind == "percent"
                and not measure.change
                and not SHARE_NAMED.search(canonical(_unit_text(candidate.unit)))
            )
            if ranking or level or unshared or unrated:
                result = ConditionResult(named, "measure", "contradicted", column, "sentence", blocking=True)
                candidate.conditions = [*candidate.conditions, result]
            elif measure.counter_class is not None and (unit := caption_parts(caption)[2]):
                # 多少盞 asked of a table in 萬度: the caption's unit counts something else.
                written = f"1 {unit}"
                stated = find_figures(written)
                if stated and fits(measure, stated[0], written) is False:
                    result = ConditionResult(named, "measure", "contradicted", unit, "row", blocking=True)
                    candidate.conditions = [*candidate.conditions, result]
            continue
        # 「較 112 年度增長多少」: a sentence stating a level and no change answers another question; a
        # satisfaction rating asked, a share the sentence does not call one is of something else.
        unstated_change = (
            measure.change
            and not CHANGE_NAMED.search(matching_form(text))
            and not _CHANGE_STATED.search(text)
        )
        if unstated_change or (measure.counter_class == RATING and not RATING_NAMED.search(canonical(text))):
            result = ConditionResult(named, "measure", "missing", None, None, blocking=True)
            candidate.conditions = [*candidate.conditions, result]
            continue
        figures = _sentence_figures(info, text)
        verdicts = [fits(measure, f, text) for f in figures]
        counted = measure.counter_class not in (None, RATING)
        if counted and _CJK_TEXT.search(text) and info.language != "en":
            # A counter asked (多少位): a Chinese sentence answers only with a figure of that counter;
            # one without any figure answers no how-many question.
            refused = not any(verdicts)
        else:
            # Money or a share asked (經費是多少), or an English "how many": a sentence whose figures
            # all count something else states neither, nor does one whose figure to show counts
            # something else while none of its figures is of the kind asked ("443 projects, by 27
            # ministries" for publications). One without digits may still say it in words (一半).
            shown = fits(measure, candidate.figure, text) if candidate.figure is not None else None
            refused = bool(figures) and (
                all(v is False for v in verdicts) or (shown is False and not any(verdicts))
            )
        if refused:
            if figures:  # the sentence counts something else: name what it counts
                stated = figures[0].unit or figures[0].text
                result = ConditionResult(named, "measure", "contradicted", stated, "sentence", blocking=True)
            else:
                result = ConditionResult(named, "measure", "missing", None, None, blocking=True)
            candidate.conditions = [*candidate.conditions, result]


# Where the question's own name of a row begins: after a function word or punctuation.
_NAME_START = re.compile(r".*[的之與与和及在於于中是为為、，,：:\s]")
_ASKS_WHICH = re.compile(r"[哪何几幾么麼谁誰]|多少")


def _sibling_named(question: str, label: str, context: str) -> str | None:
    """The name the question gives a row of the same kind as `label` but not it: asked about
    「水環境建設」, the row 「數位建設」 of a table that lists no 水環境 answers another question.
    Rows of a kind share their last two characters (建設, 委員會); the question's name counts only
    when no two characters of its own part occur anywhere in the table."""
    if len(label) < 3 or not _CJK_TEXT.fullmatch(label[-1]) or not _CJK_TEXT.fullmatch(label[-2]):
        return None
    suffix = label[-2:]
    start = 0
    while (at := question.find(suffix, start)) >= 0:
        start = at + len(suffix)
        before = _NAME_START.sub("", question[max(0, at - 8) : at])
        own = "".join(ch for ch in before if _CJK_TEXT.fullmatch(ch))
        if len(own) < 2 or own != before or label.endswith(own + suffix) or _ASKS_WHICH.search(own):
            continue
        if not any(own[i : i + 2] in context for i in range(len(own) - 1)):
            return own + suffix
    return None


def _check_rows(info: _QuestionInfo, conditions: tuple[Condition, ...], candidates: list[_Candidate]) -> None:
    """A row the question names that a table lacks (a sibling of the table's rows, by their shared
    ending) is answered by no row of any table that does not name it, total rows included; nor is
    a measure of another kind than the caption's (數位競爭力 asked of 總體競爭力)."""
    question = matching_form(info.text)
    question_key = cell_key(info.text)
    spared = condition_words(conditions)
    rows = [c for c in candidates if c.unit.is_row]
    contexts: dict[str, str] = {}
    named: set[str] = set()
    for candidate in rows:
        chunk = candidate.hit.chunk
        if chunk.chunk_id in contexts:
            continue
        context = matching_form(f"{_passage_text(chunk)}\n{candidate.unit.header}")
        contexts[chunk.chunk_id] = context
        labels = {matching_form(row_cells(line)[0]) for line in chunk.text.splitlines() if "\t" in line}
        named.update(n for label in labels if (n := _sibling_named(question, label, context)))
    asked_tables = table_numbers_in(info.text)
    for candidate in rows:
        context = contexts[candidate.hit.chunk.chunk_id]
        caption = candidate.unit.header.rsplit("\n", 1)[0] if "\n" in candidate.unit.header else ""
        number = caption_parts(caption.split("\n", 1)[0])[0] if caption else ""
        if asked_tables and number and number not in asked_tables:
            # 「依附表 3」: a row of 附表 2 answers another question.
            result = ConditionResult(
                sorted(asked_tables)[0], "programme", "contradicted", number, "row", True
            )
            candidate.conditions = [*candidate.conditions, result]
            continue
        scope = cell_key(_passage_text(candidate.hit.chunk))
        if caption and (kind := other_kind_of(question_key, caption, scope, spared)) is not None:
            result = ConditionResult(kind, "programme", "contradicted", kind, "row", blocking=True)
            candidate.conditions = [*candidate.conditions, result]
            continue
        for name in sorted(named):
            if name not in context:
                stated = row_cells(candidate.unit.text)[0]
                result = ConditionResult(name, "programme", "missing", stated, "row", blocking=True)
                candidate.conditions = [*candidate.conditions, result]
                break


# A name numbered in its series: 臺灣杉三號, 福衛七號, 新海研 2 號, 第 4 期 (the stem before the number).
_NUMBERED_NAME = re.compile(
    r"([\u4e00-\u9fff]{0,3}?)([\u4e00-\u9fff]{2})\s?([一二三四五六七八九十]{1,3}|\d{1,2})\s?([號号代期])"
)
_BEFORE_A_NAME = re.compile(r".*[的之與与和及在替為为是將将由於于對对]")


def _numbered_names(text: str) -> dict[tuple[str, str, str], str]:
    """(stem, number, kind) in matching form -> the name as written."""
    return {
        (matching_form(m.group(2)), m.group(3), matching_form(m.group(4))): _BEFORE_A_NAME.sub("", m.group(0))
        for m in _NUMBERED_NAME.finditer(text)
    }


def _check_numbered_names(info: _QuestionInfo, candidates: list[_Candidate]) -> None:
    """A sentence about another member of a numbered series than the question's (臺灣杉一號 for
    臺灣杉三號) speaks of another thing, unless it also names the question's own."""
    asked = _numbered_names(info.text)
    if not asked:
        return
    for candidate in candidates:
        stated = _numbered_names(_unit_text(candidate.unit))
        for (stem, number, kind), written in asked.items():
            if (stem, number, kind) in stated:
                continue
            other = next(
                (w for s, w in stated.items() if s[0] == stem and s[2] == kind and s[1] != number), None
            )
            if other is not None:
                result = ConditionResult(written, "programme", "contradicted", other, "sentence", True)
                candidate.conditions = [*candidate.conditions, result]
                break


def _only_conditions(info: _QuestionInfo, conditions: tuple[Condition, ...]) -> bool:
    """A question that is nothing but its conditions (「2018年？」, "Japan?") asks for nothing."""
    named = matching_form(" ".join(c.text for c in conditions))
    years = {str(y) for c in conditions for y in c.years} | {
        str(y - 1911) for c in conditions for y in c.years
    }
    return all(
        (term.kind == "number" and (term.text in years or set(term.aliases) & years)) or term.text in named
        for term in info.terms
    )


def _pad(text: str) -> str:
    """Spaces between Chinese and a year or Latin name at either end (報告中沒有 2018 年的數字)."""
    left = " " if text[:1].isascii() and text[:1].isalnum() else ""
    right = " " if text[-1:].isascii() and text[-1:].isalnum() else ""
    return f"{left}{text}{right}"


def _shown(text: str, kind: str, language: Language) -> str:
    """A condition (or the evidence's counterpart) as named in the abstention sentence."""
    if kind == "time":
        if language != "en":
            # 「114年」 and 「114 年」 read alike in the sentence: a year always gets its space.
            return _pad(re.sub(r"(\d)\s*年", r"\1 年", text) if "年" in text else f"{text} 年")
        years = sorted({y for m in year_mentions(text) for y in m.years})
        if not years:
            return text
        return str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"  # 113 年度 -> 2024
    if language == "en" and text.isascii():
        return text
    return f"「{text}」"


def _nearest_year_column(candidate: _Candidate, asked: frozenset[int]) -> _Candidate:
    """A table row whose header lacks the asked year: its figure from the nearest year's column."""
    cells = row_cells(candidate.unit.text)
    header = header_cells(candidate.unit)
    best: tuple[int, int] | None = None  # distance, column index
    for index in range(1, min(len(cells), len(header))):
        years = years_in(header[index])
        if len(years) != 1 or not cells[index] or not find_figures(cells[index]):
            continue
        distance = min(abs(next(iter(years)) - y) for y in asked)
        if best is None or distance < best[0]:
            best = (distance, index)
    if best is None:
        return candidate
    index = best[1]
    offset = sum(len(raw) + 1 for raw in candidate.unit.text.split("\t")[:index])
    raw = candidate.unit.text.split("\t")[index]
    start = offset + len(raw) - len(raw.lstrip())
    figure = Figure(cells[index], start, start + len(cells[index]), cells[index], "", "other")
    return dataclasses.replace(candidate, figure=figure, column=header[index])


def _abstain_on_condition(
    info: _QuestionInfo,
    hits: list[Hit],
    candidate: _Candidate,
    confidence: float,
    started: float,
    abstain_below: float,
) -> Answer:
    """Refuse plainly, naming the condition the reports do not meet and the fact they do state."""
    failed = sorted(candidate.blocked, key=lambda r: r.status != "contradicted")
    asked = _shown(failed[0].text, failed[0].kind, info.language)
    # Stays below the threshold: an abstention is never more confident than the answers it refuses.
    lowered = min(confidence * _BLOCKED_FACTOR, abstain_below * 0.99)
    unnamed = _nowhere(info, failed[0], hits)
    # The neighbouring fact is named only when the answer sentence (or row) itself states what
    # differs: a year found elsewhere in the passage says nothing about what the sentence shows.
    if not unnamed and all(r.status == "contradicted" and r.where in ("sentence", "row") for r in failed):
        neighbour = _neighbour_fact(info, candidate, failed)
        if neighbour is not None:
            message, citation = neighbour
            return _abstain(
                info,
                hits,
                lowered,
                started,
                text=message,
                conditions=candidate.conditions,
                citations=[citation],
            )
    message = messages(info.language).not_mentioned.format(asked=asked) if unnamed else None
    return _abstain(info, hits, lowered, started, text=message, conditions=candidate.conditions)


def _neighbour_candidate(info: _QuestionInfo, best: _Candidate, candidates: list[_Candidate]) -> _Candidate:
    """The sentence to name as the neighbouring fact: the best one that itself states what differs.

    「日本 2018 年」 is best refused with Japan's row (which states 2019-2023), not with a sentence
    that merely sits in a passage about 2023; a much weaker sentence is no neighbour, though.
    """
    for candidate in sorted(candidates, key=lambda c: c.score, reverse=True):
        if candidate.score < _BLOCKED_FACTOR * best.score:
            break
        failed = candidate.blocked
        stated = all(r.status == "contradicted" and r.where in ("sentence", "row") for r in failed)
        if failed and stated and (candidate.figure is not None or not info.figure_question):
            return candidate
    return best


def _neighbour_fact(
    info: _QuestionInfo, candidate: _Candidate, failed: list[ConditionResult]
) -> tuple[str, Citation] | None:
    """「報告中沒有 2018 年的數字；報告列出的是 2019 年：3.22% [1]」 with its citation.

    Every condition the sentence contradicts is named (「日本」 2018 年 against 「我國」 2023 年), so the
    fact is never mistaken for the one asked about.
    """
    stated = {r.text: r.evidence or "" for r in failed}
    for result in failed:
        if result.kind == "time" and candidate.unit.is_row:
            asked_years = next(
                (c.years for c in extract_conditions(info.text) if c.text == result.text), None
            )
            if asked_years:
                candidate = _nearest_year_column(candidate, asked_years)
                in_column = year_mentions(candidate.column or "")
                stated[result.text] = in_column[0].text if in_column else stated[result.text]
    citation = build_citation(1, candidate.hit.chunk, candidate.unit.text, near=candidate.unit.start)
    if citation is None:
        return None
    text = messages(info.language)
    if info.figure_question and candidate.figure is not None:
        fact, template = _render_figure(candidate, 1, info.language), text.not_stated_figure
    else:
        fact, template = _render(candidate, citation, info.language), text.not_stated
    ordered = sorted(failed, key=lambda r: info.text.find(r.text))  # in the question's word order
    # Two asked years may both meet the same stated one: name it once (「113 年」, not 「113 年 113 年」).
    asked = _joined(
        list(dict.fromkeys(_shown(r.text, r.kind, info.language) for r in ordered)), info.language
    )
    shown = _joined(
        list(dict.fromkeys(_shown(stated[r.text], r.kind, info.language) for r in ordered)), info.language
    )
    return template.format(asked=asked, stated=shown, fact=fact), citation


def _joined(names: list[str], language: Language) -> str:
    """「日本」 2018 年 (Chinese) or Japan, 2018 (English)."""
    if language == "en":
        return ", ".join(names)
    return _pad(re.sub(r"\s+", " ", "".join(names)).strip())


def _unnamed_message(info: _QuestionInfo, candidate: _Candidate, hits: list[Hit]) -> str | None:
    """A weak answer about a name no passage states: say which name, rather than only "not found"."""
    unnamed = [r for r in candidate.blocked if _nowhere(info, r, hits)]
    if not unnamed:
        return None
    return messages(info.language).not_mentioned.format(
        asked=_shown(unnamed[0].text, unnamed[0].kind, info.language)
    )


def _nowhere(info: _QuestionInfo, result: ConditionResult, hits: list[Hit]) -> bool:
    """A name (agency, country, programme) that none of the passages considered states."""
    if result.kind not in ("organisation", "place", "programme"):
        return False
    condition = next((c for c in extract_conditions(info.text) if c.text == result.text), None)
    return condition is not None and not any(
        named_in(condition, f"{h.chunk.title}\n{h.chunk.text}") for h in hits
    )


def _refuse_conditions_only(
    info: _QuestionInfo, conditions: tuple[Condition, ...], hits: list[Hit], started: float
) -> Answer | None:
    """The clear message for a question with conflicting years or nothing but conditions."""
    text = messages(info.language)
    conflict = conflicting_years(info.text, conditions)
    if conflict is not None:
        first, second = (_shown(c.text, c.kind, info.language) for c in conflict)
        return _abstain(
            info, hits, 0.0, started, text=text.conflicting_years.format(first=first, second=second)
        )
    if _only_conditions(info, conditions):
        separator = ", " if info.language == "en" else "、"
        named = separator.join(_shown(c.text, c.kind, info.language) for c in conditions)
        return _abstain(info, hits, 0.0, started, text=text.only_conditions.format(conditions=named))
    return None


@dataclass
class ScoredCandidates:
    """One question's candidate sentences with their features, before the answer is formed."""

    info: _QuestionInfo
    hits: list[Hit]
    conditions: tuple[Condition, ...]
    candidates: list[_Candidate]
    # Answered before any sentence is scored: the message for a question that is only conditions or
    # conflicts with itself, or the answer read from a table cell.
    refused: Answer | None = None
    hand_confidence: float = 0.0  # the hand-weighted confidence in the hand-chosen sentences


def _prepare(
    question: str,
    hits: Sequence[Hit],
    embedder: Embedder | None,
    config: AnswerConfig,
    started: float,
    index: object | None = None,  # where stored sentence vectors come from (index.backend)
    fetch: Callable[[str], Chunk | None] | None = None,
    table_names: Sequence[str] = (),
    table_rows: Sequence[Chunk] = (),
) -> ScoredCandidates:
    info = _question_info(question)
    considered = list(hits[: config.passages])
    conditions = written_as_is(extract_conditions(question), [hit.chunk.text for hit in considered])
    if conditions:
        refused = _refuse_conditions_only(info, conditions, considered, started)
        if refused is not None:
            return ScoredCandidates(info, considered, conditions, [], refused)
    # --- table cells (qa/cells.py): a question naming a table row and column is answered by the cell ---
    from_cell = cell_answer(
        question,
        info.language,
        conditions,
        considered,
        started,
        fetch,
        table_names,
        table_rows,
        deeper=hits[len(considered) :],
    )
    if from_cell is not None:
        return ScoredCandidates(info, considered, conditions, [], from_cell)
    info = _local_idf(info, considered)
    candidates = _candidates(info, considered)
    _embed(info, candidates, embedder, config.max_candidates, index)
    _attach_figures(info, candidates)
    if conditions:
        _check_candidates(info, conditions, candidates, fetch)
    _check_measure(info, candidates)
    _check_rows(info, conditions, candidates)
    _check_numbered_names(info, candidates)
    return ScoredCandidates(info, considered, conditions, candidates)


def candidate_records(
    question: str,
    hits: Sequence[Hit],
    *,
    embedder: Embedder | None,
    config: AnswerConfig,
    model: ConfidenceModel | None = None,
    index: object | None = None,
    fetch: Callable[[str], Chunk | None] | None = None,
    table_names: Sequence[str] = (),
    table_rows: Sequence[Chunk] = (),
) -> ScoredCandidates:
    """The candidates and their feature records, as `answer_question` sees them (for training)."""
    prepared = _prepare(
        question, hits, embedder, config, time.perf_counter(), index, fetch, table_names, table_rows
    )
    q = _question_evidence(prepared.info, prepared.hits)
    for candidate in prepared.candidates:
        candidate.features = _features(prepared.info, q, candidate)
        if model is not None:
            candidate.logit = model.sentence_logit(candidate.features)
            candidate.score = sigmoid(candidate.logit)
    prepared.hand_confidence = _hand_confidence(
        prepared.info, prepared.hits, _hand_chosen(prepared.candidates, config)
    )
    return prepared


def answer_question(
    question: str,
    hits: Sequence[Hit],
    *,
    embedder: Embedder | None,
    config: AnswerConfig,
    model: ConfidenceModel | None = None,
    index: object | None = None,
    fetch: Callable[[str], Chunk | None] | None = None,
    table_names: Sequence[str] = (),
    table_rows: Sequence[Chunk] = (),
) -> Answer:
    """Answer from the best sentences of the top hits, or abstain when the evidence is weak.

    `index` gives the stored sentence vectors (index.backend); `fetch` reads any chunk of the index
    by id (a question over a whole table reads all its slices);
    `table_names` are the Chinese row and column names an English question speaks of (qa/names.py),
    `table_rows` the table chunks holding such rows.
    """
    started = time.perf_counter()
    model = model or shipped_model()
    prepared = _prepare(question, hits, embedder, config, started, index, fetch, table_names, table_rows)
    if prepared.refused is not None:
        return prepared.refused
    info, considered, candidates = prepared.info, prepared.hits, prepared.candidates
    if not candidates:
        return _abstain(info, considered, 0.0, started)
    _score_candidates(info, considered, candidates, model)
    # The learned models were fitted on embedded candidates only: without any sentence vector (no
    # embedder, a lexical-only index) their inputs lie outside what they learned, so the hand
    # weights, which were written for that case too, decide.
    hand = config.confidence == "hand" or all(c.dense is None for c in candidates)
    if hand:
        for candidate in candidates:
            candidate.score = candidate.features.hand_score if candidate.features else 0.0
    chosen = _select(candidates, config)
    features = _answer_features(info, considered, candidates, chosen, config)
    threshold = effective_threshold(dataclasses.replace(config, confidence="hand") if hand else config, model)
    checked = chosen[0].conditions if chosen else []
    if hand:
        confidence = _hand_confidence(info, considered, chosen)
        if confidence < threshold or _no_figure_given(info, chosen):
            text = _unnamed_message(info, chosen[0], considered) if chosen else None
            return _abstain(info, considered, confidence, started, text=text, conditions=checked)
        if chosen[0].blocked:
            neighbour = _neighbour_candidate(info, chosen[0], candidates)
            return _abstain_on_condition(info, considered, neighbour, confidence, started, threshold)
        return _shown_answer(info, considered, chosen, confidence, config, started, checked)
    confidence = model.confidence(features) if features is not None else 0.0
    if (
        chosen
        and chosen[0].blocked
        and features is not None
        and chosen[0].coverage >= _NEIGHBOUR_COVERAGE
        and _if_met(model, features) >= threshold
    ):
        # An answer that would be confident but for a failed condition answers a neighbouring
        # question: the refusal names the condition and, where the reports state it, that fact.
        neighbour = _neighbour_candidate(info, chosen[0], candidates)
        return _abstain_on_condition(info, considered, neighbour, confidence, started, threshold)
    if confidence < threshold or (chosen and chosen[0].blocked) or _no_figure_given(info, chosen):
        text = _unnamed_message(info, chosen[0], considered) if chosen else None
        if chosen and chosen[0].blocked:  # refused whatever its confidence: report it under the threshold
            confidence = min(confidence * _BLOCKED_FACTOR, threshold * 0.99)
        refused = _abstain(info, considered, confidence, started, text=text, conditions=checked)
        if chosen and not chosen[0].blocked:  # a failed condition makes an answer wrong, shown or not
            figures = [c.figure.text for c in chosen if c.figure is not None]
            refused.withheld = "\n".join([*figures, *(_unit_text(c.unit) for c in chosen)])
        return refused
    return _shown_answer(info, considered, chosen, confidence, config, started, checked)


# A question naming what it wants by who or which asks for a name, even when it speaks of a rank.
_ASKS_A_NAME = re.compile(r"哪|誰|谁|\b(?:which|who|whom|whose)\b", re.IGNORECASE)
# Numbers that only say when or where: years (2023, 113 年), dates, and table or figure labels.
_WHEN_OR_WHERE = re.compile(
    r"(?<![\d.,])(?:19|20)\d{2}(?![\d%]|[.,]\d)(?:\s*年)?(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?"
    r"|(?<![\d.,])1[01]\d\s*年(?:度)?"
    rf"|{_LABEL}\s*\d+(?:-\d+)?"
)


_ASKS_YEARS = re.compile(r"(?:多少|幾|几)\s*(?:個|个)?\s*年(?!度|[0-9])|how many years", re.IGNORECASE)


def _no_figure_given(info: _QuestionInfo, chosen: list[_Candidate]) -> bool:
    """A how-much question whose chosen sentences hold no number at all (no figure, no digit, no
    number in characters, once years and table numbers are set aside) answers nothing: "How many
    GPUs…" is not answered by a sentence about the supercomputer that counts nothing."""
    # "What was the parks' revenue?" asks an amount without saying how much.
    asks = info.figure_question or (
        info.language == "en" and expected_kind(info.text) in ("money", "percent")
    )
    if not chosen or not asks or info.kind == "year" or _ASKS_A_NAME.search(info.text):
        return False
    measure = info.measure or asked_measure(info.text)
    if any(
        c.figure is not None and (measure is None or fits(measure, c.figure, c.unit.text) is not False)
        for c in chosen
    ):
        return False
    # A year or a table number says when or where, not how much: 「(…其餘國家為 2023 年數值)」 is
    # no revenue figure.
    years = _ASKS_YEARS.search(info.text) is not None
    texts = [_WHEN_OR_WHERE.sub(" ", c.unit.text) for c in chosen]
    if not any(states_a_quantity(text, years) for text in texts):
        return True
    # An amount or a share asked, and every figure given counts something else (8 所 for a budget),
    # with no amount in words either: nothing answers it.
    if (
        measure is None
        or measure.counter_class is not None
        or measure.change
        or any(c.unit.is_row for c in chosen)
    ):
        return False
    figures = [(f, c.unit.text) for c in chosen for f in _sentence_figures(info, c.unit.text)]
    spelled = any(states_a_quantity(re.sub(r"[0-9０-９]", " ", text)) for text in texts)
    return bool(figures) and not spelled and all(fits(measure, f, text) is False for f, text in figures)


def _standing_with(info: _QuestionInfo, chosen: list[_Candidate]) -> list[_Candidate]:
    """The sentences shown beside a figure: those of its own passage, and from other passages only
    those stating the same number (another passage's figure answers another question)."""
    top = chosen[0] if chosen else None
    if top is None or not info.figure_question or top.figure is None:
        return chosen
    number = digits(top.figure.number)
    return [
        c
        for c in chosen
        if c.hit.chunk.chunk_id == top.hit.chunk.chunk_id
        or any(digits(f.number) == number for f in find_figures(c.unit.text))
    ]


def _shown_answer(
    info: _QuestionInfo,
    considered: list[Hit],
    chosen: list[_Candidate],
    confidence: float,
    config: AnswerConfig,
    started: float,
    checked: list[ConditionResult],
) -> Answer:
    """The chosen sentences rendered with their verified citations (or the generative answer)."""
    question = info.text
    if config.generative_url and config.generative_model:
        generated = _generative(info, considered, config)
        if generated is not None:
            return Answer(
                question=question,
                text=generated.text,
                abstained=False,
                confidence=confidence,
                citations=generated.citations,
                related=considered,
                figure=None,
                language=info.language,
                mode="generative",
                latency_ms=(time.perf_counter() - started) * 1000.0,
                conditions=checked,
            )

    chosen = _standing_with(info, chosen)
    lines: list[str] = []
    citations: list[Citation] = []
    figure_line: str | None = None
    figure: str | None = None
    shown = {(c.hit.chunk.chunk_id, c.unit.start) for c in chosen}
    cited: dict[str, int] = {}  # chunk id -> its citation's place in `citations`
    for candidate in chosen:
        chunk = candidate.hit.chunk
        # A sentence that opens with 他 / 該計畫 / "These" is quoted from the sentence it points
        # back at, unless that one is shown anyway.
        unit = with_antecedent(chunk, candidate.unit)
        if unit is not candidate.unit and (chunk.chunk_id, unit.start) in shown:
            unit = candidate.unit
        place = cited.get(chunk.chunk_id)
        if place is None:
            citation = build_citation(len(citations) + 1, chunk, unit.text, near=unit.start)
        else:
            # One passage is one source: a second sentence of it widens that citation's quote to
            # cover both, so the reader checks one passage once, under one number.
            earlier = citations[place]
            start = min(earlier.quote_start - chunk.char_start, unit.start)
            end = max(earlier.quote_end - chunk.char_start, unit.end)
            citation = build_citation(earlier.number, chunk, chunk.text[start:end], near=start)
        if citation is None:
            continue  # a quote that does not verify is never shown
        if place is None:
            cited[chunk.chunk_id] = len(citations)
            citations.append(citation)
        else:
            citations[place] = citation
        lines.append(_render(dataclasses.replace(candidate, unit=unit), citation, info.language))
        if info.figure_question and figure is None and candidate.figure is not None:
            figure = candidate.figure.text
            figure_line = _render_figure(candidate, citation.number, info.language)
    if not citations:
        return _abstain(info, considered, 0.0, started)
    if figure_line:
        lines.insert(0, figure_line)
    return Answer(
        question=question,
        text="\n".join(lines),
        abstained=False,
        confidence=confidence,
        citations=citations,
        related=considered,
        figure=figure,
        language=info.language,
        mode="extractive",
        latency_ms=(time.perf_counter() - started) * 1000.0,
        conditions=checked,
    )


def _generative(info: _QuestionInfo, hits: list[Hit], config: AnswerConfig) -> GenerativeAnswer | None:
    from qa.generative import ChatEndpoint, GenerativeError, generate_answer

    endpoint = ChatEndpoint(
        base_url=config.generative_url or "",
        model=config.generative_model or "",
        api_key=config.generative_api_key,
        timeout_s=config.generative_timeout_s,
    )
    try:
        return generate_answer(info.text, hits, info.language, endpoint)
    except GenerativeError as error:
        logger.warning("generative answer unavailable, showing the extractive answer: %s", error)
        return None
