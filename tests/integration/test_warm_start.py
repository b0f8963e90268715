"""A warm start does exactly what a full start does on the same host, or does not happen
(issue 30): the differential harness, with real golaunch processes.

Each case keeps a plan (tests/helpers/warm.py), changes the host, then starts with the
plan and without it (the full start), and compares everything observable: exit status,
sd_notify datagrams, golaunch's log lines, and the argv and /proc/PID/environ of the
program it exec'd. The changes are the README's list, and the ways a plan's verdict went
stale in the hostile review: a write through a shared mapping, recording that changed
the verdict, a PID spelled another way, code changed under the same version.
"""

from __future__ import annotations

import mmap
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.paths import REPO
from tests.helpers.toolchain import Toolchain
from tests.helpers.warm import (
    SETTLE,
    Host,
    build_library,
    full,
    kept,
    make_host,
    shared_code,
    start,
)


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return make_host(tmp_path)


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
    from tests.helpers.process import NotifyListener

    path = str(host.root / "notify2")
    host.listener.sock.close()
    host.listener = NotifyListener(path, path)
    host.environ["NOTIFY_SOCKET"] = path


class SharedMapping:
    """A shared writable mapping of a file, dirtied at once and kept open: later writes
    through it fault no more, so ext4 keeps the size, mtime and ctime until writeback
    (30 s here), and tmpfs for ever (item 4)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = open(path, "r+b")  # noqa: SIM115  (closed in close())
        self.mapped = mmap.mmap(self.file.fileno(), 0)
        self.mapped[0:1] = self.mapped[0:1]

    def replace(self, old: bytes, new: bytes) -> None:
        before = self.path.stat()
        at = self.mapped.find(old)
        assert at >= 0 and len(old) == len(new)
        self.mapped[at : at + len(new)] = new
        after = self.path.stat()
        assert (after.st_mtime_ns, after.st_ctime_ns) == (before.st_mtime_ns, before.st_ctime_ns)

    def close(self) -> None:
        self.mapped.close()
        self.file.close()


# Each changes the host after a plan was kept. True where the full start then decides
# otherwise (so the case proves something); False where only an input changed.
MUTATIONS: dict[str, tuple[Callable[[Host], object], bool]] = {
    "chmod of the cache": (lambda h: h.gocache.chmod(0o777), True),
    "chmod of the cache's parent": (lambda h: h.gocache.parent.chmod(0o700), False),
    "chown of the cache": (lambda h: os.chown(h.gocache, 65534, 65534), True),
    "chown of the cache's parent": (lambda h: os.chown(h.gocache.parent, 65534, 65534), False),
    "an ACL letting nobody write the cache": (lambda h: acl(h.gocache, "u:nobody:rwx"), True),
    "an ACL that leaves the mode as it was": (lambda h: acl(h.gocache, "u:nobody:r-x"), False),
    "the library replaced": (lambda h: build_library(h.library, 42), False),
    "the library removed": (lambda h: h.library.unlink(), True),
    "the library's answer changed": (lambda h: build_library(h.library, 7), True),
    "ld.so.cache rebuilt": (lambda h: subprocess.run(["ldconfig"], check=True), False),
    "GOROOT's VERSION changed": (lambda h: (h.goroot / "VERSION").write_text("go1.19.1\n"), True),
    "the program replaced, same size and mtime": (lambda h: same_size_and_time(h.program), False),
    "the program removed": (lambda h: h.program.unlink(), True),
    "the TOML file changed": (
        lambda h: h.config.write_text('[environment]\nset = { PLAN_MODE = "two" }\n'),
        True,
    ),
    "NOTIFY_SOCKET changed": (new_notify_socket, False),
    "LISTEN_FDS set": (lambda h: h.environ.update(LISTEN_FDS="1", LISTEN_PID="1"), True),
    "an inherited variable": (lambda h: h.environ.update(APP_EXTRA="1"), True),
}
# Changes that no check can see (a name on a listing no check makes, a time): here the
# warm start must go ahead.
UNSEEN: dict[str, Callable[[Host], object]] = {
    "a new file beside the cache": lambda h: (h.gocache.parent / "other").write_text("x"),
    "an entry made in the cache": lambda h: (h.gocache / "entry").write_text("x"),
    "a new INVOCATION_ID of the same length": lambda h: h.environ.update(
        INVOCATION_ID="fedcba9876543210fedcba9876543210"
    ),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_warm_start_decides_as_the_full_start_does(mutation: str, host: Host) -> None:
    before = kept(host)
    assert before.status == 0 and before.notifications[-1].startswith("READY=1\n")
    change, changes_outcome = MUTATIONS[mutation]
    change(host)
    warm, was_warm = start(host)
    reference = full(host)
    if changes_outcome:
        assert reference != before, "the mutation did not matter: the case proves nothing"
    assert not was_warm, f"{mutation}: the old verdict was taken again"
    assert warm == reference


@pytest.mark.parametrize("change", sorted(UNSEEN))
def test_what_no_check_judges_keeps_the_plan(change: str, host: Host) -> None:
    before = kept(host)
    UNSEEN[change](host)
    after, was_warm = start(host)
    assert was_warm
    assert after == full(host)
    assert after.log == before.log and after.notifications == before.notifications


def test_a_toml_file_written_through_a_mapping_is_read_afresh(host: Host) -> None:
    """Its bytes changed, none of its time stamps: the configuration is read at every start
    (item 4). Here a library the program loads with dlopen(), named in the file, is gone."""
    host.config.write_text(
        '[go]\nversion = ">=1.22"\n[libraries]\nrequire = ["libplan.so.1"]\n'
        '[environment]\nset = { PLAN_MODE = "one" }\n'
    )
    mapping = SharedMapping(host.config)
    try:
        time.sleep(SETTLE)
        before = kept(host)
        mapping.replace(b"libplan.so.1", b"libgone.so.1")
        warm, was_warm = start(host)
        reference = full(host)
    finally:
        mapping.close()
    assert before.status == 0 and reference.status == 78
    assert any("libgone.so.1" in line for line in reference.log)
    assert not was_warm and warm == reference


def test_a_version_file_written_through_a_mapping_is_seen_by_its_bytes(host: Host) -> None:
    """GOROOT's VERSION, whose bytes decide go.version: compared by content (item 4)."""
    mapping = SharedMapping(host.goroot / "VERSION")
    try:
        time.sleep(SETTLE)
        before = kept(host)
        mapping.replace(b"go1.22.5", b"go1.19.5")
        warm, was_warm = start(host)
        reference = full(host)
    finally:
        mapping.close()
    assert before.status == 0 and reference.status == 78
    assert not was_warm and warm == reference


