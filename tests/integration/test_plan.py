"""A warm start decides exactly as the full path does, or does not happen (issue 24).

Each case starts golaunch until its decision is kept (golaunch.launch.plan), changes
one thing on the host, and starts again. That start either takes the full path or
must do exactly what the full path does on the changed host: the same exit status,
exec (argv and environment), sd_notify datagrams and log lines. Where the change
alters the verdict, the warm start must not happen at all. The unchanged host is the
control: there, the warm start must happen, or every other case would prove nothing.

Everything is real: a C program built here with its own library found through
$ORIGIN, /etc/ld.so.cache, ACLs set with setfacl, a notify socket, and the test
process's own memory cgroup. golaunch runs in this process (golaunch.__main__.run),
with execve as the one stand-in.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

import golaunch.launch.plan
from golaunch.__main__ import run
from golaunch.config.plain import PlainConfig
from golaunch.inputs.trace import RACY_NS
from tests.helpers.paths import BASE_PATH, REPO
from tests.helpers.process import NotifyListener
from tests.helpers.toolchain import Toolchain

SETTLE = RACY_NS / 1e9 + 0.1  # files older than this may be trusted by their ctime


class Executed(BaseException):
    """execve stand-in: where the program would have started."""

    def __init__(self, path: str, argv: list[str], env: dict[str, str]) -> None:
        self.launched = (path, tuple(argv), tuple(sorted(env.items())))


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: int | None  # None: the program was executed
    launched: object
    notifications: tuple[str, ...]
    log: str


@dataclasses.dataclass
class Host:
    root: Path
    program: Path
    library: Path
    goroot: Path
    gocache: Path
    config: Path
    cache: Path
    listener: NotifyListener
    environ: dict[str, str]

    @property
    def argv(self) -> list[str]:
        return [
            "--config", str(self.config), "--goroot", str(self.goroot),
            "--go-version", ">=1.22", "--gocache", str(self.gocache),
            "--gomodcache", str(self.root / "gomod"), "--log-target", "stderr",
            "--", str(self.program), "serve",
        ]  # fmt: skip

    def plans(self) -> list[Path]:
        return sorted((self.cache / "golaunch").glob("*.plan"))


def gcc(*args: str | Path) -> None:
    subprocess.run(["gcc", "-O0", *map(str, args)], check=True, capture_output=True)


def build_library(path: Path, answer: int) -> None:
    source = path.with_suffix(".c")
    source.write_text(f"int plan_answer(void) {{ return {answer}; }}\n")
    gcc("-shared", "-fPIC", "-Wl,-soname,libplan.so.1", "-o", path, source)


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    lib = tmp_path / "app" / "lib"
    lib.mkdir(parents=True)
    build_library(lib / "libplan.so.1", 42)
    main = tmp_path / "main.c"
    main.write_text(
        "int plan_answer(void);\nint main(void) { return plan_answer() == 42 ? 0 : 1; }\n"
    )
    program = tmp_path / "app" / "server"
    gcc("-o", program, main, f"-L{lib}", "-l:libplan.so.1", "-Wl,-rpath,$ORIGIN/lib")
    goroot = tmp_path / "goroot"
    for part in ("bin", "src", "pkg"):
        (goroot / part).mkdir(parents=True)
    (goroot / "VERSION").write_text("go1.22.5\ntime 2024-07-02T00:00:00Z\n")
    (goroot / "bin" / "go").write_text("#!/bin/sh\nexit 1\n")
    (goroot / "bin" / "go").chmod(0o755)
    gocache = tmp_path / "caches" / "go-build"
    gocache.mkdir(parents=True, mode=0o755)
    (tmp_path / "gomod").mkdir()
    config = tmp_path / "golaunch.toml"
    config.write_text('[environment]\nset = { PLAN_MODE = "one" }\n')
    socket_path = str(tmp_path / "notify")
    listener = NotifyListener(socket_path, socket_path)
    cache = tmp_path / "state"
    cache.mkdir()
    environ = {
        "PATH": BASE_PATH,
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "CACHE_DIRECTORY": str(cache),
        "NOTIFY_SOCKET": socket_path,
        "INVOCATION_ID": "0123456789abcdef0123456789abcdef",
    }
    time.sleep(SETTLE)  # everything above is now old enough to be trusted
    yield Host(
        tmp_path, program, lib / "libplan.so.1", goroot, gocache, config, cache, listener, environ
    )
    listener.sock.close()


def start(
    host: Host, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[Outcome, bool]:
    """One start; and whether it was a warm one."""
    warm = []
    original = golaunch.launch.plan.start_warm

    def spied(argv: list[str], environ: Mapping[str, str], plain: PlainConfig) -> int | None:
        status = None
        try:
            status = original(argv, environ, plain)
        except Executed:
            warm.append(True)
            raise
        warm.append(status is not None)
        return status

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        raise Executed(path, argv, env)

    monkeypatch.setattr(golaunch.launch.plan, "start_warm", spied)
    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setenv("NOTIFY_SOCKET", host.environ["NOTIFY_SOCKET"])  # sdnotify reads it
    host.listener.messages()  # nothing left over
    capsys.readouterr()
    status: int | None
    launched: object = None
    try:
        status = run(host.argv, dict(host.environ))
    except Executed as e:
        status, launched = None, e.launched
    monkeypatch.undo()
    outcome = Outcome(status, launched, tuple(host.listener.messages()), capsys.readouterr().err)
    return outcome, warm == [True]


def kept(
    host: Host, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Outcome:
    """Start until a plan is kept and used: the outcome of the warm start."""
    recorded, _ = start(host, capsys, monkeypatch)  # records what the checks read
    assert host.plans(), f"no plan was kept after {recorded}"
    outcome, warm = start(host, capsys, monkeypatch)
    assert warm, "the kept plan was not used on an unchanged host"
    return outcome


def full(
    host: Host, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Outcome:
    for plan in host.plans():
        plan.unlink()
    outcome, warm = start(host, capsys, monkeypatch)
    assert not warm
    return outcome


def acl(path: Path, entry: str) -> None:
    subprocess.run(["setfacl", "-m", entry, str(path)], check=True)


def same_size_and_time(path: Path) -> None:
    """Another program of the same size with the same mtime, written in place."""
    before = path.stat()
    data = bytearray(path.read_bytes())
    at = data.index(b"GCC")  # the compiler's comment: not code
    data[at : at + 3] = b"gcc"
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def new_notify_socket(host: Host) -> None:
    path = str(host.root / "notify2")
    host.listener.sock.close()
    host.listener = NotifyListener(path, path)
    host.environ["NOTIFY_SOCKET"] = path


# Each changes the host after a plan was kept, so the warm start must not happen. True
# where the full path then decides otherwise; False where only an input changed.
MUTATIONS: dict[str, tuple[Callable[[Host], object], bool]] = {
    "chmod of the cache": (lambda h: h.gocache.chmod(0o777), True),
    "chmod of the cache's parent": (lambda h: h.gocache.parent.chmod(0o700), False),
    "chown of the cache": (lambda h: os.chown(h.gocache, 65534, 65534), True),
    "chown of the cache's parent": (lambda h: os.chown(h.gocache.parent, 65534, 65534), False),
    "an ACL letting nobody write the cache": (lambda h: acl(h.gocache, "u:nobody:rwx"), True),
    "an ACL that leaves the mode as it was": (lambda h: acl(h.gocache, "u:nobody:r-x"), False),
    "the library replaced": (lambda h: build_library(h.library, 42), False),
    "the library removed": (lambda h: h.library.unlink(), True),
    "ld.so.cache rebuilt": (lambda h: subprocess.run(["ldconfig"], check=True), False),
    "GOROOT's VERSION changed": (lambda h: (h.goroot / "VERSION").write_text("go1.19.1\n"), True),
    "the program replaced, same size and mtime": (lambda h: same_size_and_time(h.program), False),
    "the TOML file changed": (
        lambda h: h.config.write_text('[environment]\nset = { PLAN_MODE = "two" }\n'),
        True,
    ),
    "NOTIFY_SOCKET changed": (new_notify_socket, False),
    "LISTEN_FDS set": (
        lambda h: h.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid())),
        True,
    ),
}
# Changes that no check can see (a name on a listing no check makes, a time): here the
# warm start must go ahead.
UNSEEN: dict[str, Callable[[Host], object]] = {
    "a new file beside the cache": lambda h: (h.gocache.parent / "other").write_text("x"),
    "an entry made in the cache": lambda h: (h.gocache / "entry").write_text("x"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_warm_start_decides_as_the_full_path_does(
    mutation: str, host: Host, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = kept(host, capsys, monkeypatch)
    assert before.status is None and before.notifications[-1].startswith("READY=1\n")
    change, changes_verdict = MUTATIONS[mutation]
    change(host)
    warm, was_warm = start(host, capsys, monkeypatch)
    reference = full(host, capsys, monkeypatch)
    if changes_verdict:
        assert reference != before, "the mutation did not matter: the case proves nothing"
    assert not was_warm, f"{mutation}: the old decision was taken again"
    assert warm == reference


@pytest.mark.parametrize("change", sorted(UNSEEN))
def test_what_no_check_judges_keeps_the_plan(
    change: str, host: Host, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = kept(host, capsys, monkeypatch)
    UNSEEN[change](host)
    after, was_warm = start(host, capsys, monkeypatch)
    assert was_warm and after == before


def test_a_new_invocation_passes_its_own_values_on(
    host: Host, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """INVOCATION_ID and JOURNAL_STREAM are new at every start: the plan is used, and the
    program gets the new values, as the full path would give them."""
    kept(host, capsys, monkeypatch)
    host.environ["INVOCATION_ID"] = "fedcba9876543210fedcba9876543210"
    warm, was_warm = start(host, capsys, monkeypatch)
    assert was_warm
    assert ("INVOCATION_ID", "fedcba9876543210fedcba9876543210") in warm.launched[2]  # type: ignore[index]
    assert warm == full(host, capsys, monkeypatch)


def test_credentials_are_never_planned(
    host: Host, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A credential's value would be written to disk: such starts always take the full path."""
    credentials = host.root / "credentials"
    credentials.mkdir()
    (credentials / "token").write_text("first")
    host.environ["CREDENTIALS_DIRECTORY"] = str(credentials)
    host.config.write_text('[credentials]\nenv = { TOKEN = "token" }\n')
    for value in ("first", "second"):
        (credentials / "token").write_text(value)
        outcome, was_warm = start(host, capsys, monkeypatch)
        assert not was_warm and ("TOKEN", value) in outcome.launched[2]  # type: ignore[index]
    assert host.plans() == []


