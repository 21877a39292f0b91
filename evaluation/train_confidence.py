"""Fit the sentence-choice and confidence models and write the weights file the package ships.

    python -m evaluation.train_confidence [--reports ../shared/reports] [--datasets ../shared/datasets]

Training questions come only from data no check uses: the "train" articles of DRCD dev (see
`evaluation.drcd.article_part`), the CMRC 2018 trial set, the XQuAD articles of the fusion's tuning
half (`evaluation.train_fusion.tuning_article`), the development set's tune part, and
near-misses made from answerable ones of these by changing one condition (a year in either
calendar, a country, an agency) to one the gold passage does not state, which must be refused.
Every question is searched and its candidate sentences are scored exactly as `qa ask` does
(`Pipeline.candidate_records`: the same hits, table names and table slices); their feature records
are cached per source under the cache folder, so a refit after the first run takes seconds. The
models are scikit-learn logistic regressions whose coefficients are written as JSON
(`qa/data/confidence.json`).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from corpus.normalize import to_simplified_text
from evaluation.drcd import SquadSet, load_squad
from evaluation.judging import Judge
from evaluation.matching import fold
from evaluation.questions import Question, evenly_spaced, load_questions
from evaluation.runner import corpus_index, squad_index
from evaluation.train_fusion import tuning_article
from qa.answer import AnswerConfig, Selectable, select_indices
from qa.conditions import agencies_in, places_in, year_mentions
from qa.confidence import (
    ANSWER_EXTRA,
    FEATURE_NAMES,
    SELECTIONS,
    AnswerFeatures,
    CandidateFeatures,
    ConfidenceModel,
    Logistic,
    model_path,
    sigmoid,
)
from qa.config import Config
from qa.language import matching_form
from qa.pipeline import Pipeline

log = logging.getLogger(__name__)

# Caps that keep the first feature extraction within about 15 minutes on two busy cores: the
# paragraphs of QUESTIONS questions (plus same-article ones) are indexed, ASKED of them answered.
DRCD_QUESTIONS, DRCD_PARAGRAPHS, DRCD_ASKED = 300, 400, 300
CMRC_QUESTIONS, CMRC_PARAGRAPHS, CMRC_ASKED = 200, 300, 200
# XQuAD: English questions over Chinese paragraphs, the only source that teaches what a right
# answer looks like across languages; only the fusion's tuning half of its articles is used.
XQUAD_ASKED = 300
NEAR_MISS_PER_SOURCE = 90
FEATURES_VERSION = "2"
HELD_OUT = 5  # one question in five (by a hash of its id) is held out for the figures printed
FOLDS = 5  # the threshold is chosen on confidences cross-fitted over this many folds
MAX_ANSWERABLE_REFUSED = 0.05  # the threshold refuses at most this share of any source's answerable ones

# Stand-ins for near-misses: another country or agency than the question names.
_COUNTRIES = {
    "zh": ("日本", "韓國", "德國", "法國", "新加坡", "印度", "越南", "澳洲", "加拿大", "荷蘭"),
    "en": ("Japan", "Korea", "Germany", "France", "Singapore", "India", "Vietnam", "Australia"),
}
_AGENCIES = ("教育部", "經濟部", "交通部", "衛生福利部", "內政部", "文化部", "農業部", "勞動部", "環境部")


@dataclass(frozen=True)
class Record:
    """One training question with its candidates' features and labels."""

    source: str
    qid: str
    answerable: bool
    refused: bool  # answered before any sentence is scored (only conditions ..., or a table cell)
    features: list[list[float]]
    labels: list[int]  # the candidate holds an acceptable answer (in a relevant passage)
    coverage: list[float]
    cross: list[bool]
    blocked: list[bool]
    forms: list[str]
    hand_confidence: float = 0.0  # the hand-weighted confidence (a feature of the answer model)
    cell: bool = False  # answered from a table cell (no threshold applies)
    kind: str = ""  # the near-miss kind ("" for the source's own questions)

    @property
    def group(self) -> str:
        """The question a near-miss was made from (itself otherwise): the two share a passage."""
        return self.qid.split("-nm-", 1)[-1]

    @property
    def held_out(self) -> bool:
        return int(hashlib.sha256(f"{self.source}:{self.qid}".encode()).hexdigest(), 16) % HELD_OUT == 0