def test_a_pid_spelled_otherwise_is_still_this_process(host: Host) -> None:
    """WATCHDOG_PID names this process in octal: libsystemd reads it so, and so does every
    start (item 7). Kept for another process's watchdog, the plan must not serve this one."""
    host.environ.update(WATCHDOG_USEC="10000000", WATCHDOG_PID="1")
    before = kept(host)
    del host.environ["WATCHDOG_PID"]
    host.prefix = ["sh", "-c", 'WATCHDOG_PID=0$(printf %o $$) exec "$@"', "sh"]
    warm, was_warm = start(host)
    reference = full(host)
    assert before.status == 0 and reference.status == 78
    assert any("WatchdogSec=" in line for line in reference.log)
    assert not was_warm and warm == reference


def test_recording_never_changes_the_verdict(tmp_path: Path) -> None:
    """With the real user root and the effective one nobody, a 0744 root-owned program
    cannot be exec'd. Under the recorder the check asked with the real IDs and passed, and
    the start failed execve (71); every start must refuse it, the recorded one too (item 5)."""
    shared = Path(tempfile.mkdtemp(prefix="golaunch-warm-", dir="/var/tmp"))
    try:
        host = make_host(shared / "host")
        for path in (shared, *shared.rglob("*")):
            os.chown(path, 65534, 65534, follow_symlinks=False)
        os.chmod(shared, 0o755)
        os.chown(host.program, 0, 0)
        host.program.chmod(0o744)
        os.chmod(host.listener.address, 0o777)
        host.interpreter, host.pythonpath = "/usr/bin/python3.11", shared_code(shared)
        host.prefix = ["setpriv", "--euid=65534", "--egid=65534", "--clear-groups"]
        outcomes = [start(host) for _ in range(3)]
        assert [o.status for o, _ in outcomes] == [78, 78, 78], outcomes
        assert all("not executable" in " ".join(o.log) for o, _ in outcomes)
        assert not any(warm for _, warm in outcomes) and host.plans() == []
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_code_changed_under_the_same_version_decides_anew(host: Host, tmp_path: Path) -> None:
    """A package patched in place keeps __version__; its plans must not survive it, even
    where the change is in a module no warm start loads (item 8)."""
    code = tmp_path / "code"
    shutil.copytree(
        REPO / "golaunch", code / "golaunch", ignore=shutil.ignore_patterns("__pycache__")
    )
    host.pythonpath = str(code)
    time.sleep(SETTLE)
    before = kept(host)
    rules = code / "golaunch" / "config" / "rules.py"
    rules.write_text(rules.read_text() + "\n# patched\n")
    after, was_warm = start(host)
    assert not was_warm and after == before == full(host)


