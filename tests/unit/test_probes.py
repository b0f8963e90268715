"""Probes: parsing every form and refusing the rest, one attempt each kind, the back-off,
the dependency gate's loop, and the checker's barrier."""

from __future__ import annotations

import array
import itertools
import os
import socket
import threading
from pathlib import Path

import pytest

from golaunch.checker import barrier
from golaunch.config.schema import WaitConfig
from golaunch.probes import Probe, attempt, backoff, parse_probe
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