def _fold(record: Record) -> int:
    key = f"fold:{record.source}:{record.group}"
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % FOLDS


# -- near-misses ---------------------------------------------------------------------------------
def _hans(text: str) -> str:
    return to_simplified_text(text)


def _other_year(question: str, passage: str) -> str | None:
    """The question with its first year moved to one the passage never states (either calendar)."""
    folded = fold(passage)
    for mention in year_mentions(question):
        if len(mention.years) != 1:
            continue
        year = next(iter(mention.years))
        digits = re.search(r"\d+", mention.text)
        if digits is None:
            continue
        for step in (3, -4, 6, -7, 9):
            new = year + step
            if str(new) in folded or str(new - 1911) in folded:
                continue
            value = str(new - 1911) if mention.roc else str(new)
            start = mention.start + digits.start()
            return question[:start] + value + question[mention.start + digits.end() :]
    return None


def _swap(
    question: str, start: int, end: int, choices: Sequence[str], passage: str, hans: bool
) -> str | None:
    folded = fold(passage + question)
    for name in choices:
        shown = _hans(name) if hans else name
        if fold(shown) not in folded:
            return question[:start] + shown + question[end:]
    return None


# Stand-ins for the other near-miss kinds: a measure, a qualifier or a programme the passage lacks.
_METRICS = {
    "zh": (
        ("經費", "人數"),
        ("預算", "件數"),
        ("人數", "經費"),
        ("比率", "金額"),
        ("占比", "人數"),
        ("金額", "比率"),
    ),
    "en": (("budget", "headcount"), ("funding", "headcount"), ("share", "amount"), ("number", "budget")),
}
_QUALIFIER_PREFIXES = {"zh": ("偏鄉地區的", "累計", "預估的"), "en": ("rural ", "cumulative ", "projected ")}
_PROGRAMMES = {
    "zh": ("「智慧海洋2.0」計畫的", "「數位國土」方案的", "「綠能晶片」計畫的"),
    "en": ("the Smart Ocean 2.0 programme's ", "the Digital Land Plan's ", "the Green Chip Initiative's "),
}
NEAR_MISS_KINDS = ("year", "country", "agency", "metric", "qualifier", "programme")


def _other_metric(question: str, passage: str, lang: str, hans: bool) -> str | None:
    folded = fold(passage)
    for old, new in _METRICS[lang]:
        shown_old, shown_new = (_hans(old), _hans(new)) if hans else (old, new)
        at = question.find(shown_old) if lang != "en" else question.lower().find(old)
        if at >= 0 and fold(shown_new) not in folded:
            return question[:at] + shown_new + question[at + len(shown_old) :]
    return None


def _prefixed(question: str, passage: str, choices: Sequence[str], lang: str, hans: bool) -> str | None:
    """The question narrowed by a phrase the passage never states, put before its subject."""
    folded = fold(passage)
    for phrase in choices:
        shown = _hans(phrase) if hans else phrase
        if fold(shown.strip()) in folded:
            continue
        if lang == "en":
            match = re.search(r"\b(?:the|of|in)\s+", question)
            if match is None:
                return None
            return question[: match.end()] + shown + question[match.end() :]
        return shown + question
    return None


def near_miss(question: Question, passage: str, first: int = 0) -> tuple[str, str] | None:
    """(kind, question) changed in one condition so that `passage` no longer answers it; the kinds
    are tried from `first` on, so that a list of questions yields every kind."""
    hans = question.lang == "zh-Hans"
    lang = "en" if question.lang == "en" else "zh"
    for step in range(len(NEAR_MISS_KINDS)):
        kind = NEAR_MISS_KINDS[(first + step) % len(NEAR_MISS_KINDS)]
        changed: str | None = None
        if kind == "year":
            changed = _other_year(question.question, passage)
        elif kind == "country":
            for place in places_in(question.question)[:1]:
                names = _COUNTRIES[lang]
                changed = _swap(question.question, place.start, place.end, names, passage, hans)
        elif kind == "agency":
            for _, start, end in agencies_in(question.question)[:1]:
                changed = _swap(question.question, start, end, _AGENCIES, passage, hans)
        elif kind == "metric":
            changed = _other_metric(question.question, passage, lang, hans)
        elif kind == "qualifier":
            changed = _prefixed(question.question, passage, _QUALIFIER_PREFIXES[lang], lang, hans)
        else:
            changed = _prefixed(question.question, passage, _PROGRAMMES[lang], lang, hans)
        if changed:
            return kind, changed
    return None


