"""Asking the service manager about the unit golaunch runs in: one module for it.

Through `systemctl show` as a subprocess, and only when a probe or the watchdog
is configured, so plain launches pay nothing: no D-Bus library on the launch
path. It is started when the host facts are gathered and read by the
ready-probe check, so it runs while the other checks do. As root, systemctl
reaches PID 1 through its private socket; as a User= service, through the
system bus (read-only property queries need no privilege).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import NamedTuple

PROPERTIES = ("NotifyAccess",)  # what the ready-probe check judges


class UnitView(NamedTuple):
    unit: str | None
    properties: dict[str, str]
    error: str | None  # why the manager could not be asked


def own_unit(cgroup_file: str = "/proc/self/cgroup") -> str | None:
    """The service unit this process runs in, from its cgroup path."""
    try:
        with open(cgroup_file, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "x", "")
        # The unified hierarchy (""), or systemd's named one on hybrid hosts.
        if controllers in ("", "name=systemd"):
            units = [part for part in path.split("/") if part.endswith(".service")]
            if units:
                return units[-1]
    return None


class PendingView:
    """A `systemctl show` started now and read when a check needs the answer, so it
    runs while the other checks do (systemctl takes about 10 ms to start and answer)."""

    def __init__(self, names: Sequence[str] = PROPERTIES) -> None:
        self.unit = own_unit()
        self.pid = 0
        self.fd = -1
        self.error = None if self.unit else "golaunch is not running in a service unit"
        self.view: UnitView | None = None
        if self.unit:
            self._start(self.unit, names)

    def _start(self, unit: str, names: Sequence[str]) -> None:
        argv = ["systemctl", "show", unit, *(f"--property={name}" for name in names)]
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, write_end, 1),
            (os.POSIX_SPAWN_DUP2, write_end, 2),
        ]
        try:
            self.pid = os.posix_spawnp("systemctl", argv, _environment(), file_actions=actions)
            self.fd = read_end
        except OSError as e:
            os.close(read_end)
            self.error = f"systemctl show {unit}: {e.strerror or e}"
        finally:
            os.close(write_end)

    def result(self, timeout: float = 5.0) -> UnitView:
        """The answer (once; later calls return the same)."""
        if self.view is None:
            self.view = self._collect(timeout)
        return self.view

    def _collect(self, timeout: float) -> UnitView:
        if self.fd < 0:
            return UnitView(self.unit, {}, self.error)
        output, finished = _read_until_eof(self.fd, timeout)
        os.close(self.fd)
        self.fd = -1
        if not finished:
            os.kill(self.pid, 9)
        _, status = os.waitpid(self.pid, 0)
        text = output.decode("utf-8", "replace")
        if not finished or os.waitstatus_to_exitcode(status) != 0:
            why = text.strip().splitlines()[-1:] or [f"no answer in {timeout:g} s"]
            self.error = f"systemctl show {self.unit}: {why[0]}"
            return UnitView(self.unit, {}, self.error)
        values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        return UnitView(self.unit, values, None)


def _environment() -> dict[str, str]:
    """systemctl's: no pager, and nothing of the service's own environment."""
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "SYSTEMD_PAGER": "",
    }


def _read_until_eof(fd: int, timeout: float) -> tuple[bytes, bool]:
    import select
    import time

    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    poll = select.poll()
    poll.register(fd, select.POLLIN | select.POLLHUP)
    while (left := deadline - time.monotonic()) > 0:
        if not poll.poll(int(left * 1000) + 1):
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
    return b"".join(chunks), False
