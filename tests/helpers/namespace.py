"""Run golaunch in a private mount namespace with a journal socket of the test's choosing.

`unshare --mount` gives the child its own mounts, so the test can put a tmpfs
on /run, bind a socket at /run/systemd/journal/socket that refuses or never
reads, or mount a small or read-only filesystem, without touching the host.
This file is both the test-side API (`run_isolated`) and the script run
inside the namespace (`python tests/helpers/namespace.py SPEC`).
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

JOURNAL_SOCKET = "/run/systemd/journal/socket"


@dataclass(frozen=True)
class Isolated:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    entries: list[dict[str, str]]  # what golaunch sent to the journal socket, parsed


def run_isolated(
    argv: Sequence[str],
    env: Mapping[str, str],
    journal: str = "absent",
    mounts: Sequence[tuple[str, str, str]] = (),
    setup: Sequence[Sequence[str]] = (),
) -> Isolated:
    """ARGV in a namespace whose /run is empty but for a journal socket per JOURNAL:
    absent, refusing (a socket file nobody is bound to), full (bound, its queue
    filled, never read), or reading (bound; what arrives is returned).
    MOUNTS are (fstype, options, target), mounted after /run; targets are created.
    SETUP commands run next; their exit status is not checked (dd filling a disk fails)."""
    spec = {
        "argv": list(argv),
        "env": dict(env),
        "journal": journal,
        "mounts": list(mounts),
        "setup": [list(command) for command in setup],
    }
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", sys.executable, __file__],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"namespace setup failed: {result.stderr}")
    return Isolated(**json.loads(result.stdout))


def _journal_socket(mode: str) -> socket.socket | None:
    os.makedirs(os.path.dirname(JOURNAL_SOCKET))
    if mode == "absent":
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(JOURNAL_SOCKET)
    if mode == "refusing":
        sock.close()  # the file stays; connecting to it is refused
        return None
    if mode == "full":
        fill_datagram_queue(sock.getsockname())
    return sock


def fill_datagram_queue(address: str | bytes) -> list[socket.socket]:
    """Queue datagrams until the receiver's queue (net.unix.max_dgram_qlen) is full.

    A sender's queued datagrams count against its own send buffer, so one
    sender runs dry first; the queue is full when a fresh sender cannot add one."""
    fillers = []
    while True:
        filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        filler.setblocking(False)
        fillers.append(filler)
        sent = 0
        try:
            while True:
                filler.sendto(b"MESSAGE=filler\n", address)
                sent += 1
        except BlockingIOError:
            if sent == 0:
                return fillers  # closing them would not unqueue their datagrams


def _parse_entry(data: bytes) -> dict[str, str]:
    """The journal's native protocol: KEY=value lines, or KEY, a 64-bit LE size, the value."""
    fields: dict[str, str] = {}
    while data:
        line, newline, rest = data.partition(b"\n")
        if b"=" in line:
            key, _, value = line.partition(b"=")
            data = rest
        else:
            (size,) = struct.unpack("<Q", rest[:8])
            key, value, data = line, rest[8 : 8 + size], rest[8 + size + 1 :]
        fields[key.decode()] = value.decode()
        assert newline
    return fields


def _inside() -> None:
    spec = json.loads(sys.stdin.read())
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    for fstype, options, target in spec["mounts"]:
        os.makedirs(target, exist_ok=True)
        subprocess.run(["mount", "-t", fstype, "-o", options, fstype, target], check=True)
    for command in spec["setup"]:
        subprocess.run(command, capture_output=True, check=False)
    sock = _journal_socket(spec["journal"])
    start = time.monotonic()
    run = subprocess.run(
        spec["argv"], env=spec["env"], capture_output=True, text=True, timeout=90, check=False
    )
    seconds = time.monotonic() - start
    entries = []
    if sock is not None and spec["journal"] == "reading":
        sock.setblocking(False)
        try:
            while True:
                entries.append(_parse_entry(sock.recv(1 << 20)))
        except BlockingIOError:
            pass
    result = Isolated(run.returncode, run.stdout, run.stderr, seconds, entries)
    print(json.dumps(result.__dict__))


if __name__ == "__main__":
    _inside()
