"""Real systemd, booted as PID 1 of a private namespace, once per session and version:
the machine's own 252, and Debian 13's 257 in a trixie root (tests/helpers/release.py).
Every test that asks for `machine` runs under both, unless it is marked host_systemd.

Tests write units into the namespace's /run/systemd/system (through
/proc/PID/root), start them with the namespace's systemctl and read its
journald with journalctl. Everything a service runs lives outside /tmp: the
namespace has a /tmp of its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.elf import shared
from tests.helpers.machine import (
    SYSTEMD,
    Machine,
    booted,
    start_system_bus,
    wait_until,
)
from tests.helpers.paths import BUILD, REPO, SOURCES
from tests.helpers.release import booted_release
from tests.helpers.toolchain import Toolchain

__all__ = ["Machine", "wait_until"]  # the tests import them from here

WORK = BUILD.parent / "system"  # outside /tmp, visible to the namespace


def why_no_systemd() -> str | None:
    if os.geteuid() != 0:
        return "the system tests boot systemd in a namespace, which needs root"
    if not SYSTEMD.exists():
        return f"{SYSTEMD} is not installed"
    for tool in ("unshare", "nsenter", "systemctl", "journalctl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = why_no_systemd()
    for item in items:
        if "tests/system/" in str(item.fspath):
            item.add_marker(pytest.mark.system)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


SYSTEMDS = {"systemd252": None, "systemd257": "trixie"}  # version: the release booted


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "machine" in metafunc.fixturenames:
        host_only = metafunc.definition.get_closest_marker("host_systemd")
        versions = ["systemd252"] if host_only else list(SYSTEMDS)
        metafunc.parametrize("machine", versions, indirect=True, scope="session")


@pytest.fixture(scope="session")
def machine(request: pytest.FixtureRequest) -> Iterator[Machine]:
    release = SYSTEMDS[request.param]
    if release is None:
        with booted(WORK) as running:
            yield running
    else:
        with booted_release(release, WORK / request.param) as running:
            yield running


@pytest.fixture(scope="session")
def system_bus(machine: Machine) -> None:
    start_system_bus(machine)


# --- what the services run -------------------------------------------------------

GOLAUNCH = REPO / ".venv" / "bin" / "golaunch"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(port: int, path: str, timeout: float = 10) -> str:
    def attempt() -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                return str(r.read().decode())
        except OSError:
            return None

    return wait_until(f"HTTP on port {port}", attempt, timeout)


def reach_this_tree() -> list[str]:
    """[Service] lines that let a sandboxed unit (ProtectHome=, PrivateTmp=, DynamicUser=)
    run this tree's golaunch with this interpreter."""
    lines = []
    interpreter = os.path.realpath(sys.executable)
    if any(p.startswith(("/root/", "/home/")) for p in (interpreter, str(REPO))):
        # The development interpreter (pyenv) or this tree lives in a home
        # directory, which ProtectHome= hides; the packages use /usr/bin/python3.11.
        lines.append("ProtectHome=no")
    for path in (interpreter, str(REPO)):
        if path.startswith(("/tmp/", "/var/tmp/")):
            # A checkout in /tmp: PrivateTmp= (which DynamicUser= implies, for good)
            # gives the service a /tmp without it, so it is bound back in.
            lines.append(f"BindReadOnlyPaths={path}")
    return lines


def install_program(source: Path, name: str) -> Path:
    """A copy under a plain name: systemd and golaunch name streams after the basename."""
    target = WORK / "bin" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    shutil.copy(source, tmp)
    tmp.chmod(0o755)
    os.replace(tmp, target)
    return target


@pytest.fixture(scope="session")
def go_server(go_new: Toolchain) -> Path:
    return install_program(go_new.build(REPO / "examples" / "server", "server"), "server")


@pytest.fixture(scope="session")
def missing_library_program() -> Path:
    """A C program linked against libgone.so.1, which is then deleted."""
    directory = WORK / "missing-lib"
    shutil.rmtree(directory, ignore_errors=True)
    shared(directory / "lib", "gla.c", "libgone.so.1")
    subprocess.run(
        ["gcc", "-o", "prog", str(SOURCES / "c" / "prog.c"), "-Llib", "-l:libgone.so.1"],
        cwd=directory,
        check=True,
    )
    shutil.rmtree(directory / "lib")
    ldd = subprocess.run(["ldd", directory / "prog"], capture_output=True, text=True, check=False)
    assert "libgone.so.1 => not found" in ldd.stdout  # the oracle agrees it is missing
    return install_program(directory / "prog", "needs-libgone")


def make(target: str, *variables: str) -> None:
    """make TARGET [NAME=VALUE...] in this tree."""
    run = subprocess.run(
        ["make", "-s", target, *variables], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
