"""GOCACHE on filesystems that refuse writes, and in directories someone else controls.

The filesystems are real: a tmpfs mounted read-only, filled up, or out of
inodes, inside a private mount namespace (tests/helpers/namespace.py). Root only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from golaunch.checks import gocache
from golaunch.config.schema import Config, GoConfig
from golaunch.findings import Severity
from golaunch.host.context import build_context
from tests.helpers.namespace import run_isolated
from tests.helpers.paths import BASE_PATH, BUILD

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounts and chown need root")

MOUNT = "/run/cachefs"
FILL = ["dd", "if=/dev/zero", f"of={MOUNT}/filler", "bs=64k"]


def gocache_line(mode: str, gocache: str, options: str, fill: bool = False) -> tuple[int, str]:
    """Run golaunch with GOCACHE=GOCACHE on a private (0700) tmpfs with OPTIONS; its gocache
    line. FILL fills the tmpfs up first."""
    argv = [sys.executable, "-m", "golaunch", mode, "--", "/bin/true"]
    env = {
        "PATH": BASE_PATH,  # /usr/bin/go puts a toolchain in play
        "HOME": str(BUILD / "home"),
        "GOCACHE": gocache,
        "GOMODCACHE": "/run/gomodcache",
        "GOLAUNCH_GO__MIN_FREE_MB": "1",
        "GOLAUNCH_LOG__TARGET": "stderr",
    }
    result = run_isolated(
        argv, env, mounts=[("tmpfs", f"{options},mode=0700", MOUNT)], setup=[FILL] if fill else []
    )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "GOCACHE=" in line]
    assert len(lines) == 1, result
    return result.returncode, lines[0]


@pytest.mark.parametrize(
    ("gocache", "options", "fill", "says"),
    [
        (f"{MOUNT}/new", "ro", False, f"cannot be created: {MOUNT} is on a read-only filesystem"),
        (MOUNT, "ro", False, "cannot be written to by uid 0: Read-only file system"),
        (MOUNT, "size=2m", True, "has 0 MB free, less than go.min_free_mb=1"),
        (f"{MOUNT}/new", "size=2m", True, f"would be created in {MOUNT}, which has 0 MB free"),
        (f"{MOUNT}/new", "nr_inodes=1", False, f"would be created in {MOUNT}, which has no free"),
    ],
    ids=["read-only-new", "read-only", "full", "full-new", "no-inodes"],
)
def test_unwritable_filesystems_fail_launch_and_check_alike(
    gocache: str, options: str, fill: bool, says: str
) -> None:
    """Checks only read, and launch runs the same checks: both say the same thing."""
    code, launch_line = gocache_line("--notify=none", gocache, options, fill)
    assert code == 78 and launch_line.startswith("golaunch: gocache: ") and says in launch_line
    code, check_line = gocache_line("--check", gocache, options, fill)
    assert code == 78 and check_line.startswith("  fail  gocache") and says in check_line
    assert (
        launch_line.removeprefix("golaunch: gocache: ") == check_line.split("gocache", 1)[1].strip()
    )


def test_a_roomy_tmpfs_passes() -> None:
    """The control: same mount, enough space and inodes."""
    code, line = gocache_line("--check", MOUNT, "size=8m")
    assert code == 0 and line.startswith("  pass  gocache")


def gocache_finding(path: Path) -> tuple[Severity, str]:
    config = Config(program="/bin/true", go=GoConfig(gocache=str(path), gomodcache="/nonexistent"))
    environ = {"PATH": BASE_PATH, "HOME": str(BUILD / "home")}
    (finding,) = gocache.check(build_context(config, environ))
    return finding.severity, finding.message


def test_a_cache_owned_by_another_user_fails(tmp_path: Path) -> None:
    cache = tmp_path / "gocache"
    cache.mkdir(mode=0o700)
    os.chown(cache, 65534, 65534)
    severity, message = gocache_finding(cache)
    assert severity is Severity.FAIL
    assert "is owned by uid 65534, not by uid 0 that runs the program (or root)" in message


@pytest.mark.parametrize(
    ("mode", "owner", "expected"),
    [
        (0o1777, 0, "is world-writable (through the symlink to {real}) (drwxrwxrwt)"),
        (0o700, 65534, "is owned by uid 65534 (through the symlink to {real})"),
    ],
    ids=["to-world-writable", "to-another-users"],
)
def test_a_symlink_is_judged_by_where_it_leads(
    tmp_path: Path, mode: int, owner: int, expected: str
) -> None:
    real = tmp_path / "shared"
    real.mkdir()
    real.chmod(mode)
    os.chown(real, owner, owner)
    link = tmp_path / "gocache"
    link.symlink_to(real)
    severity, message = gocache_finding(link)
    assert severity is Severity.FAIL
    assert expected.format(real=real) in message
