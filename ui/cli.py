"""`qa serve`: start the web app on the configured index."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from qa.config import Config
from qa.errors import QAError


def _auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise QAError("--auth takes USER:PASS")
    return user, password


def run(args: argparse.Namespace, config: Config) -> int:
    from ui.app import serve

    serve(config, host=args.host, port=args.port, auth=_auth(args.auth))
    return 0


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("serve", help="start the web app (chat, search, documents)")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", metavar="USER:PASS", help="require this login")
    common(p)
    p.set_defaults(func=run)
