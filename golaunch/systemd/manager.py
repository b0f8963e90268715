"""Asking the service manager about the unit golaunch runs in: one module for it.

Through `systemctl show` as a subprocess, and only when a probe or the watchdog
is configured, so plain launches pay nothing: no D-Bus library on the launch
path. As root, systemctl reaches PID 1 through its private socket; as a User=
service, through the system bus (read-only property queries need no privilege).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

PROPERTIES = ("NotifyAccess", "TimeoutStartUSec", "WatchdogUSec")


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


def ask_manager(names: Sequence[str] = PROPERTIES, timeout: float = 5.0) -> UnitView:
    unit = own_unit()
    if unit is None:
        return UnitView(None, {}, "golaunch is not running in a service unit")
    import subprocess

    argv = ["systemctl", "show", unit, *(f"--property={name}" for name in names)]
    try:
        shown = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as e:
        return UnitView(unit, {}, f"systemctl show {unit}: {e}")
    if shown.returncode != 0:
        why = shown.stderr.strip().splitlines()[-1:] or [f"exit status {shown.returncode}"]
        return UnitView(unit, {}, f"systemctl show {unit}: {why[0]}")
    values = dict(line.split("=", 1) for line in shown.stdout.splitlines() if "=" in line)
    return UnitView(unit, values, None)
