"""Another Debian release as a machine: its root file system (packaging/debian-root.sh),
a package installed into it with its apt, and its own systemd booted there as PID 1
of a private namespace.

bookworm boots systemd 252 and trixie 257. systemd 256 and later refuse cgroup v1,
which this host has, unless told otherwise on their command line: in a container
they read it from their own arguments.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.machine import TARGET, Machine, boot, boot_units
from tests.helpers.paths import REPO

DEBIAN_ROOT = REPO / "packaging" / "debian-root.sh"
IN_ROOT = REPO / "packaging" / "in-root.sh"
BOOT_ROOT = REPO / "tests" / "system" / "boot-root.sh"
UNSHARE = ("unshare", "--pid", "--fork", "--mount", "--cgroup", "--uts", "--ipc")
GO_119 = "/usr/lib/go-1.19"
GO_119_SHARE = "/usr/share/go-1.19"
LEGACY_CGROUPS = ("systemd.unified_cgroup_hierarchy=0", "SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1")


class RootMachine(Machine):
    """A machine booted in another release's root: commands run in that root."""

    ENTER = ("-m", "-p", "-r", "-w")


def unpack_root(dist: str, variant: str, where: Path) -> Path:
    """A fresh copy of DIST's VARIANT root at WHERE (made and cached on first use)."""
    made = subprocess.run([DEBIAN_ROOT, dist, variant], capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    subprocess.run(["tar", "-C", where, "-xf", made.stdout.strip()], check=True)
    return where


def in_root(root: Path, command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """COMMAND by sh in ROOT, unbooted, with the network (packaging/in-root.sh)."""
    return subprocess.run(
        [IN_ROOT, root, "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def apt_install(root: Path, package: Path) -> None:
    """PACKAGE installed into ROOT by its own apt, which fetches what it depends on."""
    target = root / "root" / package.name
    shutil.copy(package, target)
    run = in_root(
        root,
        "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && "
        f"apt-get install -y -qq --no-install-recommends /root/{package.name}",
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    target.unlink()


@contextmanager
def booted_root(root: Path, work: Path, expose: Sequence[str] = ()) -> Iterator[RootMachine]:
    """ROOT's systemd booted into the test target, with the host's EXPOSE directories at
    their own paths; powered off after."""
    units = boot_units(work)
    argv = [*UNSHARE, str(BOOT_ROOT), str(root), str(units), TARGET, " ".join(expose)]
    with boot([*argv, *LEGACY_CGROUPS], work / "boot.log", RootMachine) as machine:
        yield machine


@contextmanager
def booted_release(dist: str, work: Path) -> Iterator[RootMachine]:
    """DIST's systemd in a fresh copy of its system root, for the system suite: this
    tree, its interpreter and Debian's Go 1.19 are where the tests put them."""
    root = unpack_root(dist, "system", work / "root")
    expose = [str(REPO), os.path.realpath(sys.base_prefix)]
    if os.path.isdir(GO_119):
        # Debian's golang-go, as on this host: the go command units find on PATH.
        expose += [GO_119, GO_119_SHARE]  # GOROOT's src/ and more link into the second
        for name in ("go", "gofmt"):
            (root / "usr/bin" / name).symlink_to(f"{GO_119}/bin/{name}")
    if any(" " in d for d in expose):
        raise AssertionError(f"boot-root.sh cannot expose paths with spaces: {expose}")
    try:
        with booted_root(root, work, expose) as machine:
            yield machine
    finally:
        shutil.rmtree(root, ignore_errors=True)
