"""The sockets systemd passed in (LISTEN_FDS, sd_listen_fds(3)): fds 3 to 3+N-1, when
LISTEN_PID is this process. A connect-only probe (tcp://, unix://) aimed at one of them
proves nothing: the kernel completes the handshake for a listening socket whether or not
the program ever accepts."""

from __future__ import annotations

import os
from collections.abc import Mapping

from golaunch.syntax.probeurl import Probe

SD_LISTEN_FDS_START = 3


def passed_addresses(environ: Mapping[str, str], pid: int) -> list[object]:
    """getsockname() of each passed stream socket: (host, port[, ...]) or a path."""
    import socket

    from golaunch.syntax.pid import names_process

    count, owner = environ.get("LISTEN_FDS", ""), environ.get("LISTEN_PID", "")
    if not (count.isascii() and count.isdigit() and names_process(owner, pid)):
        return []
    addresses = []
    for fd in range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + min(int(count), 1024)):
        try:
            # A duplicate: closing the socket object must not close systemd's fd.
            with socket.socket(fileno=os.dup(fd)) as sock:
                if sock.type == socket.SOCK_STREAM:
                    addresses.append(sock.getsockname())
        except OSError:
            continue
    return addresses


def targets_passed_socket(probe: Probe, addresses: list[object]) -> bool:
    import ipaddress

    if probe.scheme == "unix":
        return any(address == probe.path for address in addresses)
    if probe.scheme != "tcp":
        return False  # http(s) needs an answer from the program itself
    for address in addresses:
        if not isinstance(address, tuple) or address[1] != probe.port:
            continue
        bound = ipaddress.ip_address(address[0].split("%")[0])
        try:
            target = ipaddress.ip_address(probe.host)
        except ValueError:
            return True  # a name: it may well resolve to the passed socket's address
        if bound.is_unspecified or bound == target:
            return True
    return False
