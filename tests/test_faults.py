"""Faults while writing the index: `qa ingest` killed at random moments, a full disk, a read-only folder.

The killed-writer trials are the short form of bench/bench_kill.py. A full disk is a small tmpfs
mounted for the test (the tests run as root); where mounting is not permitted, a file-size limit
(RLIMIT_FSIZE) on the ingest process stands in for it. A read-only folder is a read-only bind
mount of the index; where mounting is not permitted, the ingest runs as the unprivileged user
`nobody` (root writes through any file mode, so chmod alone would prove nothing).
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ci_guard import skip_or_fail
from conftest import REPO, load_script

from index.storage import POINTER, TMP_PREFIX
from qa.config import Config
from qa.pipeline import ingest

bench_kill = load_script(REPO / "bench" / "bench_kill.py", "bench_kill")

TRIALS = 4
SEED = 7
EXTRA = bench_kill.EXTRA_REPORT


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, default_embedder) -> object:
    """The fixture reports indexed once; trials and fault tests start from copies of that index."""
    return bench_kill.prepare(tmp_path_factory.mktemp("faults"))


def run_ingest(
    index_dir: Path, preexec: Callable[[], None] | None = None, user: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`qa ingest` of the extra report into `index_dir`, as a user runs it."""
    env = {**os.environ, "QA_CONFIG": "", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "qa", "ingest", str(EXTRA), "--index", str(index_dir), "-q"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
        preexec_fn=preexec,
        user=user,
        group="nogroup" if user else None,
    )


def assert_one_line_message(out: subprocess.CompletedProcess[str], reason: str | None) -> None:
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("qa: Could not write the index at "), lines[0]
    assert "the index is as it was before this run" in lines[0]
    if reason is not None:
        assert f"({reason})" in lines[0], lines[0]


def assert_unchanged(index_dir: Path, pointer: str, before: object) -> None:
    """CURRENT still names the previous generation, which answers, and no staging folder is left."""
    config = Config().updated({"index_dir": index_dir})
    assert (index_dir / POINTER).read_text(encoding="utf-8") == pointer
    assert bench_kill.answers(config) == ""
    assert bench_kill.state(config) == before
    assert not list(index_dir.glob(f"{TMP_PREFIX}*"))


def _mount(*args: str) -> bool:
    """Run mount(8); False where it is missing or not permitted (no root, no CAP_SYS_ADMIN)."""
    try:
        return subprocess.run(["mount", *args], capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


def _umount(target: Path) -> None:
    subprocess.run(["umount", str(target)], capture_output=True, timeout=30, check=True)


# -- killed writers -------------------------------------------------------------------------------


@pytest.mark.slow
def test_killed_ingest_never_leaves_an_unusable_index(workspace) -> None:
    trials = bench_kill.run_trials(workspace, bench_kill.plans(TRIALS, SEED))
    summary = bench_kill.report(trials)
    print(summary)
    assert not [t for t in trials if t.corrupted], summary
    assert all(t.recovered for t in trials), summary
    assert any(t.killed for t in trials), summary  # the signal really interrupted running writers


# -- a full disk ----------------------------------------------------------------------------------


@dataclass
class FullDisk:
    index_dir: Path
    method: str  # "tmpfs" or "rlimit"
    preexec: Callable[[], None] | None
    free: Callable[[], None]  # make room again


def _fill(folder: Path, leave: int) -> Path:
    """Fill the file system holding `folder`, then give back `leave` bytes."""
    filler = folder / "filler"
    block = b"\0" * (1 << 16)
    with open(filler, "wb") as fh:
        try:
            for _ in range(1 << 14):  # at most 1 GiB; the tmpfs is far smaller
                fh.write(block)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - leave))
    return filler


# (bytes left free on the tmpfs, file-size limit): nothing fits, or some of the stores fit.
@pytest.fixture(params=[(0, 8 * 1024), (96 * 1024, 32 * 1024)], ids=["no-room", "room-for-part"])
def full_disk(request: pytest.FixtureRequest, workspace, tmp_path: Path) -> Iterator[FullDisk]:
    """A copy of the index on a file system that is (nearly) full: a tmpfs, else RLIMIT_FSIZE."""
    leave, limit = request.param
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)):
        try:
            index_dir = mount_point / "index"
            shutil.copytree(workspace.base_index, index_dir)
            filler = _fill(mount_point, leave)
            yield FullDisk(index_dir, "tmpfs", None, filler.unlink)
        finally:
            _umount(mount_point)
        return

    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit raises, not kills
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # writes past it fail: EFBIG

    index_dir = mount_point / "index"
    shutil.copytree(workspace.base_index, index_dir)
    yield FullDisk(index_dir, "rlimit", preexec, lambda: None)


@pytest.mark.slow
def test_full_disk_is_one_clear_line_and_the_index_survives(full_disk: FullDisk, workspace) -> None:
    pointer = (full_disk.index_dir / POINTER).read_text(encoding="utf-8")
    before = bench_kill.state(Config().updated({"index_dir": workspace.base_index}))

    out = run_ingest(full_disk.index_dir, preexec=full_disk.preexec)
    # A real full disk is named as such; under the file-size limit SQLite reports a disk I/O error.
    assert_one_line_message(out, "No space left on device" if full_disk.method == "tmpfs" else None)
    assert_unchanged(full_disk.index_dir, pointer, before)

    full_disk.free()
    report = ingest([EXTRA], Config().updated({"index_dir": full_disk.index_dir}), progress=False)
    assert report.added == [EXTRA.name]


# -- a read-only index folder ---------------------------------------------------------------------


def _nobody_can_run_python() -> bool:
    try:
        probe = [sys.executable, "-c", "import qa"]
        return subprocess.run(probe, user="nobody", group="nogroup", cwd="/", timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.fixture
def read_only_index(workspace, tmp_path: Path) -> Iterator[tuple[Path, str | None, str]]:
    """(index folder that cannot be written, user to run the ingest as, expected reason)."""
    source = tmp_path / "index"
    shutil.copytree(workspace.base_index, source)
    view = tmp_path / "read-only-view"
    view.mkdir()
    if _mount("--bind", str(source), str(view)):
        try:
            if _mount("-o", "remount,ro,bind", str(view)):
                yield view, None, "Read-only file system"
                return
        finally:
            _umount(view)
    if os.geteuid() != 0 or not _nobody_can_run_python():
        skip_or_fail("cannot mount read-only here, and `nobody` cannot run this Python")
    # The unprivileged user needs to reach the folder, not to write it (tmp_path is root-only).
    shared = Path(tempfile.mkdtemp(prefix="qa-readonly-"))
    try:
        shared.chmod(0o755)
        index_dir = shared / "index"
        shutil.copytree(source, index_dir)
        yield index_dir, "nobody", "Permission denied"
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_read_only_index_folder_is_one_clear_line_and_still_answers(read_only_index, workspace) -> None:
    index_dir, user, reason = read_only_index
    pointer = (index_dir / POINTER).read_text(encoding="utf-8")
    before = bench_kill.state(Config().updated({"index_dir": workspace.base_index}))

    out = run_ingest(index_dir, user=user)
    assert_one_line_message(out, reason)
    # Readers need no write access: the index on the read-only folder still opens and answers.
    assert_unchanged(index_dir, pointer, before)
