"""Probes: parsing every form and refusing the rest, one attempt each kind, the back-off,
the dependency gate's loop, and the checker's barrier."""

from __future__ import annotations

import array
import itertools
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golaunch.checker import Checker
from golaunch.config.schema import WaitConfig
from golaunch.probes import Probe, attempt, backoff, parse_probe, redact
from golaunch.systemd.notify import barrier
from golaunch.wait import wait_for


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("tcp://127.0.0.1:8080", ("tcp", "127.0.0.1", 8080, "/")),
        ("tcp://[::1]:8080", ("tcp", "::1", 8080, "/")),
        ("http://localhost:9100/metrics", ("http", "localhost", 9100, "/metrics")),
        ("http://localhost/health?deep=1", ("http", "localhost", 80, "/health?deep=1")),
        ("https://app.internal/health", ("https", "app.internal", 443, "/health")),
        ("unix:///run/app/app.sock", ("unix", "", 0, "/run/app/app.sock")),
        ("file:///run/app/ready", ("file", "", 0, "/run/app/ready")),
    ],
)
def test_every_documented_form_parses(url: str, expected: tuple[str, str, int, str]) -> None:
    assert parse_probe(url) == Probe(url, *expected)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://host/x", "is not a probe golaunch knows"),
        ("127.0.0.1:8080", "is not a probe golaunch knows"),
        ("tcp://127.0.0.1", "names no port"),
        ("tcp://:80", "names no host"),
        ("tcp://host:80/path", "a tcp probe has no path"),
        ("tcp://host:99999", "is not a URL"),
        ("unix://relative/sock", "needs an absolute path"),
        ("file://host/run/x", "needs an absolute path"),
        ("exec:///bin/true", "is not a probe golaunch knows"),
    ],
)
def test_anything_else_says_what_is_allowed(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_probe(url)


def test_backoff_doubles_to_two_seconds() -> None:
    assert list(itertools.islice(backoff(0.2), 6)) == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    assert list(itertools.islice(backoff(5), 2)) == [5, 5]


def test_attempts_of_each_kind(tmp_path: Path) -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        assert attempt(parse_probe(f"tcp://127.0.0.1:{port}"), 1) is None
    assert "refused" in (attempt(parse_probe(f"tcp://127.0.0.1:{port}"), 1) or "")
    path = tmp_path / "app.sock"
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(path))
        listening.listen()
        assert attempt(parse_probe(f"unix://{path}"), 1) is None
    ready = tmp_path / "ready"
    assert attempt(parse_probe(f"file://{ready}"), 1) == f"{ready} does not exist"
    ready.touch()
    assert attempt(parse_probe(f"file://{ready}"), 1) is None


@pytest.mark.parametrize(
    ("status", "verdict"), [(200, None), (302, None), (503, "HTTP status 503")]
)
def test_http_takes_a_status_below_400(status: int, verdict: str | None) -> None:
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Location", "http://127.0.0.1:1/")  # never followed
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    port = server.server_address[1]
    assert attempt(parse_probe(f"http://127.0.0.1:{port}/health"), 2) == verdict
    thread.join()
    server.server_close()


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_gate_gives_up_at_its_deadline_and_says_why(tmp_path: Path) -> None:
    fake, sent = FakeTime(), []
    url = f"file://{tmp_path / 'never'}"
    finding = wait_for(
        WaitConfig((url,), timeout=3), 0.2, 1, sent.append, clock=fake.clock, sleep=fake.sleep
    )
    assert finding is not None and finding.check == "wait"
    assert finding.fields["GOLAUNCH_PROBE"] == url and int(finding.fields["GOLAUNCH_ATTEMPTS"]) > 3
    assert 3 <= fake.now <= 3.01
    assert all("EXTEND_TIMEOUT_USEC=" in message for message in sent)
    assert sent[0].startswith(f"STATUS=golaunch: waiting for {url} (attempt 1:")


def test_the_gate_opens_once_every_probe_succeeds(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.touch()
    fake = FakeTime()

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        if fake.now > 1:
            second.touch()

    config = WaitConfig((f"file://{first}", f"file://{second}"))  # no timeout: no EXTEND
    sent: list[str] = []
    assert wait_for(config, 0.2, 1, sent.append, clock=fake.clock, sleep=sleep) is None
    assert sent and not any("EXTEND" in m for m in sent)


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


# --- what the hostile review found: every URL either refuses or probes, never raises ------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("tcp://a..b:80", "is not a host name"),
        (f"tcp://{'a' * 64}.example:80", "is not a host name"),
        ("http://städte.example/", "is not a host name"),
        ("http://host/städte", "percent-encode"),
        ("http://h/a b", "percent-encode"),
        ("tcp://[::1]:0", "port 0 is not one a server listens on"),
        ("tcp://[zz::1]:80", "does not appear to be an IPv4 or IPv6 address"),
        ("http://h/#frag", "#fragment"),
        ("http://-bad-.example/", "is not a host name"),
        ("file:///run/a\0b", "NUL"),
    ],
)
def test_urls_that_would_crash_a_probe_are_refused(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_probe(url)


@pytest.mark.parametrize(
    "url", ["http://probe:S3cr3t@host/health", "tcp://user@host:80", "https://:S3cr3t@h/"]
)
def test_a_user_or_password_is_refused_and_never_repeated(url: str) -> None:
    with pytest.raises(ValueError, match="carries a user or password") as refused:
        parse_probe(url)
    assert "S3cr3t" not in str(refused.value) and "probe:" not in str(refused.value)
    assert redact(url).count("***@") == 1 and "S3cr3t" not in redact(url)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(),
        st.builds(
            "{}://{}{}".format,
            st.sampled_from(["tcp", "http", "https", "unix", "file", "ftp", ""]),
            st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30),
            st.text(max_size=20),
        ),
    )
)
def test_any_string_either_refuses_or_probes_without_raising(url: str) -> None:
    """The property the launch path depends on: no URL that validates can make an
    attempt raise (which would be exit 70 at launch, or a dead checker)."""
    try:
        probe = parse_probe(url)
    except ValueError:
        return
    if probe.scheme in ("tcp", "http", "https"):
        # Nothing leaves this machine: the attempt is aimed at a closed local port.
        probe = probe._replace(host="127.0.0.1", port=9)
    verdict = attempt(probe, 0.2)
    assert verdict is None or isinstance(verdict, str)


