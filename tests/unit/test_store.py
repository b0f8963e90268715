"""The plans' store: read only from a private directory and files of the user's own, and
kept small (golaunch.launch.store). What is in a plan is golaunch.launch.plan's business."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from golaunch.launch import store


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    path = tmp_path / "golaunch"
    assert store.private_directory(str(path), create=True)
    return path


def written(directory: Path, name: str, data: bytes = b"plan") -> Path:
    path = directory / f"{name}{store.SUFFIX}"
    store.write_file(str(path), data)
    return path


def test_a_written_file_is_read_back_private(directory: Path) -> None:
    path = written(directory, "a")
    assert store.read_file(str(path)) == b"plan"
    assert directory.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600


def symlinked(path: Path) -> None:
    os.replace(path, path.with_name("elsewhere"))
    path.symlink_to(path.with_name("elsewhere"))


def fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path, 0o600)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.chmod(0o644),
        lambda p: os.chown(p, 65534, 65534),
        symlinked,
        lambda p: p.write_bytes(b"x" * (store.MAX_FILE_BYTES + 1)),
        fifo,
    ],
    ids=["readable-by-others", "another-owner", "symlink", "too-large", "fifo"],
)
def test_anything_but_a_small_private_file_is_not_read(
    directory: Path, change: Callable[[Path], object]
) -> None:
    path = written(directory, "a")
    change(path)
    assert store.read_file(str(path)) is None


@pytest.mark.parametrize(
    "change",
    [lambda d: d.chmod(0o777), lambda d: os.chown(d, 65534, 65534)],
    ids=["writable-by-others", "another-owner"],
)
def test_a_directory_others_can_write_is_not_ours(
    directory: Path, change: Callable[[Path], object]
) -> None:
    change(directory)
    assert not store.private_directory(str(directory), create=False)


def test_the_store_keeps_at_most_the_plans_used_last(directory: Path) -> None:
    day_ago = time.time() - 24 * 3600
    files = []
    for n in range(store.MAX_FILES + 6):  # plan n last used n minutes after the first
        files.append(written(directory, f"p{n:03}"))
        os.utime(files[-1], (day_ago + 60 * n,) * 2)
    written(directory, "last")
    remaining = sorted(directory.glob(f"p*{store.SUFFIX}"))
    assert remaining == sorted(files[-(store.MAX_FILES - 1) :])


def test_plans_unused_for_thirty_days_go_and_so_do_former_entries(directory: Path) -> None:
    old, fresh = written(directory, "old"), written(directory, "fresh")
    former = directory / "0123.entry"  # a validated configuration, as 0.1.0 kept them
    former.write_bytes(b"\xfb")
    month = store.MAX_AGE_SECONDS + 60
    os.utime(old, (old.stat().st_mtime - month,) * 2)
    written(directory, "new")  # every write prunes
    assert not old.exists() and fresh.exists() and not former.exists()


def test_a_read_counts_as_use(directory: Path) -> None:
    path = written(directory, "a")
    os.utime(path, (0, 0))
    assert store.read_file(str(path)) is not None
    assert path.stat().st_mtime > 0
