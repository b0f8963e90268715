"""Probes: is a dependency there, is the program serving? One attempt, a verdict, no retry.

The URL forms and what parses are golaunch.syntax.probeurl's. http:// follows no
redirect and honours no proxy variable; https:// checks no certificate: a
liveness signal, not a trust decision.

An attempt has one wall-clock deadline, checked before every receive: a server
that trickles one byte at a time cannot stretch it, and name resolution is
bounded too. Any failure, whatever raised it, is the attempt's verdict.
The retrying, its back-off and its deadlines belong to the callers
(golaunch.readiness.gate before the checks, golaunch.readiness.helper after exec).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from golaunch.syntax.probeurl import Probe

if TYPE_CHECKING:
    import socket

MAX_STATUS_LINE = 4096  # bytes read for "HTTP/1.1 200 OK"; the rest is never needed


def attempt(probe: Probe, timeout: float) -> str | None:
    """None when the probe succeeds within TIMEOUT seconds of wall-clock time; else what
    went wrong, in a few words. Never raises."""
    deadline = time.monotonic() + timeout
    try:
        if probe.scheme == "file":
            return None if os.path.exists(probe.path) else f"{probe.path} does not exist"
        if probe.scheme == "unix":
            _unix_connect(probe.path, deadline).close()
            return None
        sock = _tcp_connect(probe.host, probe.port, deadline)
        try:
            if probe.scheme == "tcp":
                return None
            return _http(probe, sock, deadline)
        finally:
            sock.close()
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except OSError as e:
        return e.strerror or str(e) or type(e).__name__
    except Exception as e:  # a probe's verdict, never a crash of the start or the helper
        return f"{type(e).__name__}: {e}"


def _budget(deadline: float) -> float:
    """Seconds left before DEADLINE for the next step of an attempt; TimeoutError if none."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _unix_connect(path: str, deadline: float) -> socket.socket:
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(_budget(deadline))
        sock.connect(path)
    except BaseException:
        sock.close()
        raise
    return sock


def _tcp_connect(host: str, port: int, deadline: float) -> socket.socket:
    import socket

    error: OSError = OSError("no address")
    for family, socktype, proto, _, address in _resolve(host, port, deadline):
        sock = socket.socket(family, socktype, proto)
        try:
            sock.settimeout(_budget(deadline))
            sock.connect(address)
            return sock
        except TimeoutError:
            sock.close()
            raise
        except OSError as e:
            sock.close()
            error = e
    raise error


def _resolve(host: str, port: int, deadline: float) -> list[tuple[Any, ...]]:
    """getaddrinfo, bounded: it has no timeout of its own (a resolver that does not answer
    holds it for its own retries), so a name is resolved in a thread that is left behind."""
    import socket

    flags = socket.AI_NUMERICHOST if _is_ip(host) else 0
    if flags:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=flags)
    import threading

    answer: list[Any] = []

    def resolve() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except Exception as e:  # handed to the caller below
            answer.append(e)

    thread = threading.Thread(target=resolve, daemon=True)
    thread.start()
    thread.join(_budget(deadline))
    if not answer:
        raise TimeoutError
    if isinstance(answer[0], BaseException):
        raise answer[0]
    return list(answer[0])


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _http(probe: Probe, sock: socket.socket, deadline: float) -> str | None:
    """One GET; the verdict is the status line's code, read within the deadline."""
    sock = _send_get(probe, sock, deadline, "HTTP/1.1", "Connection: close\r\n")
    received = b""
    while b"\r\n" not in received and len(received) < MAX_STATUS_LINE:
        sock.settimeout(_budget(deadline))
        chunk = sock.recv(MAX_STATUS_LINE - len(received))
        if not chunk:
            break
        received += chunk
    return _status_verdict(received)


def _send_get(
    probe: Probe, sock: socket.socket, deadline: float, version: str, extra: str
) -> socket.socket:
    """The GET of PROBE's path sent, over TLS for https://; the socket to read from."""
    if probe.scheme == "https":
        sock = _tls(sock, probe, deadline)
    host = f"[{probe.host}]" if ":" in probe.host else probe.host
    request = (
        f"GET {probe.path} {version}\r\nHost: {host}:{probe.port}\r\n"
        f"User-Agent: golaunch-probe\r\nAccept: */*\r\n{extra}\r\n"
    )
    sock.settimeout(_budget(deadline))
    sock.sendall(request.encode("ascii"))
    return sock


