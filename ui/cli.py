"""`qa serve`: start the web app on the configured index."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
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
    from ui.app import serve

    serve(config, host=args.host, port=args.port, auth=read_login(args.auth))
    return 0


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
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
    common(p)
    p.set_defaults(func=run)
