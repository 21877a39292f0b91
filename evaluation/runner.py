"""`qa eval`: run a question set through the product's own search and answer path and score it.

Every question goes through `Pipeline.search` in each retrieval mode (ranking metrics) and
through `Pipeline.ask` in the answer modes (answer, citation and abstention metrics), exactly as
`qa search` / `qa ask` run it. SET is a JSONL question set (see `evaluation.questions`) or a
SQuAD-style JSON such as DRCD (see `evaluation.drcd`), told apart by content.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from corpus.types import Chunk
from evaluation.calibration import format_table
from evaluation.drcd import SquadSet, is_squad_json, load_squad
from evaluation.floors import DEFAULT_FLOORS, FloorsError, check_floors, load_floors
from evaluation.judging import Judge
from evaluation.metrics import Outcome, first_relevant_rank
from evaluation.questions import (
    Question,
    QuestionSetError,
    SplitChoice,
    check_verbatim,
    evenly_spaced,
    load_questions,
    select_split,
)
from evaluation.report import split_label, write_report
from evaluation.summary import EvalRun, RunInfo, summarize_mode
from qa.config import Config
from qa.errors import QAError
from qa.pipeline import Pipeline, build_index_from_chunks, ingest
from qa.retrieval import MODES, Mode

log = logging.getLogger(__name__)

DEFAULT_KS: tuple[int, ...] = (1, 5, 10, 20)
CACHE_MARKER = "eval-corpus.json"  # beside the index generations: which paragraph set was indexed


@dataclass(frozen=True)
class EvalOptions:
    """What to measure; the CLI fills it from `qa eval` flags."""

    modes: tuple[Mode, ...] = MODES
    answer_modes: tuple[Mode, ...] = ("hybrid",)
    ks: tuple[int, ...] = DEFAULT_KS
    split: SplitChoice = "all"  # one part of a split set (tune / check), before the limit applies
    limit: int | None = None  # evenly spaced slice of the questions
    answer_limit: int | None = None  # ask only an evenly spaced slice of those (answering costs most)
    paragraphs: int | None = None  # SQuAD sets: gold paragraphs plus distractors up to this many
    max_answerable_refused: float = 0.05  # calibration: the most answerable questions a threshold may refuse
    progress: bool = True

    @property
    def search_depth(self) -> int:
        return max(*self.ks, 10)  # MRR@10 and nDCG@10 need ten


def _indexed_chunks(pipe: Pipeline) -> dict[str, Chunk]:
    """Every passage in the index, by chunk id."""
    return {chunk.chunk_id: chunk for chunk in pipe.chunks()}


def _corpus_texts(pipe: Pipeline) -> dict[str, str]:
    """Display text of each indexed report by file stem (the .pdf and .txt of a report share one)."""
    texts: dict[str, list[str]] = {}
    for info in pipe.documents():
        texts.setdefault(Path(info.file_name).stem, []).append(pipe.document_text(info.doc_id))
    # NUL never occurs in a folded answer string, so joined texts cannot produce a false match.
    return {stem: "\x00".join(parts) for stem, parts in texts.items()}


def _run_one(
    pipe: Pipeline,
    judge: Judge,
    question: Question,
    mode: Mode,
    *,
    ask: bool,
    depth: int,
    n_relevant: int,
) -> Outcome:
    base = {
        "question_id": question.id,
        "question": question.question,
        "lang": question.lang,
        "type": question.type,
        "answerable": question.answerable,
        "mode": mode,
        "n_relevant": n_relevant,
        "split": question.split,
        "condition": question.condition,
    }
    started = time.perf_counter()
    try:
        hits = pipe.search(question.question, k=depth, mode=mode)
    except QAError as exc:
        ms = (time.perf_counter() - started) * 1000.0
        return Outcome(**base, rank=None, relevant=(), search_ms=ms, asked=ask, error=str(exc))
    search_ms = (time.perf_counter() - started) * 1000.0
    relevant = tuple(judge.is_relevant(question, h.chunk) for h in hits)
    outcome = Outcome(**base, rank=first_relevant_rank(relevant), relevant=relevant, search_ms=search_ms)
    if not ask:
        return outcome

    started = time.perf_counter()
    try:
        answer = pipe.ask(question.question, mode=mode)
    except QAError as exc:
        return dataclasses.replace(
            outcome, asked=True, ask_ms=(time.perf_counter() - started) * 1000.0, error=str(exc)
        )
    ask_ms = (time.perf_counter() - started) * 1000.0
    shown = answer.text
    if answer.figure and answer.figure not in shown:
        shown = f"{answer.figure}\n{shown}"
    relevant_citations = 0
    for citation in answer.citations:
        chunk = pipe.chunk(citation.chunk_id)
        relevant_citations += chunk is not None and judge.is_relevant(question, chunk)
    if not question.answerable:
        right = False
    elif answer.abstained:
        right = answer.withheld is not None and judge.answer_hit(question, answer.withheld)
    else:
        right = judge.answer_hit(question, shown)
    return dataclasses.replace(
        outcome,
        asked=True,
        right_if_answered=right,
        shown_answer=shown,
        abstained=answer.abstained,
        answer_hit=question.answerable and not answer.abstained and judge.answer_hit(question, shown),
        confidence=answer.confidence,
        citations=len(answer.citations),
        relevant_citations=relevant_citations,
        ask_ms=ask_ms,
    )


def evaluate(
    pipe: Pipeline,
    questions: Sequence[Question],
    options: EvalOptions,
    *,
    set_name: str,
    set_path: str,
    set_kind: str,
    index_dir: Path,
    index_seconds: float | None = None,
    verbatim: bool = True,
) -> EvalRun:
    """Ask every question in every mode and summarise; `verbatim` checks strings against the index."""
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    judge = Judge()
    chunks = _indexed_chunks(pipe)
    n_relevant = {q.id: judge.count_relevant(q, chunks) for q in questions}
    unreachable = [q.id for q in questions if q.answerable and n_relevant[q.id] == 0]
    if unreachable:
        log.warning("%d answerable questions have no relevant passage in the index", len(unreachable))
    problems = check_verbatim(questions, _corpus_texts(pipe)) if verbatim else []

    # One untimed call per mode first: lazy loading must not count as the first question's latency.
    if questions:
        for mode in options.modes:
            try:
                pipe.search(questions[0].question, k=options.search_depth, mode=mode)
                if mode in options.answer_modes:
                    pipe.ask(questions[0].question, mode=mode)
            except QAError:
                pass

    to_ask = {q.id for q in evenly_spaced(list(questions), options.answer_limit)}
    outcomes: list[Outcome] = []
    total = len(questions) * len(options.modes)
    with tqdm(total=total, desc=f"eval {set_name}", unit="q", disable=not options.progress) as bar:
        for question in questions:
            for mode in options.modes:
                outcomes.append(
                    _run_one(
                        pipe,
                        judge,
                        question,
                        mode,
                        ask=mode in options.answer_modes and question.id in to_ask,
                        depth=options.search_depth,
                        n_relevant=n_relevant[question.id],
                    )
                )
                bar.update()

    info = RunInfo(
        set_name=set_name,
        set_path=set_path,
        set_kind=set_kind,
        n_questions=len(questions),
        n_answerable=sum(q.answerable for q in questions),
        n_unanswerable=sum(not q.answerable for q in questions),
        index_dir=str(index_dir),
        n_documents=len({c.doc_id for c in chunks.values()}),
        n_passages=len(chunks),
        modes=tuple(options.modes),
        answer_modes=tuple(m for m in options.modes if m in options.answer_modes),
        ks=tuple(options.ks),
        search_depth=options.search_depth,
        started_at=started_at,
        seconds=time.perf_counter() - started + (index_seconds or 0.0),
        index_seconds=index_seconds,
    )
    summaries = [
        summarize_mode(m, outcomes, options.ks, max_answerable_refused=options.max_answerable_refused)
        for m in options.modes
    ]
    return EvalRun(
        info=info, modes=summaries, outcomes=outcomes, verbatim_problems=problems, unreachable=unreachable
    )


# -- indexes -------------------------------------------------------------------------------------
def squad_index(squad: SquadSet, config: Config, index_dir: Path, *, rebuild: bool = False) -> float | None:
    """Build the paragraphs' index at `index_dir` unless it already holds this paragraph set.

    Returns the seconds spent building, or None when the cached index was reused.
    """
    marker = index_dir / CACHE_MARKER
    fingerprint = squad.fingerprint()
    if not rebuild and marker.is_file():
        try:
            cached = json.loads(marker.read_text(encoding="utf-8")).get("fingerprint")
        except (OSError, json.JSONDecodeError, AttributeError):
            cached = None
        if cached == fingerprint:
            log.info("reusing the index of %d paragraphs at %s", len(squad.paragraphs), index_dir)
            return None
    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    build_index_from_chunks(
        squad.documents(), squad.chunks(), dataclasses.replace(config, index_dir=index_dir)
    )
    marker.write_text(
        json.dumps(
            {"fingerprint": fingerprint, "source": str(squad.source), "paragraphs": len(squad.paragraphs)}
        ),
        encoding="utf-8",
    )
    return time.perf_counter() - started


def corpus_index(paths: Sequence[Path], config: Config, index_dir: Path, *, progress: bool) -> float:
    """Ingest report files into the index at `index_dir`, keeping exactly those files."""
    started = time.perf_counter()
    report = ingest(
        list(paths), dataclasses.replace(config, index_dir=index_dir), prune=True, progress=progress
    )
    log.info("%s", report)
    return time.perf_counter() - started


# -- one complete run ----------------------------------------------------------------------------
def run_eval(
    set_path: Path,
    config: Config,
    *,
    out_dir: Path,
    options: EvalOptions,
    index_dir: Path | None = None,
    corpus: Sequence[Path] = (),
    rebuild: bool = False,
    floors: str | None = None,
    floors_file: Path = DEFAULT_FLOORS,
    plots: bool = True,
) -> EvalRun:
    """Prepare the index, evaluate, check floors (when named) and write the report into `out_dir`.

    Index choice: an explicit `index_dir` is used as it is; otherwise a SQuAD set is indexed into
    out_dir/index (reused while it holds the same paragraphs) and a JSONL set is evaluated on the
    files in `corpus` ingested into out_dir/index, or, without `corpus`, on the configured index.
    """
    if not set_path.is_file():
        raise QuestionSetError(f"{set_path}: no such question set")
    index_seconds: float | None = None
    if is_squad_json(set_path):
        # SQuAD sets split by article: "check" is the half the confidence model never trained on.
        part = {"all": "all", "tune": "train", "check": "check"}[options.split]
        squad = load_squad(set_path, limit=options.limit, max_paragraphs=options.paragraphs, part=part)
        questions, kind = squad.questions, "squad"
        if index_dir is None:
            index_dir = out_dir / "index"
            index_seconds = squad_index(squad, config, index_dir, rebuild=rebuild)
    else:
        part = select_split(load_questions(set_path), options.split, set_name=set_path.name)
        questions, kind = evenly_spaced(part, options.limit), "jsonl"
        if corpus:
            index_dir = index_dir or out_dir / "index"
            index_seconds = corpus_index(corpus, config, index_dir, progress=options.progress)
        elif index_dir is None:
            index_dir = config.index_dir

    pipe = Pipeline.open(dataclasses.replace(config, index_dir=index_dir))
    try:
        run = evaluate(
            pipe,
            questions,
            options,
            set_name=set_path.stem,
            set_path=str(set_path),
            set_kind=kind,
            index_dir=index_dir,
            index_seconds=index_seconds,
            verbatim=kind == "jsonl",
        )
    finally:
        pipe.close()
    if floors is not None:
        run.floors_checked = floors
        run.floor_failures = check_floors(run, load_floors(floors, floors_file))
    write_report(run, out_dir, plots=plots)
    return run


# -- command line --------------------------------------------------------------------------------
def _int_list(value: str) -> tuple[int, ...]:
    try:
        items = tuple(sorted({int(v) for v in value.split(",") if v.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {value!r}") from None
    if not items or min(items) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {value!r}")
    return items


def _mode_list(value: str) -> tuple[Mode, ...]:
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [v for v in items if v not in MODES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown mode {unknown[0]!r}; choose from {', '.join(MODES)}")
    return tuple(m for m in MODES if m in items)


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The `qa eval` flags, except --index/--config/--model/-q/-v which every `qa` command shares."""
    parser.add_argument(
        "set", type=Path, metavar="SET", help="question set: JSONL, or SQuAD-style JSON (DRCD)"
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="report files/folders to ingest into a fresh index under --out (repeatable; JSONL sets)",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: eval-results/<set name>)"
    )
    parser.add_argument(
        "--modes", type=_mode_list, default=MODES, help="retrieval modes (default: all three)"
    )
    parser.add_argument(
        "--answer-modes",
        type=_mode_list,
        default=("hybrid",),
        help="modes in which questions are also answered with `ask` (default: hybrid)",
    )
    parser.add_argument(
        "--k", type=_int_list, default=DEFAULT_KS, help="cut-offs for Recall@k (default 1,5,10,20)"
    )
    parser.add_argument(
        "--split",
        choices=("tune", "check", "all"),
        default="all",
        help="evaluate one part of a split set: tune, check, or all of it (default all)",
    )
    parser.add_argument(
        "--limit", type=int, metavar="N", help="a fixed slice of N questions spread over the set"
    )
    parser.add_argument(
        "--answer-limit",
        type=int,
        metavar="N",
        help="answer only a fixed slice of N of the questions (retrieval still runs on all)",
    )
    parser.add_argument(
        "--paragraphs",
        type=int,
        metavar="M",
        help="SQuAD sets: index only the gold paragraphs of the questions plus distractors up to M",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="SQuAD sets: rebuild the cached paragraph index"
    )
    parser.add_argument(
        "--calibrate", action="store_true", help="print the abstention trade-off and a suggested threshold"
    )
    parser.add_argument(
        "--floors", metavar="NAME", help="fail (exit 1) below the floors of NAME in floors.toml"
    )
    parser.add_argument(
        "--floors-file", type=Path, default=DEFAULT_FLOORS, metavar="FILE", help=argparse.SUPPRESS
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG charts")


def _print_summary(run: EvalRun, out_dir: Path) -> None:
    ks = run.info.ks
    label = split_label(run)
    part = f" ({label})" if label else ""
    print(f"{run.info.set_name}{part}: {run.info.n_questions} questions, {run.info.n_passages} passages")
    print("mode    " + "".join(f"{'R@' + str(k):>8}" for k in ks) + f"{'MRR@10':>8}{'nDCG@10':>9}{'hit':>7}")
    for m in run.modes:
        r = m.retrieval
        hit = m.answers.answer_hit if m.answers else None
        print(
            f"{m.mode:<8}"
            + "".join(f"{r.recall[k]:>8.3f}" for k in ks)
            + f"{r.mrr_at_10:>8.3f}{r.ndcg_at_10:>9.3f}"
            + (f"{hit:>7.3f}" if hit is not None else f"{'–':>7}")
        )
    print(f"report: {out_dir / 'report.md'}")


def run_eval_command(args: argparse.Namespace, config: Config) -> int:
    """Entry point of `qa eval`; returns the exit code (1 when a floor is not met)."""
    out_dir: Path = args.out or Path("eval-results") / args.set.stem
    options = EvalOptions(
        modes=args.modes,
        answer_modes=args.answer_modes,
        ks=args.k,
        split=args.split,
        limit=args.limit,
        answer_limit=args.answer_limit,
        paragraphs=args.paragraphs,
        progress=not getattr(args, "quiet", False),
    )
    index = getattr(args, "index", None)
    try:
        run = run_eval(
            args.set,
            config,
            out_dir=out_dir,
            options=options,
            index_dir=Path(index).expanduser() if index else None,
            corpus=args.corpus,
            rebuild=args.rebuild,
            floors=args.floors,
            floors_file=args.floors_file,
            plots=not args.no_plots,
        )
    except (QuestionSetError, FloorsError) as exc:
        raise QAError(str(exc)) from None
    _print_summary(run, out_dir)
    if args.calibrate:
        for m in run.modes:
            if m.calibration is not None:
                print(f"\n[{m.mode}] " + format_table(m.calibration))
                if m.calibration.suggested is not None:
                    t = m.calibration.suggested.threshold
                    print(f"set it with [answer] abstain_below = {t:.4f} or QA_ANSWER__ABSTAIN_BELOW={t:.4f}")
    for problem in run.verbatim_problems:
        log.warning("%s", problem)
    if run.floors_checked is not None:
        for failure in run.floor_failures:
            print(f"FLOOR {failure}")
        print(f"floors {run.floors_checked}: " + ("FAILED" if run.floor_failures else "all met"))
        return 1 if run.floor_failures else 0
    return 0