def _tls(sock: socket.socket, probe: Probe, deadline: float) -> socket.socket:
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # liveness, not trust (see the module docstring)
    context.verify_mode = ssl.CERT_NONE
    sock.settimeout(_budget(deadline))  # the handshake as a whole (CPython's deadline)
    return context.wrap_socket(sock, server_hostname=None if _is_ip(probe.host) else probe.host)


def _status_verdict(received: bytes, below: int = 400) -> str | None:
    """None when the status line's code is under BELOW (a probe: 400; a page to read: 300,
    since a redirect's body is not the page); else what was wrong, in a few words."""
    line = received.split(b"\r\n", 1)[0]
    version, _, rest = line.partition(b" ")
    code = rest.partition(b" ")[0]
    if not (version.startswith(b"HTTP/") and len(code) == 3 and code.isdigit()):
        return "not HTTP: no status line" if received else "not HTTP: the connection closed"
    status = int(code)
    return None if 100 <= status < below else f"HTTP status {status}"


def fetch(probe: Probe, timeout: float, limit: int) -> bytes:
    """The body of a GET of an http(s) PROBE answered 2xx, within TIMEOUT seconds of
    wall-clock time and LIMIT + 1 bytes (so a caller can tell "too large"); OSError or
    ValueError otherwise. HTTP/1.0, so that the answer is never chunked: it ends when
    the server closes."""
    deadline = time.monotonic() + timeout
    sock = _tcp_connect(probe.host, probe.port, deadline)
    try:
        sock = _send_get(probe, sock, deadline, "HTTP/1.0", "")
        received = bytearray()
        while len(received) <= limit + 4096:
            sock.settimeout(_budget(deadline))
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    finally:
        sock.close()
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    verdict = _status_verdict(head + b"\r\n", below=300)
    if verdict is not None:
        raise ValueError(verdict)
    return body[: limit + 1]


MAX_INTERVAL = 2.0  # back-off ceiling while not ready
EXTEND_SLACK = 5.0  # seconds added to each EXTEND_TIMEOUT_USEC= for the scheduling


def waiting_message(url: str, attempts: int, error: str, next_in: float | None) -> str:
    """STATUS= for a probe not answering yet; with NEXT_IN (seconds until the next round
    of attempts ends) also EXTEND_TIMEOUT_USEC=, so that our own deadline, not systemd's
    start timeout, decides."""
    from golaunch.systemd.notify import ascii_status

    message = ascii_status(f"STATUS=golaunch: waiting for {url} (attempt {attempts}: {error})")
    if next_in is not None:
        message += f"\nEXTEND_TIMEOUT_USEC={int((next_in + EXTEND_SLACK) * 1_000_000)}"
    return message


def backoff(interval: float) -> Iterator[float]:
    """The pauses between attempts: INTERVAL, doubling up to 2 s (or INTERVAL, if larger)."""
    while True:
        yield interval
        interval = max(min(interval * 2, MAX_INTERVAL), interval if interval > MAX_INTERVAL else 0)


class Schedule:
    """Attempts until an optional deadline, with back-off between them: the one way both
    the dependency gate and the readiness helper retry. Neither an attempt nor a pause
    runs past the deadline; TIMEOUT 0 means none (systemd's start timeout decides)."""

    def __init__(
        self,
        interval: float,
        attempt_timeout: float,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempt_timeout = attempt_timeout
        self.clock = clock
        self.deadline = clock() + timeout if timeout else None
        self.pauses = backoff(interval)

    def remaining(self) -> float:
        """Seconds until the deadline (infinite without one; 0 or less once passed)."""
        return float("inf") if self.deadline is None else self.deadline - self.clock()

    def attempt_budget(self, floor: float = 0.0) -> float:
        """How long the next attempt may take: its own timeout, within what is left, but
        not under FLOOR (a last attempt just before the deadline still gets a chance)."""
        return max(floor, min(self.attempt_timeout, self.remaining()))

    def next_pause(self) -> float:
        """The back-off's next pause, cut short at the deadline."""
        return min(next(self.pauses), max(0.0, self.remaining()))