# -- feature extraction --------------------------------------------------------------------------
def _labels(judge: Judge, question: Question, record_units: list[tuple[str, object]]) -> list[int]:
    answers = tuple(a for a in (fold(x) for x in question.answers) if a)
    labels = []
    for text, chunk in record_units:
        relevant = question.answerable and judge.is_relevant(question, chunk)  # type: ignore[arg-type]
        labels.append(int(relevant and any(a in fold(text) for a in answers)))
    return labels


def extract(
    pipe: Pipeline, source: str, questions: Sequence[Question], *, progress: bool
) -> Iterator[Record]:
    """Feature records of `questions`, read as `pipe.ask` reads them (its own answer settings)."""
    judge = Judge()
    started = time.perf_counter()
    for n, question in enumerate(questions, 1):
        prepared = pipe.candidate_records(question.question)
        units = [
            (f"{c.unit.header}\n{c.unit.text}" if c.unit.is_row else c.unit.text, c.hit.chunk)
            for c in prepared.candidates
        ]
        yield Record(
            source=source,
            qid=question.id,
            answerable=question.answerable,
            refused=prepared.refused is not None,
            features=[c.features.vector() for c in prepared.candidates if c.features is not None],
            labels=_labels(judge, question, units),
            coverage=[c.coverage for c in prepared.candidates],
            cross=[c.cross_script for c in prepared.candidates],
            blocked=[bool(c.blocked) for c in prepared.candidates],
            forms=[matching_form(c.unit.text) for c in prepared.candidates],
            hand_confidence=prepared.hand_confidence,
            cell=prepared.refused is not None and not prepared.refused.abstained,
            kind=question.condition or "",
        )
        if progress and n % 25 == 0:
            rate = (time.perf_counter() - started) / n
            print(f"  {source}: {n}/{len(questions)} ({rate:.2f} s per question)", file=sys.stderr)


def _with_near_misses(
    questions: list[Question], passages: dict[str, str], prefix: str, limit: int
) -> list[Question]:
    made: list[Question] = []
    for question in questions:
        if len(made) >= limit:
            break
        passage = passages.get(question.id)
        if not question.answerable or passage is None:
            continue
        changed = near_miss(question, passage, first=len(made))
        if changed is None:
            continue
        kind, text = changed
        made.append(
            dataclasses.replace(
                question,
                id=f"{prefix}-nm-{question.id}",
                question=text,
                type="unanswerable",
                answers=(),
                evidence=(),
                gold_chunk_ids=(),
                condition=kind,
            )
        )
    return [*questions, *made]


def _cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "reportqa" / "confidence-training"


def _cache_key(source: str, questions: Sequence[Question]) -> str:
    # FEATURES_VERSION changes when a feature's meaning does (the hand score now halves per failed
    # condition), so that cached records are extracted again.
    digest = hashlib.sha256("\n".join([FEATURES_VERSION, *FEATURE_NAMES]).encode())
    for q in questions:
        digest.update(f"{q.id}\t{q.question}\n".encode())
    return f"{source}-{digest.hexdigest()[:12]}.jsonl"


def cached_records(
    source: str,
    questions: list[Question],
    open_pipe: object,
    *,
    refresh: bool,
    progress: bool,
) -> list[Record]:
    """Records of `questions`, from the cache when this exact question list was extracted before."""
    path = _cache_dir() / _cache_key(source, questions)
    if path.is_file() and not refresh:
        return [Record(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]
    pipe: Pipeline = open_pipe()  # type: ignore[operator]
    try:
        records = list(extract(pipe, source, questions, progress=progress))
    finally:
        pipe.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        "".join(json.dumps(dataclasses.asdict(r), ensure_ascii=False) + "\n" for r in records),
        encoding="utf-8",
    )
    tmp.replace(path)
    return records


