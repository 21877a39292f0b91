"""`qa serve` (the web app) and `qa feedback` (the answers users rated in it)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qa.config import Config
from qa.errors import QAError

PASSWORD_ENV = "QA_SERVE_PASSWORD"


def read_login(user: str | None) -> tuple[str, str] | None:
    """The login for `--auth USER`: the password from QA_SERVE_PASSWORD, else a prompt on a terminal.

    A password on the command line is visible to every user of the machine (ps, /proc) and stays in
    shell history, so `USER:PASS` is refused rather than accepted.
    """
    if user is None:
        return None
    if ":" in user:
        name = user.partition(":")[0] or "USER"
        raise QAError(
            "--auth takes only the user name: a password on the command line is visible to other users "
            f"(ps) and kept in shell history. Use --auth {name} and set {PASSWORD_ENV}, or type the "
            "password when asked."
        )
    if not user.strip():
        raise QAError("--auth needs a user name.")
    password = os.environ.get(PASSWORD_ENV, "")
    if not password and sys.stdin is not None and sys.stdin.isatty():
        password = getpass.getpass(f"Password for {user}: ")
    if not password:
        raise QAError(
            f"--auth {user} needs a password: set {PASSWORD_ENV}, or run qa serve on a terminal to be asked."
        )
    return user, password


def run(args: argparse.Namespace, config: Config) -> int:
    from ui.app import UISettings, serve

    settings = UISettings(allow_upload=args.allow_upload, max_upload_mb=args.max_upload_mb)
    serve(config, host=args.host, port=args.port, auth=read_login(args.auth), settings=settings)
    return 0


def run_feedback(args: argparse.Namespace, config: Config) -> int:
    """Print or write the stored 👍/👎 judgements: JSON lines, or CSV for a .csv target."""
    from ui.feedback import FeedbackStore, feedback_csv, feedback_json

    store = FeedbackStore(config.index_dir)
    items = store.all()
    target: str | None = args.export
    suffix_csv = bool(target) and str(target).lower().endswith(".csv")
    as_csv = args.format == "csv" or (args.format is None and suffix_csv)
    text = feedback_csv(items) if as_csv else feedback_json(items)
    if target in (None, "-"):
        sys.stdout.write(text)
    else:
        path = Path(target)
        try:
            # utf-8-sig for CSV so spreadsheet programs read the Chinese text.
            path.write_text(text, encoding="utf-8-sig" if as_csv else "utf-8", newline="")
        except OSError as exc:
            raise QAError(f"{path}: cannot write the feedback export ({exc.strerror or exc}).") from exc
        up = sum(1 for f in items if f.rating == "up")
        print(f"{len(items)} judgements ({up} 👍, {len(items) - up} 👎) written to {path}", file=sys.stderr)
    return 0


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    register_feedback(sub, common)
    p = sub.add_parser("serve", help="start the web app (chat, search, documents)")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=7860)
    p.add_argument(
        "--auth",
        metavar="USER",
        help=f"require a login as USER; the password comes from ${PASSWORD_ENV} or is asked for",
    )
    p.add_argument(
        "--allow-upload",
        action="store_true",
        help="let users add PDF/TXT/MD reports from the Documents view (behind the login with --auth)",
    )
    p.add_argument(
        "--max-upload-mb", type=float, default=50.0, metavar="MB", help="largest upload (default 50)"
    )
    common(p)
    p.set_defaults(func=run)


def register_feedback(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("feedback", help="the 👍/👎 judgements users gave answers in the web app")
    p.add_argument(
        "--export",
        metavar="FILE",
        nargs="?",
        const="-",
        help="write them to FILE (.csv for a spreadsheet, else JSON lines); without FILE, to stdout",
    )
    p.add_argument("--format", choices=("jsonl", "csv"), help="output format (default: from FILE's suffix)")
    common(p)
    p.set_defaults(func=run_feedback)
