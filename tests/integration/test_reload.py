"""--reload against a real program and hostile pages on 127.0.0.1 (issue 31, items 1-9).

The program is a real process: it gets the signal through a pidfd, lives or dies, and
serves a metrics page from a thread, page by page as the case scripts it. golaunch's
reload runs in this process, with a /proc of the test's that puts the program and
golaunch in one unit (the booted systemd proves the real cgroups, tests/system).
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from golaunch.config.schema import ReloadConfig
from golaunch.findings import Finding
from golaunch.reload import run
from golaunch.reload.run import Deadline, reload_program
from golaunch.status import ExitStatus, NotRunning, PermissionRefused, Terminated

# The program: reloads on SIGHUP (writes "reloaded" to its stdout), or with DIE_AFTER
# set dies that many seconds after it, or with NO_HANDLER dies of it at once.
PROGRAM = r"""
import os, signal, sys, time
def hup(signum, frame):
    if os.environ.get("DIE_AFTER"):
        time.sleep(float(os.environ["DIE_AFTER"]))
        os._exit(3)
    print("reloaded", flush=True)
if not os.environ.get("NO_HANDLER"):
    signal.signal(signal.SIGHUP, hup)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


class Page(http.server.BaseHTTPRequestHandler):
    """Answers what the test's SCRIPT says, for the nth request."""

    # (request n, seconds since the signal, or -1 before it) -> (status line, body)
    script: ClassVar[Callable[[int, float], tuple[bytes, bytes]]]
    count = 0
    signalled = 0.0

    def do_GET(self) -> None:
        Page.count += 1
        since = time.monotonic() - Page.signalled if Page.signalled else -1.0
        status_line, body = Page.script(Page.count, since)
        self.wfile.write(status_line + b"\r\nContent-Type: text/plain\r\n\r\n" + body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def page() -> Iterator[tuple[str, type[Page]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    Page.count, Page.signalled = 0, 0.0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/metrics", Page
    server.shutdown()


@pytest.fixture
def program(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(**environ: str) -> subprocess.Popen[str]:
        child = subprocess.Popen(
            [sys.executable, "-c", PROGRAM], env={**os.environ, **environ},
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        started.append(child)
        return child

    yield start
    for child in started:
        child.kill()
        child.wait()


def one_unit(tmp_path: Path, pid: int) -> str:
    """A /proc in which PID and golaunch run in app.service."""
    for who in (str(pid), "self"):
        (tmp_path / "proc" / who).mkdir(parents=True, exist_ok=True)
        (tmp_path / "proc" / who / "cgroup").write_text("0::/system.slice/app.service\n")
    return str(tmp_path / "proc")


def reloaded(
    tmp_path: Path, pid: int, seconds: float = 10, **settings: Any
) -> tuple[int, list[Finding], list[str], float]:
    """The exit status, the journal entries and STATUS= lines, and how long it took."""
    logged: list[Finding] = []
    said: list[str] = []
    began = time.monotonic()
    status = reload_program(
        ReloadConfig(**settings),
        pid, said.append, logged.append,
        deadline=Deadline(seconds), proc=one_unit(tmp_path, pid),
    )  # fmt: skip
    return status, logged, said, time.monotonic() - began


def metrics(successful: int, timestamp: float, prefix: str = "prometheus") -> bytes:
    return (
        f"{prefix}_config_last_reload_successful {successful}\n"
        f"{prefix}_config_last_reload_success_timestamp_seconds {timestamp}\n"
    ).encode()


def test_a_program_that_reloads_is_confirmed(
    tmp_path: Path, program: Callable[..., subprocess.Popen[str]]
) -> None:
    child = program()
    status, logged, said, took = reloaded(tmp_path, child.pid)
    assert (status, logged) == (0, []) and said[-1].startswith("STATUS=golaunch: reloaded")
    assert took >= run.ALIVE_GRACE
    assert child.stdout is not None and child.stdout.readline() == "reloaded\n"


def test_a_probe_never_confirms_a_program_on_its_way_out(
    tmp_path: Path, program: Callable[..., subprocess.Popen[str]], page: tuple[str, type[Page]]
) -> None:
    """The page answers 200 throughout, and the program dies 0.3 s after the signal: the
    probe must not be weaker than no confirmation (item 2)."""
    url, server = page
    server.script = lambda n, since: (b"HTTP/1.0 200 OK", b"ok\n")
    child = program(DIE_AFTER="0.3")
    for confirm in (url, f"tcp://127.0.0.1:{url.split(':')[2].split('/')[0]}"):
        status, logged, _, _ = reloaded(tmp_path, child.pid, confirm=confirm)
        assert status == ExitStatus.UNAVAILABLE and "died on SIGHUP" in logged[0].message
        child = program(DIE_AFTER="0.3")


@pytest.mark.parametrize("how", ["exited", "zombie", "no such process"])
def test_a_dead_mainpid_is_said_to_be_not_running(
    tmp_path: Path, program: Callable[..., subprocess.Popen[str]], how: str
) -> None:
    """A zombie was signalled and reported as dying of the signal (69); a PID that no longer
    exists as running in no unit (77) (item 9). Either way: not running, 69, no signal."""
    child = program()
    child.kill()
    if how == "zombie":
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped
    else:
        child.wait()
    pid = child.pid if how != "no such process" else 2**22 - 1
    with pytest.raises(NotRunning, match="is not running"):
        reloaded(tmp_path, pid)
    assert NotRunning.status == ExitStatus.UNAVAILABLE


def test_the_cgroup_read_counts_only_for_the_process_the_pidfd_holds(
    tmp_path: Path, program: Callable[..., subprocess.Popen[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PID could exit and be reused between the same-unit check and the signal: now the
    pidfd is open first, and the process must still be alive after its cgroup was read
    (item 1). Here it exits just as its cgroup is read."""
    from golaunch.systemd import manager

    child = program()
    real = manager.own_unit

    def read_then_exit(path: str = "/proc/self/cgroup") -> manager.OwnUnit | None:
        found = real(path)
        if str(child.pid) in path:
            child.kill()
            child.wait()
        return found

    monkeypatch.setattr(manager, "own_unit", read_then_exit)
    with pytest.raises(NotRunning):
        reloaded(tmp_path, child.pid)


def test_another_units_program_is_never_signalled(
    tmp_path: Path, program: Callable[..., subprocess.Popen[str]]
) -> None:
    child = program(NO_HANDLER="1")
    proc = one_unit(tmp_path, child.pid)
    (Path(proc) / str(child.pid) / "cgroup").write_text("0::/system.slice/other.service\n")
    with pytest.raises(PermissionRefused, match=r"other\.service"):
        reload_program(ReloadConfig(), child.pid, print, print, deadline=Deadline(5), proc=proc)
    assert child.poll() is None  # still alive: no SIGHUP reached it


def test_a_huge_line_is_never_quoted_whole(
    tmp_path: Path, program: Callable[..., subprocess.Popen[str]], page: tuple[str, type[Page]]
) -> None:
    """A 7 MB line on the metrics page went into stderr and the journal, and the final
    STATUS= was too large to send (item 4)."""
    url, server = page
    huge = b"x" * (7 << 20) + b" {\n"
    server.script = lambda n, since: (b"HTTP/1.0 200 OK", huge)
    status, logged, said, _ = reloaded(tmp_path, program().pid, 3, confirm=f"metrics:{url}")
    assert status == ExitStatus.TEMPFAIL
    assert len(logged[0].message) < 1000 and all(len(s) < 1000 for s in said)


def test_the_deadline_holds_for_the_whole_command(
    tmp_path: Path, program: Callable[..., subprocess.Popen[str]], page: tuple[str, type[Page]]
) -> None:
    """Each look took up to a second and the deadline started at the signal: a timeout of
    3 s ended after 3.3 to 4.8 s (item 5). Here every answer takes 0.9 s."""
    url, server = page

    def slow(n: int, since: float) -> tuple[bytes, bytes]:
        time.sleep(0.9)
        return b"HTTP/1.0 200 OK", metrics(1, 1)

    server.script = slow
    status, _, _, took = reloaded(tmp_path, program().pid, 3, confirm=f"metrics:{url}")
    assert status == ExitStatus.TEMPFAIL and took < 3.0 + 0.2


def test_an_earlier_zero_is_never_the_rejection(
    tmp_path: Path, program: Callable[..., subprocess.Popen[str]], page: tuple[str, type[Page]]
) -> None:
    """The scrape before the signal failed (it took 1.5 s); the page said 0 from an earlier
    reload, then the reload succeeded 0.5 s later (item 6)."""
    url, server = page
    now = time.time()

    def script(n: int, since: float) -> tuple[bytes, bytes]:
        if n == 1:
            time.sleep(1.5)
        if since < 0.5:
            return b"HTTP/1.0 200 OK", metrics(0, now - 100)
        return b"HTTP/1.0 200 OK", metrics(1, time.time())

    server.script = script
    child = program()
    original = os.kill

    status, logged, _, _ = _with_signal_time(server, lambda: reloaded(
        tmp_path, child.pid, 10, confirm=f"metrics:{url}"
    ))  # fmt: skip
    del original
    assert (status, logged) == (0, [])


def _with_signal_time(
    server: type[Page], act: Callable[[], tuple[int, list[Finding], list[str], float]]
) -> tuple[int, list[Finding], list[str], float]:
    """ACT, with the page told when the signal went out."""
    real = signal.pidfd_send_signal

    def send(*args: object) -> None:
        server.signalled = time.monotonic()
        real(*args)  # type: ignore[arg-type]

    signal.pidfd_send_signal = send
    try:
        return act()
    finally:
        signal.pidfd_send_signal = real


def test_a_sidecars_metrics_never_confirm(
    tmp_path: Path, program: Callable[..., subprocess.Popen[str]], page: tuple[str, type[Page]]
) -> None:
    """A sidecar_ pair on the same page confirmed a reload the program ignored (item 7): the
    page must say which component is the program's, and then only it counts."""
    url, server = page
    ignored = metrics(1, 1) + metrics(1, time.time() + 10, "sidecar")
    server.script = lambda n, since: (b"HTTP/1.0 200 OK", ignored)
    status, logged, _, _ = reloaded(tmp_path, program().pid, 5, confirm=f"metrics:{url}")
    assert status == ExitStatus.CONFIG and "metrics:URL#COMPONENT" in logged[0].message
    chosen = f"metrics:{url}#prometheus"
    status, logged, _, _ = reloaded(tmp_path, program().pid, 3, confirm=chosen)
    assert status == ExitStatus.TEMPFAIL  # the program's own series never moved


@pytest.mark.parametrize(
    "answer",
    [b"HTTP/1.0 302 Found\r\nLocation: /elsewhere", b"HTTP/1.1 2000 OK"],
    ids=["redirect", "status-2000"],
)
def test_only_a_2xx_page_is_read(
    tmp_path: Path,
    program: Callable[..., subprocess.Popen[str]],
    page: tuple[str, type[Page]],
    answer: bytes,
) -> None:
    """A redirect's body was parsed as the metrics, and HTTP/1.1 2000 taken for 200."""
    url, server = page
    server.script = lambda n, since: (answer, metrics(1, time.time() + 10))
    status, _, _, _ = reloaded(tmp_path, program().pid, 2.5, confirm=f"metrics:{url}")
    assert status == ExitStatus.TEMPFAIL


def test_a_rejection_has_a_status_of_its_own(
    tmp_path: Path, program: Callable[..., subprocess.Popen[str]], page: tuple[str, type[Page]]
) -> None:
    """78 meant both "rejected" and "golaunch's settings are invalid": a rejection is 65."""
    url, server = page
    server.script = lambda n, since: (b"HTTP/1.0 200 OK", metrics(1 if n == 1 else 0, 1))
    status, logged, _, _ = reloaded(tmp_path, program().pid, 5, confirm=f"metrics:{url}")
    assert status == ExitStatus.DATAERR == 65 and "rejected" in logged[0].message


def test_sigterm_leaves_the_reloads_own_entry(
    tmp_path: Path, program: Callable[..., subprocess.Popen[str]], page: tuple[str, type[Page]]
) -> None:
    """systemd stopping golaunch first left no reload entry, and a message about a start
    (item 5): now the reload says it was stopped, and ends as the SIGTERM it was."""
    url, server = page
    server.script = lambda n, since: (b"HTTP/1.0 200 OK", metrics(1, 1))

    def terminated(signum: int, frame: object) -> None:
        raise Terminated

    child = program()
    logged: list[Finding] = []
    previous = signal.signal(signal.SIGALRM, terminated)
    signal.setitimer(signal.ITIMER_REAL, 1.5)
    try:
        with pytest.raises(Terminated, match="during --reload"):
            reload_program(
                ReloadConfig(confirm=f"metrics:{url}"), child.pid, print, logged.append,
                deadline=Deadline(30), proc=one_unit(tmp_path, child.pid),
            )  # fmt: skip
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    (entry,) = logged
    assert entry.check == "reload" and "stopped by SIGTERM" in entry.message