# -- sources -------------------------------------------------------------------------------------
def squad_records(
    name: str,
    path: Path,
    caps: tuple[int | None, int | None, int],
    part: str,
    config: Config,
    args: argparse.Namespace,
    keep: Callable[[SquadSet], SquadSet] | None = None,
) -> list[Record]:
    questions, paragraphs, n_asked = caps
    squad = load_squad(path, limit=questions, max_paragraphs=paragraphs, part=part)  # type: ignore[arg-type]
    if keep is not None:
        squad = keep(squad)
    text_of = {p.chunk_id: p.text for p in squad.paragraphs}
    kept = evenly_spaced(squad.questions, n_asked)
    passages = {q.id: text_of[q.gold_chunk_ids[0]] for q in kept if q.gold_chunk_ids}
    asked = _with_near_misses(kept, passages, name, NEAR_MISS_PER_SOURCE)
    index_dir = _cache_dir() / f"{name}-index"

    def open_pipe() -> Pipeline:
        squad_index(squad, config, index_dir)
        return Pipeline.open(dataclasses.replace(config, index_dir=index_dir))

    return cached_records(name, asked, open_pipe, refresh=args.refresh, progress=not args.quiet)


def tuning_half(squad: SquadSet) -> SquadSet:
    """The paragraphs and questions of the articles the learned fusion tunes on (never the others)."""
    paragraphs = [p for p in squad.paragraphs if tuning_article(p.article)]
    kept = {p.chunk_id for p in paragraphs}
    questions = [q for q in squad.questions if set(q.gold_chunk_ids) & kept]
    return dataclasses.replace(squad, paragraphs=paragraphs, questions=questions)


# (name, file under --datasets, caps, DRCD article part, restriction): the public training sources.
SQUAD_SOURCES: tuple[
    tuple[str, str, tuple[int | None, int | None, int], str, Callable[[SquadSet], SquadSet] | None], ...
] = (
    ("drcd", "drcd/DRCD_dev.json", (DRCD_QUESTIONS, DRCD_PARAGRAPHS, DRCD_ASKED), "train", None),
    ("cmrc", "cmrc2018/cmrc2018_trial.json", (CMRC_QUESTIONS, CMRC_PARAGRAPHS, CMRC_ASKED), "all", None),
    ("xquad", "xquad/xquad_en2zh_dev.json", (None, None, XQUAD_ASKED), "all", tuning_half),
)


def devset_records(config: Config, args: argparse.Namespace) -> list[Record]:
    devset = Path(__file__).parent / "data" / "devset.jsonl"
    tune = [q for q in load_questions(devset) if q.split == "tune"]
    index_dir = args.reports_index or _cache_dir() / "reports-index"

    def open_pipe() -> Pipeline:
        if args.reports_index is None:
            pdfs = sorted(args.reports.glob("*.pdf"))
            corpus_index(pdfs, config, index_dir, progress=not args.quiet)
        return Pipeline.open(dataclasses.replace(config, index_dir=index_dir))

    # Near-misses of the tune part: changed against the evidence the question was written from.
    passages = {q.id: "\n".join(q.evidence) for q in tune if q.answerable}
    asked = _with_near_misses(tune, passages, "dev", NEAR_MISS_PER_SOURCE)
    return cached_records("devtune", asked, open_pipe, refresh=args.refresh, progress=not args.quiet)


