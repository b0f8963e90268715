"""One attempt of each kind of probe, its one wall-clock deadline, and the back-off."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from pathlib import Path

import pytest

from golaunch.readiness.probes import attempt, backoff
from golaunch.syntax.probeurl import parse_probe
from tests.helpers.servers import Trickle


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
