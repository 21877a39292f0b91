"""The browser tests report a missing browser: a failure under CI, a skip with the reason elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs pytest in a subprocess twice

REPO = Path(__file__).resolve().parents[1]


def _run_browser_test(ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["QA_TEST_CHROMIUM"] = str(REPO / "no-such-chromium")
    if ci:
        env["CI"] = "true"
    command = [sys.executable, "-m", "pytest", "tests/test_ui_browser.py", "-m", "browser"]
    return subprocess.run(
        [*command, "-k", "empty_question", "-p", "no:cacheprovider", "-q", "-rs"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_missing_chromium_fails_the_browser_tests_under_ci() -> None:
    run = _run_browser_test(ci=True)
    assert run.returncode == 1, run.stdout
    assert "1 error" in run.stdout and "Chromium is not installed" in run.stdout


def test_missing_chromium_skips_the_browser_tests_elsewhere() -> None:
    run = _run_browser_test(ci=False)
    assert run.returncode == 0, run.stdout
    assert "1 skipped" in run.stdout and "Chromium is not installed" in run.stdout
