"""Skips that must not hide missing pieces in CI: under CI=true a missing prerequisite fails the test."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> None:
    """Skip with the reason on a developer's machine; fail under CI, whose set-up must provide it."""
    if IN_CI:
        pytest.fail(f"required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require_module(name: str, reason: str = "") -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        skip_or_fail(reason or f"{name} is not installed ({exc})")
        raise  # unreachable: skip_or_fail raises
