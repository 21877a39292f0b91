"""The learned sentence-choice and confidence models: shipped weights, fitting, near-misses, splits."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from evaluation.drcd import article_part, load_squad
from evaluation.metrics import Outcome, reliability
from evaluation.questions import Question
from evaluation.train_confidence import (
    FOLDS,
    NEAR_MISS_KINDS,
    Record,
    _fold,
    _threshold,
    cross_fitted,
    fit_models,
    near_miss,
)
from qa.answer import AnswerConfig
from qa.confidence import (
    ANSWER_EXTRA,
    FEATURE_NAMES,
    CandidateFeatures,
    ModelError,
    load_model,
    model_path,
    shipped_model,
)


def test_the_shipped_model_loads_and_matches_this_versions_features() -> None:
    model = shipped_model()
    assert model.sentence.names == FEATURE_NAMES
    assert model.answer.names == (*FEATURE_NAMES, *ANSWER_EXTRA)
    assert 0.0 < model.threshold < 1.0
    # It was trained on held-out-free data and says so.
    assert set(model.trained["questions"]) >= {"drcd:answerable", "cmrc:answerable", "devtune:unanswerable"}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("not json", "cannot be read"),
        ('{"format": 99}', "format 99"),
        ('{"format": 2, "sentence": {"features": ["x"]}}', "feature list differs"),
        ('{"format": 2, "selection": "dice"}', "selection 'dice'"),
    ],
)
def test_a_broken_weights_file_is_named_in_one_line(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "confidence.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError, match=reason) as caught:
        load_model(path)
    assert str(caught.value).startswith("confidence.json:") and "\n" not in str(caught.value)


def _features(good: float) -> list[float]:
    """A candidate that covers the question (good=1) or does not (good=0)."""
    base = dict.fromkeys(FEATURE_NAMES, 0.0)
    base.update(coverage=0.3 + 0.6 * good, passage_coverage=0.5 + 0.4 * good, dense=0.78 + 0.1 * good)
    base.update(dense_known=1.0, rank_prior=1.0, time_met=good, time_contradicted=1.0 - good)
    base.update(hand_score=1.0 - good)  # a hand score that prefers the wrong sentence
    return CandidateFeatures(**base).vector()


def _record(n: int, answerable: bool, source: str) -> Record:
    # Answerable: the second candidate holds the answer and meets the year; unanswerable: neither does.
    good = 1.0 if answerable else 0.0
    wobble = (n % 7) / 20.0
    feats = [_features(0.0 + wobble), _features(good * (1 - wobble))]
    return Record(
        source=source,
        qid=f"q{n}",
        answerable=answerable,
        refused=False,
        features=feats,
        labels=[0, int(answerable and n % 5 != 0)],  # one answerable in five retrieves no answer
        coverage=[feats[0][0], feats[1][0]],
        cross=[False, False],
        blocked=[False, not answerable],
        forms=[f"a{n}", f"b{n}"],
    )


def test_fitting_learns_sentence_choice_confidence_and_a_threshold(tmp_path: Path) -> None:
    records = [_record(n, n % 3 != 0, "drcd" if n % 2 else "devtune") for n in range(300)]
    model, report = fit_models(records, AnswerConfig())
    assert report["sentence_top1_when_reachable"] == 1.0
    # The hand score prefers the wrong sentence here, so the learned choice is kept.
    assert report["selection"] == "learned" and model.selection == "learned"
    # The right sentence outranks the wrong one, and a good answer is more confident than a bad one.
    good, bad = _features(1.0), _features(0.0)
    assert model.sentence.logit(good) > model.sentence.logit(bad)
    # At most 5% of each source's answerable questions fall under the learned threshold.
    for figures in report["by_source"].values():
        assert figures["answerable_refused"] <= 0.2  # held out: a fifth of the data
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(model.to_json()), encoding="utf-8")
    again = load_model(path)
    assert again.threshold == pytest.approx(model.threshold, abs=1e-6)
    assert again.selection == model.selection
    assert again.sentence.logit(good) == pytest.approx(model.sentence.logit(good), abs=1e-4)


def test_the_threshold_reads_confidences_of_questions_the_models_did_not_fit() -> None:
    records = [_record(n, n % 3 != 0, "drcd") for n in range(200)]
    near = dataclasses.replace(records[1], qid="drcd-nm-q1", answerable=False)
    assert _fold(near) == _fold(records[1])  # a near-miss stays with the question it was made from
    assert len({_fold(r) for r in records}) == FOLDS
    rows = cross_fitted([*records, near], AnswerConfig(), "learned")
    assert sorted(r.qid for r, _, _ in rows) == sorted([*(r.qid for r in records), near.qid])
    # Each fold's confidences come from models fitted without it: relabelling fold 0 leaves its own
    # questions' confidences where they were and moves the other folds'.
    flipped = [dataclasses.replace(r, labels=[0, 0]) if _fold(r) == 0 else r for r in records]
    before = {r.qid: c for r, c, _ in cross_fitted(records, AnswerConfig(), "learned")}
    after = {r.qid: c for r, c, _ in cross_fitted(flipped, AnswerConfig(), "learned")}
    assert all(after[r.qid] == pytest.approx(before[r.qid]) for r in records if _fold(r) == 0)
    assert any(after[r.qid] != pytest.approx(before[r.qid]) for r in records if _fold(r) != 0)


def _q(text: str, lang: str = "zh-Hant") -> Question:
    return Question(id="x", question=text, lang=lang, type="number", answers=("1",))  # type: ignore[arg-type]


def test_near_misses_change_one_condition_to_one_the_passage_does_not_state() -> None:
    passage = "2023 年我國研發經費占 GDP 比率為 3.97%，112 年度經濟部投入 100 億元。"
    kind, changed = near_miss(_q("2023年我國研發經費占GDP比率是多少？"), passage)  # type: ignore[misc]
    assert kind == "year" and "2023" not in changed and changed.endswith("年我國研發經費占GDP比率是多少？")
    year = int(changed[:4])
    assert str(year) not in passage and str(year - 1911) not in passage
    kind, changed = near_miss(_q("112年度經濟部投入多少？"), passage)  # type: ignore[misc]
    assert kind == "year" and not changed.startswith("112")  # the ROC calendar stays ROC
    kind, changed = near_miss(_q("日本的研發經費占GDP比率是多少？"), passage)  # type: ignore[misc]
    assert kind == "country" and "日本" not in changed
    # Without a year, place or agency, another measure: 經費 becomes a count the passage lacks.
    kind, changed = near_miss(_q("研發經費是多少？"), passage)  # type: ignore[misc]
    assert kind == "metric" and changed == "研發人數是多少？"
    assert near_miss(_q("是多少？", lang="en"), passage) is None  # nothing to change


def test_near_misses_rotate_through_every_kind() -> None:
    passage = "2023 年我國經濟部研發經費為 100 億元。"
    question = _q("2023年我國經濟部研發經費是多少？")
    kinds = {near_miss(question, passage, first=n)[0] for n in range(len(NEAR_MISS_KINDS))}  # type: ignore[index]
    assert kinds == set(NEAR_MISS_KINDS)
    kind, changed = near_miss(question, passage, first=NEAR_MISS_KINDS.index("qualifier"))  # type: ignore[misc]
    assert kind == "qualifier" and changed.endswith(question.question) and changed != question.question
    english = _q("What was the R&D budget of the Ministry of Economic Affairs in 2023?", lang="en")
    kind, changed = near_miss(
        english, "The R&D budget was 10 billion.", first=NEAR_MISS_KINDS.index("programme")
    )  # type: ignore[misc]
    assert kind == "programme" and "the Smart Ocean 2.0 programme's" in changed


def _row(
    source: str, answerable: bool, confidence: float, blocked: bool = False
) -> tuple[Record, float, bool]:
    record = Record(source, f"{source}{confidence}", answerable, False, [], [], [], [], [], [])
    return record, confidence, blocked


def test_the_threshold_refuses_at_most_five_percent_of_every_sources_answerable_questions() -> None:
    rows = [_row("a", True, 0.5 + n / 100) for n in range(40)] + [
        _row("b", True, 0.3 + n / 100) for n in range(40)
    ]
    rows += [_row("a", False, 0.1 + n / 100) for n in range(40)]
    threshold = _threshold(rows)
    for source in ("a", "b"):
        mine = [c for r, c, _ in rows if r.source == source and r.answerable]
        assert sum(c < threshold for c in mine) <= 0.05 * len(mine)
    assert threshold == pytest.approx(0.32)  # source b allows two refusals, a none at that height
    # Answers that fail a condition use up the allowance on their own: no threshold refuses more.
    blocked = [_row("c", True, 0.9, blocked=n < 3) for n in range(20)] + [_row("c", True, 0.2)]
    assert _threshold(blocked) == 0.0


def test_drcd_articles_split_in_two_fixed_halves(shared_dir: Path) -> None:
    drcd = shared_dir / "datasets" / "drcd" / "DRCD_dev.json"
    train = load_squad(drcd, part="train")
    check = load_squad(drcd, part="check")
    assert {p.article for p in train.paragraphs}.isdisjoint({p.article for p in check.paragraphs})
    assert len(train.questions) + len(check.questions) == len(load_squad(drcd).questions)
    assert 0.4 < len(check.questions) / (len(train.questions) + len(check.questions)) < 0.6
    assert article_part("1147") == article_part("1147")


def _outcome(confidence: float, right: bool | None) -> Outcome:
    return Outcome(
        question_id="q", question="q", lang="zh-Hant", type="number", answerable=True, mode="hybrid",
        rank=1, relevant=(True,), n_relevant=1, search_ms=1.0, asked=True, confidence=confidence,
        right_if_answered=right,
    )  # fmt: skip


def test_reliability_bins_count_every_judged_question() -> None:
    outcomes = [_outcome(0.95, True)] * 9 + [
        _outcome(0.95, False),
        _outcome(0.15, False),
        _outcome(1.0, True),
    ]
    outcomes.append(_outcome(0.5, None))  # not judged: left out
    bins = reliability(outcomes)
    assert [(b.low, b.n) for b in bins] == [(0.1, 1), (0.9, 11)]
    assert bins[1].accuracy == pytest.approx(10 / 11)
    assert bins[0].accuracy == 0.0 and bins[0].mean_confidence == pytest.approx(0.15)


def test_the_weights_file_is_package_data() -> None:
    assert model_path().is_file()
    text = Path(__file__).resolve().parents[1].joinpath("pyproject.toml").read_text(encoding="utf-8")
    assert '"data/*.json"' in text
