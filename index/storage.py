"""On-disk layout of an index directory and its atomic publication.

An index directory holds numbered generations and a pointer file:

    INDEX_DIR/
      CURRENT          names the live generation ("gen-000004"); replaced with os.replace
      gen-000004/      manifest.json, dense.faiss, vectors.npy, lexical/, chunks.sqlite
      gen-000003/      the previous generation, kept until the next write succeeds
      .write.lock      held by the single writer

A writer builds the next generation in a hidden temporary folder, fsyncs it, renames it into place
and only then swaps CURRENT. A run killed at any point therefore leaves CURRENT pointing at a
complete generation, and readers never see a half-written one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from index.errors import IndexBusyError, IndexCorruptError, IndexMissingError

log = logging.getLogger(__name__)

POINTER = "CURRENT"
LOCK = ".write.lock"
GEN_PREFIX = "gen-"
TMP_PREFIX = ".tmp-"


def current_generation(index_dir: Path) -> Path:
    """The live generation folder; raises a user-facing error when there is none."""
    pointer = index_dir / POINTER
    if not pointer.is_file():
        if index_dir.is_dir() and any(index_dir.iterdir()):
            raise IndexCorruptError(index_dir, "it is not a ReportQA index: CURRENT is missing")
        raise IndexMissingError(index_dir)
    name = pointer.read_text(encoding="utf-8").strip()
    gen = index_dir / name
    if not name.startswith(GEN_PREFIX) or "/" in name or not gen.is_dir():
        raise IndexCorruptError(index_dir, f"CURRENT names {name!r}, which does not exist")
    return gen


def has_index(index_dir: Path) -> bool:
    return (index_dir / POINTER).is_file()


@contextlib.contextmanager
def write_lock(index_dir: Path, timeout: float = 0.0) -> Iterator[None]:
    """Exclusive writer lock; a second writer waits `timeout` seconds, then fails clearly."""
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / LOCK))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise IndexBusyError(index_dir, timeout) from None
    try:
        yield
    finally:
        lock.release()


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _next_name(index_dir: Path) -> str:
    numbers = [
        int(p.name[len(GEN_PREFIX) :])
        for p in index_dir.glob(f"{GEN_PREFIX}*")
        if p.name[len(GEN_PREFIX) :].isdigit()
    ]
    return f"{GEN_PREFIX}{max(numbers, default=0) + 1:06d}"


@contextlib.contextmanager
def new_generation(index_dir: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on normal exit publish it as the live generation.

    Must be used under `write_lock`. If the body raises, the staging folder is removed and the
    previous generation stays live.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    cleanup_stale(index_dir)
    staging = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=index_dir))
    try:
        yield staging
        _fsync_tree(staging)
        final = index_dir / _next_name(index_dir)
        staging.rename(final)
        tmp_pointer = index_dir / f"{TMP_PREFIX}{POINTER}"
        tmp_pointer.write_text(final.name + "\n", encoding="utf-8")
        with open(tmp_pointer, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_pointer, index_dir / POINTER)
        _fsync_dir(index_dir)
        log.info("published %s", final.name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _drop_old_generations(index_dir, keep=2)


def cleanup_stale(index_dir: Path) -> None:
    """Remove staging folders left by a writer that was killed (we hold the lock)."""
    for path in index_dir.glob(f"{TMP_PREFIX}*"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _drop_old_generations(index_dir: Path, keep: int) -> None:
    live = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    gens = sorted(p for p in index_dir.glob(f"{GEN_PREFIX}*") if p.is_dir())
    # Keep the live one and the one before it: a reader that opened the previous generation a
    # moment ago can still finish loading it.
    old = [g for g in gens if g.name != live][: max(0, len(gens) - keep)]
    for gen in old:
        shutil.rmtree(gen, ignore_errors=True)
