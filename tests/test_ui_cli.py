"""`qa serve --auth USER`: the password never travels on the command line."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from qa.cli import main
from qa.errors import QAError
from ui.cli import PASSWORD_ENV, read_login

REPO = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    return {**env, **extra}


def test_user_colon_password_is_refused_with_the_reason(tmp_path: Path, capsys) -> None:
    code = main(["serve", "--auth", "staff:s3cret", "--index", str(tmp_path / "no-index")])
    err = capsys.readouterr().err
    assert code == 2
    assert "s3cret" not in err  # the refusal does not repeat the secret
    assert "visible to other users" in err and "QA_SERVE_PASSWORD" in err and "--auth staff" in err


def test_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("QA_SERVE_PASSWORD", "s3cret")
    assert read_login("staff") == ("staff", "s3cret")
    assert read_login(None) is None
    # Through the command: the login is accepted and serving stops only at the missing index.
    code = main(["serve", "--auth", "staff", "--index", str(tmp_path / "no-index")])
    err = capsys.readouterr().err
    assert code == 2 and "qa ingest" in err and "auth" not in err.lower()


def test_without_password_or_terminal_the_command_says_what_to_do(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "qa", "serve", "--auth", "staff", "--index", str(tmp_path / "no-index")],
        cwd=REPO,
        env=_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "QA_SERVE_PASSWORD" in proc.stderr and "Traceback" not in proc.stderr


def _read_until(fd: int, marker: bytes) -> bytes:
    """What the program wrote on the pseudo-terminal up to and including `marker` (b"" at its end)."""
    seen = b""
    while marker not in seen:
        ready, _, _ = select.select([fd], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # EIO: the program closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    return seen


def test_on_a_terminal_the_password_is_asked_for() -> None:
    controller, terminal = os.openpty()
    script = "from ui.cli import read_login; print(read_login('staff'))"
    with subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=_env(),
        stdin=terminal,
        stderr=terminal,
        stdout=subprocess.PIPE,
        start_new_session=True,  # no controlling terminal: getpass uses the pseudo-terminal on stdin
        text=True,
    ) as proc:
        os.close(terminal)
        # Answer only once asked: getpass flushes what was typed before it turned echo off.
        prompt = _read_until(controller, b"Password for staff: ")
        assert prompt.endswith(b"Password for staff: "), prompt
        os.write(controller, b"s3cret\n")
        out, _ = proc.communicate(timeout=300)
        shown = _read_until(controller, b"never printed")
    os.close(controller)
    assert proc.returncode == 0, shown
    assert out.strip() == "('staff', 's3cret')"
    assert b"s3cret" not in shown  # not echoed


def test_an_empty_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_SERVE_PASSWORD", "")
    with open(os.devnull, encoding="utf-8") as null:
        monkeypatch.setattr(sys, "stdin", null)  # not a terminal: nothing to prompt on
        with pytest.raises(QAError, match="QA_SERVE_PASSWORD"):
            read_login("staff")
