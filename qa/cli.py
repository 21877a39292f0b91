"""The `qa` command: ingest, search, ask, info; `serve` and `eval` come from the ui and evaluation packages.

Upper layers add their sub-commands through the `reportqa.commands` entry-point group, so this
module never imports them.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from corpus.ocr import OCR_MODES
from index.types import Hit, SearchFilter
from qa.config import Config
from qa.errors import QAError
from qa.query import clean_question, cut_note
from qa.retrieval import MAX_K, MODES, highlight
from qa.types import Answer

log = logging.getLogger("qa")

Command = Callable[[argparse.Namespace, Config], int]


# -- JSON shapes ---------------------------------------------------------------------------------
def hit_to_dict(hit: Hit) -> dict[str, Any]:
    c = hit.chunk
    return {
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "dense_score": None if hit.dense_score is None else round(hit.dense_score, 6),
        "lexical_score": None if hit.lexical_score is None else round(hit.lexical_score, 6),
        "chunk_id": c.chunk_id,
        "doc_id": c.doc_id,
        "title": c.title,
        "file_name": c.file_name,
        "address": c.address,
        "page_start": c.page_start,
        "page_end": c.page_end,
        "page_label": c.page_label,
        "ocr": c.ocr,
        "line_start": c.line_start,
        "line_end": c.line_end,
        "section_path": list(c.section_path),
        "char_start": c.char_start,
        "char_end": c.char_end,
        "kind": c.kind,
        "text": c.text,
        "matched_terms": list(hit.matched_terms),
    }


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "confidence": round(answer.confidence, 4),
        "figure": answer.figure,
        "language": answer.language,
        "mode": answer.mode,
        "citations": [
            {
                "number": c.number,
                "title": c.title,
                "file_name": c.file_name,
                "address": c.address,
                "page_start": c.page_start,
                "page_end": c.page_end,
                "line_start": c.line_start,
                "line_end": c.line_end,
                "section_path": list(c.section_path),
                "quote": c.quote,
                "quote_start": c.quote_start,
                "quote_end": c.quote_end,
                "chunk_id": c.chunk_id,
                "doc_id": c.doc_id,
            }
            for c in answer.citations
        ],
        "related": [hit_to_dict(h) for h in answer.related],
        "conditions": [
            {
                "text": r.text,
                "kind": r.kind,
                "status": r.status,
                "evidence": r.evidence,
                "where": r.where,
                "blocking": r.blocking,
            }
            for r in answer.conditions
        ],
        "latency_ms": round(answer.latency_ms, 1),
    }


# -- text rendering ------------------------------------------------------------------------------
def _marked(text: str, terms: Sequence[str], tty: bool) -> str:
    on, off = ("\033[1;33m", "\033[0m") if tty else ("**", "**")
    return "".join(f"{on}{seg}{off}" if hit else seg for seg, hit in highlight(text, terms))


def _snippet(text: str, limit: int = 400) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def format_hit(hit: Hit, tty: bool = False) -> str:
    c = hit.chunk
    section = " > ".join(c.section_path) or "-"
    head = f"[{hit.rank}] {hit.score:.3f}  {c.title} | {c.address} | {section}"
    return f"{head}\n    {_marked(_snippet(c.text), hit.matched_terms, tty)}"


def format_answer(answer: Answer, tty: bool = False) -> str:
    lines = [answer.text, ""]
    for c in answer.citations:
        section = " > ".join(c.section_path) or "-"
        lines.append(f"[{c.number}] {c.title}, {c.address}, {section}")
        lines.append(f"    「{_snippet(c.quote, 300)}」")
    if answer.related and answer.abstained:
        lines.append("Closest passages:")
        lines += [format_hit(h, tty) for h in answer.related[:3]]
    state = "abstained" if answer.abstained else "answered"
    lines.append(f"({state}; confidence {answer.confidence:.2f}; {answer.latency_ms:.0f} ms)")
    return "\n".join(lines)


# -- commands ------------------------------------------------------------------------------------
def _filter(args: argparse.Namespace, pipe: Any) -> SearchFilter | None:
    names = [n for n in (getattr(args, "doc", None) or []) if n]
    doc_ids: list[str] = []
    if names:
        docs = pipe.documents()
        for name in names:
            match = [
                d.doc_id for d in docs if name in (d.doc_id, d.file_name, d.title) or name in d.file_name
            ]
            if not match:
                known = "; ".join(d.file_name for d in docs)
                raise QAError(f"No indexed report matches {name!r}. Indexed: {known}")
            doc_ids += match
    flt = SearchFilter(
        doc_ids=tuple(dict.fromkeys(doc_ids)),
        page_min=getattr(args, "page_min", None),
        page_max=getattr(args, "page_max", None),
        section_contains=getattr(args, "section", None),
        scripts=tuple(getattr(args, "script", None) or ()),
    )
    return None if flt.is_empty() else flt


def cmd_ingest(args: argparse.Namespace, config: Config) -> int:
    from qa.pipeline import ingest

    report = ingest(args.paths, config, prune=args.prune, rebuild=args.rebuild, progress=not args.quiet)
    print(report)
    return 0 if report.wrote or report.unchanged or not report.skipped else 1


def cmd_search(args: argparse.Namespace, config: Config) -> int:
    from qa.pipeline import Pipeline

    clean_question(args.query)  # a bad question fails before the model loads
    _note_cut(args.query)
    pipe = Pipeline.open(config)
    hits = pipe.search(args.query, k=args.k, filter=_filter(args, pipe), mode=args.mode)
    if args.json:
        print(json.dumps({"query": args.query, "hits": [hit_to_dict(h) for h in hits]}, ensure_ascii=False))
    elif not hits:
        print("No passages found.")
    else:
        tty = sys.stdout.isatty()
        print("\n\n".join(format_hit(h, tty) for h in hits))
    return 0


def _questions(args: argparse.Namespace) -> Iterable[str]:
    if args.file is None:
        yield args.question
        return
    stream = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8-sig")  # noqa: SIM115
    with stream:
        for line in stream:
            if line.strip():
                yield line.rstrip("\n")


def _note_cut(question: str) -> None:
    """A question cut to the limit is said so on stderr, so a pasted page is not silently shortened."""
    note = cut_note(question)
    if note is not None:
        print(note, file=sys.stderr)


def cmd_ask(args: argparse.Namespace, config: Config) -> int:
    from qa.pipeline import Pipeline

    if (args.question is None) == (args.file is None):
        raise QAError("Give a question, or --file FILE (use - for standard input), not both.")
    if args.file not in (None, "-") and not Path(args.file).is_file():
        raise QAError(f"No such question file: {args.file}")
    pipe = Pipeline.open(config)
    flt = _filter(args, pipe)
    tty = sys.stdout.isatty()
    for question in _questions(args):
        _note_cut(question)
        try:
            answer = pipe.ask(question, filter=flt, mode=args.mode)
        except QAError as exc:
            if args.json:
                print(json.dumps({"question": question, "error": str(exc)}, ensure_ascii=False))
            else:
                print(f"{question}\n  error: {exc}")
            continue
        if args.json:
            print(json.dumps(answer_to_dict(answer), ensure_ascii=False), flush=True)
        else:
            if args.file is not None:
                print(f"Q: {question}")
            print(format_answer(answer, tty), end="\n\n" if args.file is not None else "\n", flush=True)
    return 0


def cmd_info(args: argparse.Namespace, config: Config) -> int:
    from qa.pipeline import Pipeline

    pipe = Pipeline.open(config)
    docs = pipe.documents()
    manifest = pipe.index.manifest
    if args.json:
        payload = {
            "index_dir": str(config.index_dir),
            "model": vars(manifest.model),
            "chunks": manifest.chunk_count,
            "documents": [vars(d) for d in docs],
            "glossary": manifest.glossary,
        }
        print(json.dumps(payload, ensure_ascii=False, default=str))
        return 0
    print(f"index: {config.index_dir}")
    print(f"model: {manifest.model.name} ({manifest.model.dim} dims, {manifest.model.fingerprint[:12]})")
    print(f"{len(docs)} reports, {manifest.chunk_count} chunks")
    for d in docs:
        size = f"{d.pages} pages" if d.pages else f"{d.lines} lines"
        print(f"  {d.title} | {d.file_name} | {size}, {d.chunks} chunks | indexed {d.indexed_at}")
    for line in manifest.glossary_lines():
        print(line)
    return 0


# -- parser --------------------------------------------------------------------------------------
def _passage_count(text: str) -> int:
    """argparse type of -k: a whole number from 1 to MAX_K."""
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= k <= MAX_K:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_K}, got {k}")
    return k


def _seconds(text: str) -> float:
    """argparse type of --lock-timeout: zero or more seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more seconds, got {text}")
    return value


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--index", metavar="DIR", help="index folder (default: qa.toml, QA_INDEX, or per-user data)"
    )
    p.add_argument("--config", metavar="FILE", help="TOML settings file (default: ./qa.toml or QA_CONFIG)")
    p.add_argument(
        "--model", help="embedding model: 'default', a local sentence-transformers folder or hub id"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--doc", action="append", metavar="NAME", help="only this report (file name or title; repeatable)"
    )
    p.add_argument("--page-min", type=int, metavar="N", help="only passages on or after page N")
    p.add_argument("--page-max", type=int, metavar="N", help="only passages on or before page N")
    p.add_argument("--section", metavar="TEXT", help="only passages whose section path contains TEXT")
    p.add_argument(
        "--script",
        action="append",
        choices=("en", "zh-Hant", "zh-Hans", "mixed"),
        help="only passages written in this script (repeatable)",
    )
    p.add_argument("--mode", choices=MODES, default="hybrid", help="retrieval mode (default: hybrid)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


BUILT_IN = ("ingest", "search", "ask", "info")


def build_parser(*, plugins: bool = True) -> argparse.ArgumentParser:
    """The `qa` parser; ``plugins=False`` leaves out the entry-point commands (a built-in command
    runs without importing them: `eval` alone pulls in the plotting stack, about a second)."""
    parser = argparse.ArgumentParser(
        prog="qa", description="Question answering with exact citations over Chinese and English reports."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="add or update reports (PDF, text, Markdown) in the index")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    p.add_argument("--prune", action="store_true", help="remove indexed reports whose files are gone")
    p.add_argument("--rebuild", action="store_true", help="ignore the existing index and build anew")
    p.add_argument(
        "--lock-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="wait this long for another writer to finish (default: [index] lock_timeout_s, 0)",
    )
    p.add_argument(
        "--ocr",
        choices=OCR_MODES,
        help="read pages by OCR: auto = pages without a text layer, always, never (default: [reading] ocr)",
    )
    _common(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="ranked passages with their page and section")
    p.add_argument("query")
    p.add_argument(
        "-k", type=_passage_count, default=10, help=f"number of passages, 1 to {MAX_K} (default 10)"
    )
    _filters(p)
    _common(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="a short answer with verified citations")
    p.add_argument("question", nargs="?")
    p.add_argument("--file", metavar="FILE", help="one question per line; - reads standard input")
    _filters(p)
    _common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("info", help="what the index holds")
    p.add_argument("--json", action="store_true")
    _common(p)
    p.set_defaults(func=cmd_info)

    unavailable: dict[str, str] = {}
    for ep in entry_points(group="reportqa.commands") if plugins else ():
        try:
            ep.load()(sub, _common)
        except Exception as exc:  # a broken optional command must not take the others down
            log.info("command %s failed to load", ep.name, exc_info=True)
            unavailable[ep.name] = f"{type(exc).__name__}: {exc}"
            _add_unavailable(sub, ep.name, unavailable[ep.name])
    parser.set_defaults(unavailable_commands=unavailable)
    return parser


def _add_unavailable(sub: Any, name: str, reason: str) -> None:
    """Keep a command that failed to load listed, so running it explains why instead of "invalid choice"."""
    if name in sub.choices:  # register() failed after adding its parser: replace that parser
        p = sub.choices[name] = argparse.ArgumentParser(prog=f"qa {name}", add_help=False)
    else:
        p = sub.add_parser(name, help=f"(unavailable: {reason})", add_help=False)
    p.set_defaults(func=None, unavailable=reason)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("jieba", "bm25s", "sentence_transformers", "transformers", "httpx", "faiss"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)
    # transformers draws a "Loading weights" bar on every model load; it is noise on a query. The
    # variables are read when transformers is imported, which a search or a question never does.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    if "transformers" in sys.modules:  # already imported (tests calling main() in process)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


def _command_word(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (its first word that is not an option), if any."""
    for word in argv:
        if word in ("-h", "--help"):
            return None  # the full help lists every command
        if not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(plugins=_command_word(args_list) not in BUILT_IN)
    args, extra = parser.parse_known_args(args_list)
    reason = getattr(args, "unavailable", None)
    if reason is not None:  # whatever it was given, the command cannot run
        print(f"qa: the {args.command!r} command could not be loaded ({reason})", file=sys.stderr)
        return 1
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _setup_logging(args.verbose)
    for name, why in args.unavailable_commands.items():
        log.warning("the %r command is unavailable (%s)", name, why)
    if getattr(args, "quiet", False):
        os.environ["TQDM_DISABLE"] = "1"
    try:
        overrides: dict[str, Any] = {"index_dir": args.index}
        if getattr(args, "model", None):
            overrides["embedding.model"] = args.model
        if getattr(args, "ocr", None):
            overrides["reading.ocr"] = args.ocr
        if getattr(args, "lock_timeout", None) is not None:
            overrides["index.lock_timeout_s"] = args.lock_timeout
        config = Config.load(args.config, **overrides)
        return int(args.func(args, config))
    except QAError as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one line, and the log has the rest
        log.info("unexpected error", exc_info=True)
        print(f"qa: unexpected error: {type(exc).__name__}: {exc} (run with -v for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
