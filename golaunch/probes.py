"""Probes: is a dependency there, is the program serving? One attempt, a verdict, no retry.

A probe is a URL:
- tcp://HOST:PORT: a TCP connect succeeds (IPv6 as tcp://[::1]:8080);
- http://HOST:PORT/PATH: a GET is answered with a status below 400 (no redirect is
  followed, no proxy variable honoured); https:// the same over TLS without
  certificate checks: a liveness signal, not a trust decision;
- unix:///PATH: a stream connect to the socket succeeds;
- file:///PATH: the file exists.

What parses is what can be probed: a host is an IP literal or an ASCII DNS name
(RFC 1123 labels; no IDNA, whose encoder raises on what urlsplit accepts), a port
is 1 to 65535, a path is printable ASCII (percent-encoded otherwise, as RFC 3986
says). A URL with a user or password is refused: golaunch sends no credentials,
and the URL is shown in STATUS=, the journal and --check.

An attempt has one wall-clock deadline, checked before every receive: a server
that trickles one byte at a time cannot stretch it, and name resolution is
bounded too. Any failure, whatever raised it, is the attempt's verdict.
The retrying, its back-off and its deadlines belong to the callers (golaunch.wait
before the checks, golaunch.checker after exec).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import socket

FORMS = "tcp://HOST:PORT, http://HOST:PORT/PATH, https://HOST:PORT/PATH, unix:///PATH, file:///PATH"
MAX_STATUS_LINE = 4096  # bytes read for "HTTP/1.1 200 OK"; the rest is never needed


class Probe(NamedTuple):
    url: str
    scheme: str  # tcp, http, https, unix or file
    host: str  # tcp, http(s)
    port: int  # tcp, http(s)
    path: str  # the HTTP path, or the file or socket


def redact(url: str) -> str:
    """URL without the user and password it may carry, for every message that names it."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "@" not in authority:
        return url
    return f"{scheme}://***@{authority.rpartition('@')[2]}{slash}{tail}"


def parse_probe(url: str) -> Probe:
    """The probe URL names, or ValueError saying what is wrong with it."""
    from urllib.parse import urlsplit

    shown = repr(redact(url))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise ValueError(f"{shown} is not a URL ({e}); write one of {FORMS}") from None
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            f"{shown} carries a user or password: golaunch sends no credentials, and the URL "
            "is shown in STATUS=, the journal and --check; probe an endpoint that needs none"
        )
    if parts.fragment or "#" in url:
        raise ValueError(f"{shown} has a #fragment, which a probe never sends; drop it")
    scheme = parts.scheme
    if scheme in ("unix", "file"):
        if parts.netloc or not parts.path.startswith("/"):
            raise ValueError(f"{shown} needs an absolute path: {scheme}:///run/app/...")
        if "\0" in parts.path:
            raise ValueError(f"{shown}: a path cannot contain a NUL byte")
        return Probe(url, scheme, "", 0, parts.path)
    if scheme not in ("tcp", "http", "https"):
        raise ValueError(f"{shown} is not a probe golaunch knows; write one of {FORMS}")
    host = _host(parts.hostname, parts.netloc, shown)
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
        if port is None:
            raise ValueError(f"{shown} names no port: tcp://HOST:PORT")
    if not 1 <= port <= 65535:
        raise ValueError(f"{shown}: port {port} is not one a server listens on (1 to 65535)")
    if scheme == "tcp" and (parts.path not in ("", "/") or parts.query):
        raise ValueError(f"{shown}: a tcp probe has no path")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not all("!" <= c <= "~" for c in path):
        raise ValueError(
            f"{shown}: the path must be printable ASCII without spaces; percent-encode the "
            "rest (a space is %20, ä is %C3%A4)"
        )
    return Probe(url, scheme, host, port, path)


def _host(host: str | None, netloc: str, shown: str) -> str:
    """HOST as given, if it is an IP literal or an ASCII DNS name; else ValueError."""
    import ipaddress

    if not host:
        raise ValueError(f"{shown} names no host; write one of {FORMS}")
    if netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{shown}: [{host}] is not an IPv6 address") from None
        return host
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or not all(_is_label(label) for label in labels):
        raise ValueError(
            f"{shown}: {host!r} is not a host name (ASCII letters, digits and '-', labels of "
            "1 to 63 characters; an international name in its xn-- form) or an IP address"
        )
    return host


def _is_label(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label.isascii()
        and label.replace("-", "").isalnum()
        and not label.startswith("-")
        and not label.endswith("-")
    )


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
    except Exception as e:  # a probe's verdict, never a crash of the start or the checker
        return f"{type(e).__name__}: {e}"


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _unix_connect(path: str, deadline: float) -> socket.socket:
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(_left(deadline))
        sock.connect(path)
    except BaseException:
        sock.close()
        raise
    return sock


def _tcp_connect(host: str, port: int, deadline: float) -> socket.socket:
    import socket

    error: OSError = OSError("no address")
    for family, kind, proto, _, address in _resolve(host, port, deadline):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(_left(deadline))
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
    thread.join(_left(deadline))
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
    if probe.scheme == "https":
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False  # liveness, not trust (see the module docstring)
        context.verify_mode = ssl.CERT_NONE
        sock.settimeout(_left(deadline))  # the handshake as a whole (CPython's deadline)
        sock = context.wrap_socket(sock, server_hostname=None if _is_ip(probe.host) else probe.host)
    host = f"[{probe.host}]" if ":" in probe.host else probe.host
    request = (
        f"GET {probe.path} HTTP/1.1\r\nHost: {host}:{probe.port}\r\n"
        "User-Agent: golaunch-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )
    sock.settimeout(_left(deadline))
    sock.sendall(request.encode("ascii"))
    received = b""
    while b"\r\n" not in received and len(received) < MAX_STATUS_LINE:
        sock.settimeout(_left(deadline))
        chunk = sock.recv(MAX_STATUS_LINE - len(received))
        if not chunk:
            break
        received += chunk
    return _status_verdict(received)


def _status_verdict(received: bytes) -> str | None:
    line = received.split(b"\r\n", 1)[0]
    version, _, rest = line.partition(b" ")
    code = rest[:3]
    if not (version.startswith(b"HTTP/") and len(code) == 3 and code.isdigit()):
        return "not HTTP: no status line" if received else "not HTTP: the connection closed"
    status = int(code)
    return None if status < 400 else f"HTTP status {status}"


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