# -- fitting -------------------------------------------------------------------------------------
def _fit(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> Logistic:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit((x - mean) / scale, y)
    return Logistic(names, mean, scale, model.coef_[0].astype(float), float(model.intercept_[0]))


Row = tuple[Record, list[float], int, bool]  # record, answer features, right, top sentence blocked


_HAND = FEATURE_NAMES.index("hand_score")


def _answer_rows(
    records: Sequence[Record], sentence: Logistic, config: AnswerConfig, selection: str = "learned"
) -> list[Row]:
    """Per question: the confidence model's input for the answer `qa ask` would choose, whether
    that answer is right (a shown sentence holds an acceptable answer), and whether it fails a
    condition (then `qa ask` refuses it whatever its confidence)."""
    rows = []
    for record in records:
        if record.refused or not record.features:
            continue
        logits = [sentence.logit(f) for f in record.features]
        scores = [f[_HAND] for f in record.features] if selection == "hand" else [sigmoid(v) for v in logits]
        items = [
            Selectable(score, cov, cross, blocked, form)
            for score, cov, cross, blocked, form in zip(
                scores, record.coverage, record.cross, record.blocked, record.forms, strict=True
            )
        ]
        chosen = select_indices(items, config.max_sentences, config.keep_ratio)
        top = chosen[0]
        others = [lg for i, lg in enumerate(logits) if i != top]
        features = AnswerFeatures(
            top=CandidateFeatures(*record.features[top]),
            sentence_logit=logits[top],
            margin=logits[top] - max(others) if others else 0.0,
            n_chosen=float(len(chosen)),
            hand_confidence=record.hand_confidence,
        )
        # A shown answer about another year or agency is refused whatever its confidence.
        right = int(not record.blocked[top] and any(record.labels[i] for i in chosen))
        rows.append((record, features.vector(), right, record.blocked[top]))
    return rows


def _selection_accuracy(
    records: Sequence[Record], sentence: Logistic, config: AnswerConfig
) -> dict[str, float]:
    """Share of answerable questions whose shown sentences hold an acceptable answer, per selection."""
    out = {}
    for selection in SELECTIONS:
        rows = [r for r in _answer_rows(records, sentence, config, selection) if r[0].answerable]
        out[selection] = round(sum(y for _, _, y, _ in rows) / len(rows), 4) if rows else 0.0
    return out


def _shown_confidence(confidence: float, blocked: bool, threshold: float) -> float:
    """The confidence `qa ask` reports: a refusal on a failed condition stays under the threshold."""
    return min(confidence * 0.5, threshold * 0.99) if blocked else confidence


def _threshold(rows: Sequence[tuple[Record, float, bool]]) -> float:
    """The highest threshold that refuses at most MAX_ANSWERABLE_REFUSED of each source's answerable
    training questions; answers that fail a condition count as refused at any threshold, so a source
    whose failed conditions alone use up the allowance keeps the threshold at 0."""
    sources = sorted({r.source for r, _, _ in rows if r.answerable})
    candidates = sorted({c for r, c, blocked in rows if not blocked})
    best = 0.0
    for threshold in candidates:
        ok = True
        for source in sources:
            mine = [(c, blocked) for r, c, blocked in rows if r.source == source and r.answerable]
            refused = sum(1 for c, blocked in mine if blocked or c < threshold)
            if refused > MAX_ANSWERABLE_REFUSED * len(mine):
                ok = False
                break
        if not ok:
            break
        best = threshold
    return best


def _figures(rows: Sequence[tuple[Record, float, int]], threshold: float) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for source in sorted({r.source for r, _, _ in rows}):
        mine = [(r, c, y) for r, c, y in rows if r.source == source]
        ans = [(c, y) for r, c, y in mine if r.answerable]
        una = [c for r, c, _ in mine if not r.answerable]
        answered = [y for c, y in ans if c >= threshold]
        out[source] = {
            "answerable": len(ans),
            "unanswerable": len(una),
            "answerable_refused": round(sum(c < threshold for c, _ in ans) / len(ans), 3) if ans else 0.0,
            "unanswerable_refused": round(sum(c < threshold for c in una) / len(una), 3) if una else 0.0,
            "hit_when_answered": round(sum(answered) / len(answered), 3) if answered else 0.0,
        }
    return out


def _reliability(pairs: Sequence[tuple[float, int]], bins: int = 10) -> list[tuple[str, int, float, float]]:
    table = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(c, y) for c, y in pairs if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        if inside:
            mean_c = sum(c for c, _ in inside) / len(inside)
            acc = sum(y for _, y in inside) / len(inside)
            table.append((f"{lo:.1f}-{hi:.1f}", len(inside), mean_c, acc))
    return table


def _sentence_data(rs: Sequence[Record]) -> tuple[np.ndarray, np.ndarray]:
    x = [f for r in rs if not r.refused for f in r.features]
    y = [lab for r in rs if not r.refused for lab in r.labels]
    return np.asarray(x, dtype=float), np.asarray(y, dtype=int)


def _models(rs: Sequence[Record], config: AnswerConfig, selection: str) -> tuple[Logistic, Logistic]:
    """The sentence model, and the answer model over the answers it (or the hand score) chooses."""
    sentence = _fit(*_sentence_data(rs), FEATURE_NAMES)
    rows = _answer_rows(rs, sentence, config, selection)
    answer = _fit(
        np.asarray([v for _, v, _, _ in rows], dtype=float),
        np.asarray([y for _, _, y, _ in rows], dtype=int),
        (*FEATURE_NAMES, *ANSWER_EXTRA),
    )
    return sentence, answer


def cross_fitted(
    records: Sequence[Record], config: AnswerConfig, selection: str
) -> list[tuple[Record, float, bool]]:
    """Each question's confidence from models fitted on the other folds (a near-miss in its source
    question's fold), with whether its answer fails a condition."""
    confidences: list[tuple[Record, float, bool]] = []
    for part in range(FOLDS):
        sentence, answer = _models([r for r in records if _fold(r) != part], config, selection)
        rows = _answer_rows([r for r in records if _fold(r) == part], sentence, config, selection)
        confidences += [(r, sigmoid(answer.logit(v)), blocked) for r, v, _, blocked in rows]
    return confidences


def fit_models(records: list[Record], config: AnswerConfig) -> tuple[ConfidenceModel, dict[str, object]]:
    """Fit on the training part, choose the sentence choice and report on the held-out part, then
    refit on everything."""

    def both(rs: Sequence[Record], selection: str) -> tuple[Logistic, Logistic, float]:
        # The threshold is read from confidences of questions each model did not see: on its own
        # training questions a model is surer than on new ones, and a threshold set there refuses
        # more new answerable questions than the allowance.
        return *_models(rs, config, selection), _threshold(cross_fitted(rs, config, selection))

    train = [r for r in records if not r.held_out]
    held = [r for r in records if r.held_out]
    sentence = _fit(*_sentence_data(train), FEATURE_NAMES)
    accuracy = _selection_accuracy(held, sentence, config)
    # The sentence choice that shows a right sentence more often on held-out questions; ties keep
    # the hand score, whose behaviour is known.
    selection = "learned" if accuracy["learned"] > accuracy["hand"] else "hand"
    sentence, answer, threshold = both(train, selection)
    rows = _answer_rows(held, sentence, config, selection)
    scored = [
        (r, _shown_confidence(sigmoid(answer.logit(v)), blocked, threshold), y) for r, v, y, blocked in rows
    ]
    learners = _compare_learners(_answer_rows(train, sentence, config, selection), rows)
    top1 = [
        int(r.labels[int(np.argmax([sentence.logit(f) for f in r.features]))])
        for r in held
        if r.answerable and not r.refused and r.features and any(r.labels)
    ]
    report: dict[str, object] = {
        "held_out_questions": len(held),
        "selection": selection,
        "selection_accuracy": accuracy,
        "threshold_from_training_part": round(threshold, 4),
        "sentence_top1_when_reachable": round(sum(top1) / len(top1), 3) if top1 else None,
        "by_source": _figures(scored, threshold),
        "by_kind": _kind_figures(scored, threshold),
        "learners": learners,
        "reliability": _reliability([(c, y) for _, c, y in scored]),
    }
    sentence, answer, threshold = both(records, selection)
    counts: dict[str, int] = {}
    for r in records:
        key = f"{r.source}:{'answerable' if r.answerable else 'unanswerable'}"
        counts[key] = counts.get(key, 0) + 1
    trained = {"questions": counts, "held_out": report}
    return ConfidenceModel(sentence, answer, threshold, trained, selection), report


def _compare_learners(train: Sequence[Row], held: Sequence[Row]) -> dict[str, dict[str, float]]:
    """Held-out figures of the logistic answer model against gradient boosting on the same rows:
    ranking quality (AUC of right vs wrong answers) and the unanswerable questions refused at the
    threshold that refuses 5% of the answerable ones."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    x_train = np.asarray([v for _, v, _, _ in train], dtype=float)
    y_train = np.asarray([y for _, _, y, _ in train], dtype=int)
    x_held = np.asarray([v for _, v, _, _ in held], dtype=float)
    y_held = np.asarray([y for _, _, y, _ in held], dtype=int)
    logistic = _fit(x_train, y_train, (*FEATURE_NAMES, *ANSWER_EXTRA))
    boosted = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15)
    boosted.fit(x_train, y_train)
    scores = {
        "logistic": np.asarray([sigmoid(logistic.logit(list(v))) for v in x_held]),
        "boosting": boosted.predict_proba(x_held)[:, 1],
    }
    answerable = np.asarray([r.answerable for r, _, _, _ in held])
    out = {}
    for name, score in scores.items():
        cut = float(np.quantile(score[answerable], MAX_ANSWERABLE_REFUSED)) if answerable.any() else 0.0
        refused = float(np.mean(score[~answerable] < cut)) if (~answerable).any() else 0.0
        auc = float(roc_auc_score(y_held, score)) if 0 < y_held.sum() < len(y_held) else 0.0
        out[name] = {"auc": round(auc, 4), "unanswerable_refused_at_5pct": round(refused, 3)}
    return out


def _kind_figures(rows: Sequence[tuple[Record, float, int]], threshold: float) -> dict[str, list[int]]:
    """Near-misses refused per kind: [refused, asked]."""
    out: dict[str, list[int]] = {}
    for r, c, _ in rows:
        if not r.answerable:
            counts = out.setdefault(r.kind or "own", [0, 0])
            counts[0] += int(c < threshold)
            counts[1] += 1
    return out


def _print_report(report: dict[str, object], model: ConfidenceModel) -> None:
    print(f"held-out questions: {report['held_out_questions']}")
    print(f"sentence choice: {report['selection']} (held-out accuracy {report['selection_accuracy']})")
    print(
        f"sentence model, top-1 holds the answer (answer reachable): {report['sentence_top1_when_reachable']}"
    )
    print(
        f"threshold (training part): {report['threshold_from_training_part']}; final: {model.threshold:.4f}"
    )
    print(f"{'source':<10}{'answerable':>11}{'refused':>9}{'unanswerable':>13}{'refused':>9}{'hit':>7}")
    for source, f in report["by_source"].items():  # type: ignore[union-attr]
        print(
            f"{source:<10}{f['answerable']:>11}{f['answerable_refused']:>9.3f}"
            f"{f['unanswerable']:>13}{f['unanswerable_refused']:>9.3f}{f['hit_when_answered']:>7.3f}"
        )
    print(
        "near-misses refused (held out), per kind: "
        + ", ".join(
            f"{kind} {n}/{total}"
            for kind, (n, total) in sorted(report["by_kind"].items())  # type: ignore[union-attr]
        )
    )
    print(f"answer model, held out: {report['learners']}")
    print("reliability (held out): bin, questions, mean confidence, observed accuracy")
    for label, n, mean_c, acc in report["reliability"]:  # type: ignore[union-attr]
        print(f"  {label}  {n:>4}  {mean_c:.3f}  {acc:.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.train_confidence", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--reports", type=Path, default=Path("../shared/reports"), help="the sample reports (PDFs)"
    )
    parser.add_argument(
        "--reports-index", type=Path, help="an existing index of those reports to use as it is"
    )
    parser.add_argument(
        "--datasets", type=Path, default=Path("../shared/datasets"), help="drcd/ and cmrc2018/"
    )
    parser.add_argument("--out", type=Path, default=model_path(), help="weights file to write")
    parser.add_argument("--refresh", action="store_true", help="re-extract features even when cached")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = Config.load()
    started = time.perf_counter()
    records = [
        *(
            record
            for name, path, caps, part, keep in SQUAD_SOURCES
            for record in squad_records(name, args.datasets / path, caps, part, config, args, keep)
        ),
        *devset_records(config, args),
    ]
    print(f"features of {len(records)} questions ready in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    model, report = fit_models(records, config.answer)
    print(f"fitted in {time.perf_counter() - started:.1f} s")
    _print_report(report, model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
