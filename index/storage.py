"""On-disk layout of an index directory and its atomic publication.

An index directory holds numbered generations and a pointer file:

    INDEX_DIR/
      CURRENT          names the live generation ("gen-000004"); replaced with os.replace
      gen-000004/      manifest.json, dense.faiss, vectors.npy, lexical/, chunks.sqlite, .readers.lock
      gen-000003/      the previous generation, kept until the next write succeeds
      .write.lock      held by the single writer

A writer builds the next generation in a hidden temporary folder, fsyncs it, renames it into place
and only then swaps CURRENT. A run killed at any point therefore leaves CURRENT pointing at a
complete generation, and readers never see a half-written one.

Every reader holds a shared flock on its generation's `.readers.lock` for as long as it has the
generation open. A writer deletes an old generation only when it can take that lock exclusively;
a generation still in use stays on disk and is deleted by a later write.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
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
READERS_LOCK = ".readers.lock"


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


class ReaderLock:
    """A shared flock on one generation: while it is held, no writer deletes that generation."""

    def __init__(self, folder: Path, fd: int | None) -> None:
        self.folder = folder
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock


def _open_lock_file(path: Path) -> int | None:
    """A descriptor on a generation's lock file; None when the folder cannot take one (read-only)."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except FileNotFoundError:
        raise  # the generation folder itself is gone
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
    try:
        return os.open(path, os.O_RDONLY)  # flock works on a read-only descriptor too
    except FileNotFoundError:
        return None  # read-only and never locked: no writer can delete anything here either


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def lock_for_reading(folder: Path) -> ReaderLock | None:
    """Hold generation `folder` open for reading; None when a writer deleted it meanwhile.

    A writer renames a generation away before deleting it, so once the shared lock is granted, the
    lock file still being at its path proves the generation is intact and will stay so.
    """
    path = folder / READERS_LOCK
    try:
        fd = _open_lock_file(path)
    except FileNotFoundError:
        return None
    if fd is None:
        return ReaderLock(folder, None) if folder.is_dir() else None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a writer is deleting this very generation
        if _same_file(fd, path):
            return ReaderLock(folder, fd)
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return None


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
        (staging / READERS_LOCK).touch()
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
    # Keep the live one and the one before it (this very ingest still has the previous one open for
    # the reports it carried over); older ones go unless a reader still has them open.
    old = [g for g in gens if g.name != live][: max(0, len(gens) - keep)]
    for gen in old:
        try:
            deleted = _delete_unless_read(gen)
        except OSError as exc:  # the new generation is published; a leftover only costs disk space
            log.warning("could not delete the old generation %s: %s", gen, exc)
            continue
        if not deleted:
            log.info("kept %s: a reader still has it open; a later write deletes it", gen.name)


def _delete_unless_read(gen: Path) -> bool:
    """Delete an old generation if no reader holds it; False (and nothing deleted) if one does."""
    try:
        fd = os.open(gen / READERS_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except FileNotFoundError:
        return True  # already gone
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        # Rename first, under the lock: a reader that opens the lock file from now on finds no
        # generation at this path, and one that opened it earlier sees it moved once granted.
        trash = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}old-", dir=gen.parent))
        gen.rename(trash / gen.name)
    finally:
        os.close(fd)
    shutil.rmtree(trash, ignore_errors=True)
    return True