def test_credentials_are_never_planned(host: Host) -> None:
    """A credential's value would be written to disk: such starts always take the full path."""
    credentials = host.root / "credentials"
    credentials.mkdir()
    host.environ["CREDENTIALS_DIRECTORY"] = str(credentials)
    host.config.write_text('[credentials]\nenv = { TOKEN = "token" }\n')
    for value in ("first", "second"):
        (credentials / "token").write_text(value)
        outcome, was_warm = start(host)
        assert not was_warm and outcome.exec is not None
        assert f"TOKEN={value}" in outcome.exec[1]
    assert host.plans() == []


def test_a_changed_cgroup_limit_is_seen(host: Host, go_new: Toolchain) -> None:
    """The test process's own memory cgroup, which golaunch inherits: a limit of 512 MiB,
    then of 256 MiB, under which a Go program gets GOMEMLIMIT."""
    import secrets

    noop = go_new.build(REPO / "examples" / "noop", "noop")
    script = host.root / "app" / "go-server"
    script.write_text(f"#!{noop}\n")  # a Go program, with the report path as its argument
    script.chmod(0o755)
    host.program = script
    own = next(
        line.split(":", 2)[2]
        for line in Path("/proc/self/cgroup").read_text().splitlines()
        if line.split(":")[1] == "memory"
    )
    parent = Path("/sys/fs/cgroup/memory") / own.lstrip("/")
    if not os.access(parent, os.W_OK):
        pytest.skip(f"{parent} cannot be written here")
    child = parent / f"golaunch-warm-{secrets.token_hex(4)}"  # not the PID: see plan.py
    child.mkdir()
    try:
        (child / "memory.limit_in_bytes").write_text(str(512 << 20))
        (child / "cgroup.procs").write_text(str(os.getpid()))
        time.sleep(SETTLE)
        before = kept(host)
        assert any(f"GOMEMLIMIT={int((512 << 20) * 0.9)}" in line for line in before.log)
        (child / "memory.limit_in_bytes").write_text(str(256 << 20))
        warm, was_warm = start(host)
        reference = full(host)
        assert any(f"GOMEMLIMIT={int((256 << 20) * 0.9)}" in line for line in reference.log)
        assert not was_warm and warm == reference
    finally:
        (parent / "cgroup.procs").write_text(str(os.getpid()))
        child.rmdir()


def test_plans_are_private(host: Host) -> None:
    kept(host)
    assert (host.cache / "golaunch").stat().st_mode & 0o777 == 0o700
    for plan in host.plans():
        assert plan.stat().st_mode & 0o777 == 0o600
