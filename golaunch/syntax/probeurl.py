"""Probe URLs: what a --wait-for or --ready-probe value must look like (parsing only).

A probe is a URL:
- tcp://HOST:PORT: a TCP connect succeeds (IPv6 as tcp://[::1]:8080);
- http://HOST:PORT/PATH, https://HOST:PORT/PATH: a GET is answered below 400;
- unix:///PATH: a stream connect to the socket succeeds;
- file:///PATH: the file exists.

What parses is what can be probed (golaunch.readiness.probes): a host is an IP
literal or an ASCII DNS name (RFC 1123 labels; no IDNA, whose encoder raises on
what urlsplit accepts), a port is 1 to 65535, a path is printable ASCII
(percent-encoded otherwise, as RFC 3986 says). A URL with a user or password is
refused: golaunch sends no credentials, and the URL is shown in STATUS=, the
journal and --check. Since a password may hold '/', '?' or '#', any '@' after
the scheme counts (a path's own is written %40), and a refusal shows the URL
without anything before its last '@' (`redact`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from urllib.parse import SplitResult

FORMS = "tcp://HOST:PORT, http://HOST:PORT/PATH, https://HOST:PORT/PATH, unix:///PATH, file:///PATH"


class Probe(NamedTuple):
    url: str
    scheme: str  # tcp, http, https, unix or file
    host: str  # tcp, http(s)
    port: int  # tcp, http(s)
    path: str  # the HTTP path, or the file or socket


def redact(url: str) -> str:
    """URL without the user and password it may carry, for every message that names it.
    A password may hold '/', '?' or '#' unencoded, so where the authority ends cannot be
    told: everything up to the last '@' goes (a path with an '@' loses more than it need)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url if "@" not in url else "***@" + url.rpartition("@")[2]
    if "@" not in rest:
        return url
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


def parse_probe(url: str) -> Probe:
    """The probe URL names, or ValueError saying what is wrong with it."""
    from urllib.parse import urlsplit

    shown = repr(redact(url))
    if "@" in url.partition("://")[2]:
        # A user and password, even one whose '/', '?' or '#' makes the rest look like a
        # path: refused, and never shown (a path's own @ is written %40).
        raise _carries_credentials(shown)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        # Python's own message quotes the URL's parts: never shown.
        why = "its port is not a number" if "[" not in url else "its host is not an address"
        raise ValueError(f"{shown} is not a URL ({why}); write one of {FORMS}") from None
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
    return _network_probe(url, parts, port, shown)


def _carries_credentials(shown: str) -> ValueError:
    return ValueError(
        f"{shown} carries a user or password: golaunch sends no credentials, and the URL "
        "is shown in STATUS=, the journal and --check; probe an endpoint that needs none "
        "(in a path, write @ as %40)"
    )


def _network_probe(url: str, parts: SplitResult, port: int | None, shown: str) -> Probe:
    """A tcp://, http:// or https:// probe, once its scheme is known."""
    scheme = parts.scheme
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


METRICS = "metrics:"  # --reload-confirm metrics:URL reads the reload metrics there
COMPONENT_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
COMPONENT_REST = COMPONENT_FIRST | frozenset("0123456789")


def split_component(what: str) -> tuple[str, str | None]:
    """metrics:URL#COMPONENT as (URL, COMPONENT); the fragment is never sent, as a URL's
    never is: it names which component's reload metrics on the page answer."""
    url, sep, component = what.removeprefix(METRICS).partition("#")
    return url, component if sep else None


def parse_confirm(what: str) -> Probe:
    """The probe to look at (for metrics:URL, the page); ValueError saying what is wrong."""
    if not what.startswith(METRICS):
        return parse_probe(what)
    if "@" in what:  # before the fragment is split off: a password may hold '#'
        raise _carries_credentials(repr(redact(what)))
    url, component = split_component(what)
    probe = parse_probe(url)
    if probe.scheme not in ("http", "https"):
        raise ValueError(f"{redact(what)!r}: metrics are read over http:// or https://")
    if component is not None and not (
        component[:1] in COMPONENT_FIRST and set(component) <= COMPONENT_REST
    ):
        raise ValueError(
            f"{redact(what)!r}: #{component[:40]} is not a metric name prefix such as "
            "prometheus or alertmanager"
        )
    return probe
