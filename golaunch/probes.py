"""Probes: is a dependency there, is the program serving? One attempt, a verdict, no retry.

A probe is a URL:
- tcp://HOST:PORT: a TCP connect succeeds (IPv6 as tcp://[::1]:8080);
- http://HOST:PORT/PATH: a GET is answered with a status below 400 (no redirect is
  followed, no proxy variable honoured); https:// the same over TLS without
  certificate checks: a liveness signal, not a trust decision;
- unix:///PATH: a stream connect to the socket succeeds;
- file:///PATH: the file exists.
The retrying, its back-off and its deadlines belong to the callers (golaunch.wait
before the checks, golaunch.checker after exec).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NamedTuple

FORMS = "tcp://HOST:PORT, http://HOST:PORT/PATH, https://HOST:PORT/PATH, unix:///PATH, file:///PATH"


class Probe(NamedTuple):
    url: str
    scheme: str  # tcp, http, https, unix or file
    host: str  # tcp, http(s)
    port: int  # tcp, http(s)
    path: str  # the HTTP path, or the file or socket


def parse_probe(url: str) -> Probe:
    """The probe URL names, or ValueError saying what is wrong with it."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise ValueError(f"{url!r} is not a URL ({e}); write one of {FORMS}") from None
    scheme = parts.scheme
    if scheme in ("unix", "file"):
        if parts.netloc or not parts.path.startswith("/"):
            raise ValueError(f"{url!r} needs an absolute path: {scheme}:///run/app/...")
        return Probe(url, scheme, "", 0, parts.path)
    if scheme not in ("tcp", "http", "https"):
        raise ValueError(f"{url!r} is not a probe golaunch knows; write one of {FORMS}")
    if not parts.hostname:
        raise ValueError(f"{url!r} names no host; write one of {FORMS}")
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
        if port is None:
            raise ValueError(f"{url!r} names no port: tcp://HOST:PORT")
    if scheme == "tcp" and parts.path not in ("", "/"):
        raise ValueError(f"{url!r}: a tcp probe has no path")
    path = parts.path or "/"
    return Probe(
        url, scheme, parts.hostname, port, path + (f"?{parts.query}" if parts.query else "")
    )


def attempt(probe: Probe, timeout: float) -> str | None:
    """None when the probe succeeds now; else what went wrong, in a few words."""
    try:
        if probe.scheme == "file":
            return None if os.path.exists(probe.path) else f"{probe.path} does not exist"
        if probe.scheme == "tcp":
            return _connect((probe.host, probe.port), timeout)
        if probe.scheme == "unix":
            return _connect(probe.path, timeout)
        return _http(probe, timeout)
    except OSError as e:
        return e.strerror or str(e) or type(e).__name__


def _connect(address: object, timeout: float) -> str | None:
    import socket

    if isinstance(address, str):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
    else:
        socket.create_connection(address, timeout=timeout).close()  # type: ignore[arg-type]
    return None


def _http(probe: Probe, timeout: float) -> str | None:
    import http.client

    connection: http.client.HTTPConnection
    if probe.scheme == "https":
        import ssl

        context = ssl.create_default_context()
        context.check_hostname = False  # liveness, not trust (see the module docstring)
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(
            probe.host, probe.port, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection(probe.host, probe.port, timeout=timeout)
    try:
        connection.request("GET", probe.path, headers={"User-Agent": "golaunch-probe"})
        status = connection.getresponse().status
    except http.client.HTTPException as e:
        return f"not HTTP: {type(e).__name__}"
    finally:
        connection.close()
    return None if status < 400 else f"HTTP status {status}"


MAX_INTERVAL = 2.0  # back-off ceiling while not ready


def waiting_message(url: str, attempts: int, error: str, next_in: float | None) -> str:
    """STATUS= for a probe not answering yet; with NEXT_IN (seconds until the next attempt
    ends) also EXTEND_TIMEOUT_USEC=, so that our own deadline, not systemd's start
    timeout, decides."""
    from golaunch.systemd.notify import ascii_status

    message = ascii_status(f"STATUS=golaunch: waiting for {url} (attempt {attempts}: {error})")
    if next_in is not None:
        message += f"\nEXTEND_TIMEOUT_USEC={int((next_in + 5) * 1_000_000)}"
    return message


def backoff(interval: float) -> Iterator[float]:
    """The pauses between attempts: INTERVAL, doubling up to 2 s (or INTERVAL, if larger)."""
    while True:
        yield interval
        interval = max(min(interval * 2, MAX_INTERVAL), interval if interval > MAX_INTERVAL else 0)