class Trickle:
    """A server that accepts, then sends one byte every INTERVAL seconds: each recv
    returns in time, and an attempt bounded only per operation never ends."""

    def __init__(self, interval: float = 0.3) -> None:
        self.listening = socket.socket()
        self.listening.bind(("127.0.0.1", 0))
        self.listening.listen()
        self.port = self.listening.getsockname()[1]
        self.interval = interval
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listening.accept()
            except OSError:
                return
            threading.Thread(target=self.drip, args=(connection,), daemon=True).start()

    def drip(self, connection: socket.socket) -> None:
        with connection:
            while not self.stop.wait(self.interval):
                try:
                    connection.send(b"H")
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.listening.close()


@pytest.fixture
def trickle() -> Iterator[Trickle]:
    server = Trickle()
    yield server
    server.close()


def test_an_attempt_has_one_wall_clock_deadline(trickle: Trickle) -> None:
    started = time.monotonic()
    verdict = attempt(parse_probe(f"http://127.0.0.1:{trickle.port}/"), 1.0)
    assert time.monotonic() - started < 1.5
    assert verdict == "no answer within 1 s"


def test_name_resolution_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    def hangs(*args: object, **kwargs: object) -> list[object]:
        time.sleep(5)
        return []

    monkeypatch.setattr(socket, "getaddrinfo", hangs)
    started = time.monotonic()
    assert attempt(parse_probe("tcp://resolver.example:80"), 0.3) == "no answer within 0.3 s"
    assert time.monotonic() - started < 1.0


def test_the_gate_keeps_its_deadline_against_a_trickling_server(trickle: Trickle) -> None:
    url = f"http://127.0.0.1:{trickle.port}/"
    started = time.monotonic()
    finding = wait_for(WaitConfig((url,), timeout=2), 0.2, 4, None)
    assert finding is not None and time.monotonic() - started < 2.6, finding


def test_several_probes_never_outrun_their_extension(tmp_path: Path) -> None:
    """EXTEND_TIMEOUT_USEC= promises the next round: the pause and an attempt per probe."""
    fake, sent, marks = FakeTime(), [], []
    urls = tuple(f"file://{tmp_path / name}" for name in "abc")

    def notify(message: str) -> None:
        sent.append(message)
        marks.append(fake.now)

    def slow_attempt(probe: Probe, timeout: float) -> str:
        fake.now += timeout  # each silent probe takes its whole attempt timeout
        return "silent"

    import golaunch.wait

    original = golaunch.wait.attempt
    golaunch.wait.attempt = slow_attempt  # type: ignore[assignment]
    try:
        wait_for(WaitConfig(urls, timeout=60), 0.2, 4, notify, clock=fake.clock, sleep=fake.sleep)
    finally:
        golaunch.wait.attempt = original
    promised = [int(m.rsplit("EXTEND_TIMEOUT_USEC=", 1)[1]) / 1e6 for m in sent]
    gaps = [later - earlier for earlier, later in itertools.pairwise(marks)]
    assert gaps and all(gap <= promise for gap, promise in zip(gaps, promised, strict=False))


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
        checker = Checker(spec, lambda message: None)
        started = time.monotonic()
        ready, _, error = checker.until_ready()
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
    from golaunch.checker import run

    manager = Manager(tmp_path / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    program = subprocess.Popen(["sleep", "30"])
    pidfd = os.pidfd_open(program.pid)
    base = {"interval": 0.05, "attempt_timeout": 0.2, "timeout": 0, "watchdog": False}
    base |= {"watchdog_usec": 0, "program": "/app", "log_target": "stderr", "pidfd": pidfd}
    try:
        status = run({**base, **spec})
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
    """A listener systemd passed in (LISTEN_FDS) stays with the program only: a checker
    holding it would let the kernel answer a tcp probe for a program that serves nothing."""
    import json
    import sys

    listening = socket.socket()
    listening.set_inheritable(True)
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    script = (
        "import os, sys; from golaunch.checker import close_inherited_fds as c; "
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