def test_a_changed_cgroup_limit_is_seen(
    host: Host,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    go_new: Toolchain,
) -> None:
    """The test process's own memory cgroup: a limit of 512 MiB, then of 256 MiB, under
    which a Go program gets GOMEMLIMIT."""
    shutil.copy2(go_new.build(REPO / "examples" / "noop", "noop"), host.program)
    time.sleep(SETTLE)
    own = next(
        line.split(":", 2)[2]
        for line in Path("/proc/self/cgroup").read_text().splitlines()
        if line.split(":")[1] == "memory"
    )
    parent = Path("/sys/fs/cgroup/memory") / own.lstrip("/")
    if not os.access(parent, os.W_OK):
        pytest.skip(f"{parent} cannot be written here")
    child = parent / f"golaunch-plan-{secrets.token_hex(4)}"  # not the PID: see plan.py
    child.mkdir()
    try:
        (child / "memory.limit_in_bytes").write_text(str(512 << 20))
        (child / "cgroup.procs").write_text(str(os.getpid()))
        before = kept(host, capsys, monkeypatch)
        assert ("GOMEMLIMIT", str(int((512 << 20) * 0.9))) in before.launched[2]  # type: ignore[index]
        (child / "memory.limit_in_bytes").write_text(str(256 << 20))
        warm, was_warm = start(host, capsys, monkeypatch)
        reference = full(host, capsys, monkeypatch)
        assert ("GOMEMLIMIT", str(int((256 << 20) * 0.9))) in reference.launched[2]  # type: ignore[index]
        assert not was_warm and warm == reference
    finally:
        (parent / "cgroup.procs").write_text(str(os.getpid()))
        child.rmdir()


def test_the_plan_holds_no_program_output_or_secret(
    host: Host, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plans live where only the user can read them, as the configuration cache does."""
    kept(host, capsys, monkeypatch)
    directory = host.cache / "golaunch"
    assert directory.stat().st_mode & 0o777 == 0o700
    for plan in host.plans():
        assert plan.stat().st_mode & 0o777 == 0o600


def test_a_foreign_plan_is_not_trusted(
    host: Host, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan another user could have written is ignored, as configuration entries are."""
    kept(host, capsys, monkeypatch)
    for plan in host.plans():
        os.chown(plan, 65534, 65534)
    _, was_warm = start(host, capsys, monkeypatch)
    assert not was_warm
    shutil.rmtree(host.cache / "golaunch")
