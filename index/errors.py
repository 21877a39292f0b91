"""Errors the index layer raises; each message tells the user what to do next."""

from __future__ import annotations

from pathlib import Path


class IndexError_(Exception):
    """Base class of index errors."""


class IndexMissingError(IndexError_):
    def __init__(self, path: Path) -> None:
        super().__init__(f"No index at {path}. Build one with: qa ingest PATH... --index {path}")


class IndexCorruptError(IndexError_):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"The index at {path} cannot be read ({reason}). "
            f"Rebuild it with: qa ingest PATH... --index {path} --rebuild"
        )


class IndexBusyError(IndexError_):
    def __init__(self, path: Path, waited: float) -> None:
        super().__init__(
            f"Another process is writing the index at {path} (waited {waited:.0f} s). "
            "Try again when it has finished, or let qa ingest wait longer with --lock-timeout SECONDS "
            "(setting [index] lock_timeout_s)."
        )


class IndexWriteError(IndexError_):
    """The disk is full, the folder read-only, or writing is not permitted; nothing was published."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"Could not write the index at {path} ({reason}); the index is as it was before this run. "
            "Free some space or fix the folder's permissions, then run qa ingest again."
        )
