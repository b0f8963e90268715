"""Files golaunch reads that are not what they should be: a FIFO never hangs a start, and
what --check says about a cache path is what launch then does."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.paths import BASE_PATH
from tests.helpers.process import run_golaunch
from tests.helpers.toolchain import Toolchain


def fake_goroot(tmp_path: Path, go_new: Toolchain) -> Path:
    """A GOROOT with the go command, src/ and pkg/ (what goroot_problem looks for)."""
    root = tmp_path / "toolchain" / "go"  # not $HOME/go, which GOPATH defaults to
    (root / "bin").mkdir(parents=True)
    shutil.copy(go_new.go, root / "bin" / "go")
    (root / "src").mkdir()
    (root / "pkg").mkdir()
    return root


def test_a_fifo_as_the_go_env_file_does_not_hang(tmp_path: Path, go_new: Toolchain) -> None:
    fifo = tmp_path / "env"
    os.mkfifo(fifo)
    env = {"GOENV": str(fifo), "GOROOT": str(go_new.goroot), "HOME": str(tmp_path)}
    result = run_golaunch("--check", "--", "/bin/true", env=env, timeout=30)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("fifo", ["VERSION", "go.env"])
def test_a_fifo_in_goroot_does_not_hang(tmp_path: Path, go_new: Toolchain, fifo: str) -> None:
    root = fake_goroot(tmp_path, go_new)
    (root / "VERSION").write_text("go1.27.3\n")
    (root / fifo).unlink(missing_ok=True)
    os.mkfifo(root / fifo)
    result = run_golaunch(
        "--check", "--goroot", str(root), "--", "/bin/true", env={"HOME": str(tmp_path)}, timeout=30
    )
    if fifo == "VERSION":
        assert result.returncode == 78
        assert f"cannot read {root}/VERSION: is a FIFO, not a regular file" in result.stdout
    else:
        assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: (p / "file").write_text(""), "is not a directory"),
        (lambda p: (p / "file").symlink_to(p / "nowhere"), "is not a directory"),
    ],
    ids=["under-a-file", "under-a-dangling-symlink"],
)
def test_check_and_launch_agree_on_a_cache_that_cannot_be_created(
    tmp_path: Path, make: Callable[[Path], object], says: str
) -> None:
    make(tmp_path)
    cache = tmp_path / "file" / "go-build"
    args = ("--gocache", str(cache), "--gomodcache", str(tmp_path / "mod"))
    checked = run_golaunch("--check", *args, "--", "/bin/true", env={"PATH": BASE_PATH})
    launched = run_golaunch(
        "--notify", "none", "--log-target", "stderr", *args, "--", "/bin/true",
        env={"PATH": BASE_PATH},
    )  # fmt: skip
    assert checked.returncode == launched.returncode == 78
    check_line = next(line for line in checked.stdout.splitlines() if "fail  gocache" in line)
    (launch_line,) = launched.stderr.splitlines()
    assert says in check_line and check_line.split("gocache", 1)[1].strip() in launch_line
