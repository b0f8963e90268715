"""The readiness helper after exec: its deadline, its barriers after READY=1 and
WATCHDOG=trigger, stopping the program through its pidfd, and the fds it keeps."""

from __future__ import annotations

import array
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from golaunch.readiness.helper import Helper
from golaunch.systemd.notify import barrier
from tests.helpers.servers import Trickle


def test_barrier_waits_until_the_manager_closes_the_fd(tmp_path: Path) -> None:
    """As sd_notify(3) says: its own datagram, BARRIER=1, carrying exactly one fd."""
    address = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as manager:
        manager.bind(address)
        received: list[tuple[bytes, int]] = []

        def act_as_manager() -> None:
            fds = array.array("i")
            data, ancillary, _, _ = manager.recvmsg(64, socket.CMSG_SPACE(fds.itemsize * 4))
            for level, kind, payload in ancillary:
                if (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS):
                    fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            received.append((data, len(fds)))
            for fd in fds:
                os.close(fd)  # the POLLHUP the sender waits for

        thread = threading.Thread(target=act_as_manager)
        thread.start()
        barrier(address, timeout=5)
        thread.join()
    assert received == [(b"BARRIER=1", 1)]


def test_the_checker_gives_up_at_its_deadline(trickle: Trickle) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    pidfd = os.pidfd_open(sleeper.pid)
    try:
        spec = {
            "probe": f"http://127.0.0.1:{trickle.port}/",
            "interval": 0.2,
            "attempt_timeout": 4,
            "timeout": 1.5,
            "pidfd": pidfd,
        }
        helper = Helper(spec, lambda message: None)
        started = time.monotonic()
        ready, _, error = helper.until_ready()
        assert not ready and time.monotonic() - started < 2.0, error
    finally:
        os.close(pidfd)
        sleeper.kill()
        sleeper.wait()


class Manager:
    """A notify socket read as PID 1 reads it, in a thread: datagrams in order, and any fd a
    datagram carries closed at once (the POLLHUP a barrier waits for)."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.received: list[tuple[str, int]] = []  # (text, fds it carried)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self) -> None:
        while not self.done.is_set():
            try:
                data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(4 * 4))
            except TimeoutError:
                continue
            fds = array.array("i")
            for _, _, payload in ancillary:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                os.close(fd)
            self.received.append((data.decode(), len(fds)))

    def close(self) -> list[tuple[str, int]]:
        self.done.set()
        self.thread.join()
        self.sock.close()
        return self.received


def run_checker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stops: bool = False, **spec: object
) -> tuple[int, list[tuple[str, int]], subprocess.Popen[bytes]]:
    from golaunch.readiness.helper import supervise

    manager = Manager(tmp_path / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    program = subprocess.Popen(["sleep", "30"])
    pidfd = os.pidfd_open(program.pid)
    base: dict[str, object] = {"interval": 0.05, "attempt_timeout": 0.2, "timeout": 0}
    base |= {"watchdog": False}
    base |= {"watchdog_usec": 0, "program": "/app", "log_target": "stderr", "pidfd": pidfd}
    try:
        status = supervise({**base, **spec})
        if stops:
            program.wait(timeout=5)
    finally:
        os.close(pidfd)
        program.kill()
        program.wait()
    return status, manager.close(), program


def test_a_checker_that_gives_up_stops_the_program_through_its_pidfd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, received, program = run_checker(
        tmp_path, monkeypatch, stops=True, probe=f"file://{tmp_path / 'never'}", timeout=0.5
    )
    assert status == 1 and program.returncode == -15  # SIGTERM, through the pidfd
    assert "did not succeed within 0.5 s" in received[-2][0]
    assert received[-1] == ("BARRIER=1", 1)  # the reason is attributed before the exit


def test_the_watchdog_trigger_is_followed_by_a_barrier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    health = tmp_path / "healthy"
    health.touch()
    threading.Timer(0.5, health.unlink).start()
    status, received, _ = run_checker(
        tmp_path, monkeypatch, probe=f"file://{health}", watchdog=True, watchdog_usec=200_000
    )
    texts = [text for text, _ in received]
    assert status == 1 and texts[0].startswith("READY=1") and received[1] == ("BARRIER=1", 1)
    assert "WATCHDOG=1" in texts
    assert texts[-2].endswith("\nWATCHDOG=trigger") and received[-1] == ("BARRIER=1", 1)


def test_the_checker_keeps_no_inherited_fd(tmp_path: Path) -> None:
    """A listener systemd passed in (LISTEN_FDS) stays with the program only: a helper
    holding it would let the kernel answer a tcp probe for a program that serves nothing."""
    import json
    import sys

    listening = socket.socket()
    listening.set_inheritable(True)
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    script = (
        "import os, sys; from golaunch.readiness.helper import close_inherited_fds as c; "
        f"c({write_end}); print(json.dumps(sorted(int(f) for f in os.listdir('/proc/self/fd'))))"
    )
    run = subprocess.run(
        [sys.executable, "-c", "import json; " + script], capture_output=True, text=True,
        close_fds=False, check=True,
    )  # fmt: skip
    fds = set(json.loads(run.stdout)) - {0, 1, 2}
    listening.close()
    os.close(read_end)
    os.close(write_end)
    # Only the fd kept and the one listdir itself opens remain.
    assert listening.fileno() == -1 and len(fds) <= 2 and write_end in fds


def test_the_spawn_itself_closes_the_passed_sockets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper used to close them only once its interpreter had started: on a loaded
    machine it was seen among a listener's holders (issue 30). Now they are closed in the
    spawn: the first program it execs (setsid, here a script in its place) holds none.
    Judged by what each descriptor refers to, not by its number: the shell reuses a freed
    number for its own (dash in Debian 13 put a saved stdout at the listener's old 11)."""
    from golaunch.launch import effects

    seen = tmp_path / "fds"
    probe = tmp_path / "setsid"
    listing = 'for f in /proc/$$/fd/*; do readlink "$f"; done'
    probe.write_text(f"#!/bin/sh\n{listing} > {seen}\nexit 0\n")
    probe.chmod(0o755)
    monkeypatch.setattr(effects, "SETSID", str(probe))
    listening = socket.socket()
    listening.listen()
    listening.set_inheritable(True)  # as systemd passes it: no FD_CLOEXEC
    passed = f"socket:[{os.fstat(listening.fileno()).st_ino}]"
    try:
        effects.spawn_helper({}, {"PATH": "/usr/bin:/bin"})
    finally:
        listening.close()
    held = seen.read_text().split()
    assert "anon_inode:[pidfd]" in held, held  # the one it keeps: the probe saw its fds
    assert passed not in held, (passed, held)


@pytest.mark.parametrize("restore", [None, "main", "exec"])
def test_ready_sets_back_the_units_notify_access(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore: str | None
) -> None:
    """golaunch widened NotifyAccess= for the helper (golaunch.checks.ready_probe): the
    same datagram as READY=1 narrows it again, before the barrier."""
    ready = tmp_path / "ready"
    ready.touch()
    status, received, _ = run_checker(
        tmp_path, monkeypatch, probe=f"file://{ready}", restore_access=restore
    )
    (first, _), barrier = received
    assert status == 0 and first.startswith("READY=1\n") and barrier == ("BARRIER=1", 1)
    lines = first.split("\n")
    assert [line for line in lines if line.startswith("NOTIFYACCESS=")] == (
        [f"NOTIFYACCESS={restore}"] if restore else []
    )
