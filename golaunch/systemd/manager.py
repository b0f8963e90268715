"""Asking the service manager about units: one module for it.

About the unit golaunch runs in (for a probe), through `systemctl show` as a
subprocess, and only when a probe or the watchdog is configured, so plain
launches pay nothing: no D-Bus library on the launch
path. It is started when the host facts are gathered and read by the
ready-probe check, so it runs while the other checks do. As root, systemctl
reaches PID 1 through its private socket; as a User= service, through the
system bus (read-only property queries need no privilege).

About any unit (`--check --unit`, `--all-units`), over the system bus with
jeepney: the exact argv of ExecStart= and typed values, which `systemctl show`
flattens into text.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any, NamedTuple

from golaunch.config.plain import DEFAULT_PATH
from golaunch.status import ManagerUnavailable, UsageError

PROPERTIES = ("NotifyAccess", "Type")  # what the ready-probe and notify checks judge
# What makes the answer trustworthy: `systemctl show` exits 0 for a unit it does not
# know, with every property at its default (NotifyAccess=none).
IDENTITY = ("LoadState", "MainPID")


class UnitView(NamedTuple):
    unit: str | None
    properties: dict[str, str]
    error: str | None  # why the manager could not be asked


class OwnUnit(NamedTuple):
    name: str
    user_manager: int | None  # the uid whose user@UID.service manages it; None: PID 1


def own_unit(cgroup_file: str = "/proc/self/cgroup") -> OwnUnit | None:
    """The service unit this process runs in, and which manager owns it, from its cgroup."""
    try:
        with open(cgroup_file, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "x", "")
        # The unified hierarchy (""), or systemd's named one on hybrid hosts.
        if controllers in ("", "name=systemd"):
            return _unit_of([part for part in path.split("/") if part])
    return None


def _unit_of(parts: list[str]) -> OwnUnit | None:
    """The service a cgroup path is in: the first *.service below the slices, and inside a
    user@UID.service the first below that manager's own slices. What lies below a service
    is its own (with Delegate=yes it may make sub-cgroups, one named other.service too)."""
    first = next((i for i, p in enumerate(parts) if not p.endswith(".slice")), len(parts))
    if first == len(parts) or not parts[first].endswith(".service"):
        return None
    unit = parts[first]
    uid = unit.removeprefix("user@").removesuffix(".service")
    if unit.startswith("user@") and uid.isdigit():
        inner = next((p for p in parts[first + 1 :] if not p.endswith(".slice")), "")
        if inner.endswith(".service"):
            return OwnUnit(inner, int(uid))
    return OwnUnit(unit, None)


def own_start_timeout() -> float | None:
    """The TimeoutStartSec= of the unit golaunch runs in, in seconds (0: none), which also
    bounds its ExecReload=; None when it cannot be asked. Through `systemctl show`, as for
    a probe: as root it needs no bus."""
    import subprocess

    own = own_unit()
    if own is None:
        return None
    scope = ["--user"] if own.user_manager is not None else []
    argv = ["systemctl", *scope, "show", own.name, "--property=TimeoutStartUSec"]
    try:
        shown = subprocess.run(
            argv, capture_output=True, text=True, timeout=2, check=True,
            env=_environment(own.user_manager),
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return timespan(shown.strip().removeprefix("TimeoutStartUSec="))


_TIMESPAN_UNITS = {
    "us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0,
    "w": 604800.0, "month": 2629800.0, "y": 31557600.0,
}  # fmt: skip


def timespan(text: str) -> float | None:
    """Seconds in a span as systemctl shows one ("1min 30.500000s", "250ms"); 0 for
    "infinity" (no timeout); None for anything else."""
    if text == "infinity":
        return 0.0
    total = 0.0
    for word in text.split():
        number = word.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = _TIMESPAN_UNITS.get(word[len(number) :])
        try:
            total += float(number) * unit if unit is not None else math.nan
        except ValueError:
            return None
    return total if text and math.isfinite(total) else None


class PendingView:
    """A `systemctl show` started now and read when a check needs the answer, so it
    runs while the other checks do (systemctl takes about 10 ms to start and answer).

    It asks the manager that owns the unit (a user@UID.service's for a user service),
    and the answer counts only when that unit is loaded and its main process is
    golaunch itself: run from inside another service, golaunch is not the unit's."""

    def __init__(self, names: Sequence[str] = PROPERTIES, pid: int | None = None) -> None:
        self.own = own_unit()
        self.unit = self.own.name if self.own else None
        self.pid = 0
        self.fd = -1
        self.golaunch = os.getpid() if pid is None else pid
        self.error = None if self.own else "golaunch is not running in a service unit"
        self.view: UnitView | None = None
        self.version: int | None = None
        self.version_asked = False
        if self.own:
            properties = (f"--property={n}" for n in (*names, *IDENTITY))
            try:
                self.pid, self.fd = _spawn_systemctl(self.own, ["show", self.own.name, *properties])
            except OSError as e:
                self.error = f"systemctl show {self.own.name}: {e.strerror or e}"

    def result(self, timeout: float = 5.0) -> UnitView:
        """The answer (once; later calls return the same)."""
        if self.view is None:
            self.view = self._collect(timeout)
        return self.view

    def manager_version(self, timeout: float = 5.0) -> int | None:
        """The major version of the unit's manager; None when it cannot be asked. Asked
        once, and only when a check needs it, so most starts spawn one systemctl, not two."""
        if self.own is not None and not self.version_asked:
            self.version_asked = True
            try:
                pid, fd = _spawn_systemctl(self.own, ["show", "--property=Version"])
            except OSError:
                return None
            text, error = _collect_output(pid, fd, timeout)
            self.version = None if error else major_version(text.strip().removeprefix("Version="))
        return self.version

    def _collect(self, timeout: float) -> UnitView:
        if self.fd < 0:
            return UnitView(self.unit, {}, self.error)
        text, error = _collect_output(self.pid, self.fd, timeout)
        self.fd = -1
        if error:
            self.error = f"systemctl show {self.unit}: {error}"
            return UnitView(self.unit, {}, self.error)
        values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        self.error = _untrusted(self.unit, values, self.golaunch)
        return UnitView(self.unit, {} if self.error else values, self.error)


def major_version(text: str) -> int | None:
    """A manager's major version from its Version property ("257.9-1~deb13u1" is 257)."""
    digits = text[: len(text) - len(text.lstrip("0123456789"))]
    return int(digits) if digits else None


def _spawn_systemctl(own: OwnUnit, args: Sequence[str]) -> tuple[int, int]:
    """systemctl ARGS against OWN's manager, started: its PID and the read end of its
    output (stdout and stderr)."""
    scope = ["--user"] if own.user_manager is not None else []
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, write_end, 1),
        (os.POSIX_SPAWN_DUP2, write_end, 2),
    ]
    try:
        environment = _environment(own.user_manager)
        pid = os.posix_spawnp("systemctl", ["systemctl", *scope, *args], environment,
                              file_actions=actions)  # fmt: skip
    except OSError:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    return pid, read_end


def _collect_output(pid: int, fd: int, timeout: float) -> tuple[str, str | None]:
    """A spawned systemctl's output, and why it failed (its last line) if it did."""
    output, finished = _read_until_eof(fd, timeout)
    os.close(fd)
    if not finished:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    text = output.decode("utf-8", "replace")
    if not finished or os.waitstatus_to_exitcode(status) != 0:
        why = text.strip().splitlines()[-1:] or [f"no answer in {timeout:g} s"]
        return text, why[0]
    return text, None


def _untrusted(unit: str | None, values: dict[str, str], golaunch: int) -> str | None:
    """Why VALUES do not describe the unit golaunch is the main process of, if they do not."""
    if values.get("LoadState") != "loaded":
        return f"the manager does not know {unit} (LoadState={values.get('LoadState', '')})"
    if values.get("MainPID") != str(golaunch):
        return (
            f"{unit}'s main process is PID {values.get('MainPID', '?')}, not golaunch "
            f"(PID {golaunch}): golaunch runs inside another service, whose settings do not "
            "apply"
        )
    return None


def _environment(user_manager: int | None) -> dict[str, str]:
    """systemctl's: no pager, nothing of the service's own environment, and for a user
    manager the runtime directory where its private socket is."""
    environment = {
        "PATH": DEFAULT_PATH,
        "SYSTEMD_PAGER": "",
    }
    if user_manager is not None:
        environment["XDG_RUNTIME_DIR"] = f"/run/user/{user_manager}"
    return environment


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


class KnownView:
    """A unit's settings already known (golaunch --check --unit asked over D-Bus)."""

    def __init__(self, view: UnitView, version: int | None) -> None:
        self.view = view
        self.version = version

    def result(self, timeout: float = 5.0) -> UnitView:
        return self.view

    def manager_version(self, timeout: float = 5.0) -> int | None:
        return self.version


# --- D-Bus, for --check --unit and --all-units (never on the launch path) ---------------

BUS = "/run/dbus/system_bus_socket"
SYSTEMD = "org.freedesktop.systemd1"
NO_LIMIT = 2**64 - 1  # systemd's "infinity" for a usec or byte setting


class ServiceUnit(NamedTuple):
    name: str
    main_pid: int  # 0 when it is not running
    exec_start: list[tuple[str, list[str]]]  # (path, argv) of each ExecStart= command
    service: dict[str, Any]  # org.freedesktop.systemd1.Service properties, unwrapped


class UserManager(NamedTuple):
    """A user's own service manager (user@UID.service, systemd --user)."""

    uid: int
    gid: int
    name: str
    home: str
    shell: str

    @property
    def runtime(self) -> str:
        """$XDG_RUNTIME_DIR, where its bus, notify socket and credentials are."""
        return f"/run/user/{self.uid}"

    @property
    def label(self) -> str:
        return f"{self.name}'s service manager (user@{self.uid}.service)"


class Manager:
    """PID 1 over the system bus, or USER's manager over that user's bus (jeepney, imported
    only here): read-only queries."""

    def __init__(self, user: UserManager | None = None) -> None:
        from jeepney.io.blocking import open_dbus_connection

        self._version: int | None = None
        self.user = user
        bus = f"{user.runtime}/bus" if user else BUS
        try:
            self.connection = open_dbus_connection(bus=f"unix:path={bus}" if user else "SYSTEM")
        except (OSError, ValueError) as e:
            why = getattr(e, "strerror", None) or e
            if user:
                raise ManagerUnavailable(
                    f"cannot reach {user.label} over its bus ({bus}): {why}; is it running "
                    "(loginctl enable-linger, or a login), with dbus-user-session installed?"
                ) from None
            raise ManagerUnavailable(
                f"cannot reach the service manager over the system bus ({BUS}): {why}; is "
                "dbus running?"
            ) from None

    def _call(self, path: str, interface: str, method: str, signature: str, *args: Any) -> Any:
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import DBusErrorResponse, unwrap_msg

        address = DBusAddress(path, bus_name=SYSTEMD, interface=interface)
        try:
            reply = self.connection.send_and_get_reply(
                new_method_call(address, method, signature, args), timeout=30
            )
        except (OSError, TimeoutError) as e:
            raise ManagerUnavailable(f"the service manager did not answer {method}: {e}") from None
        try:
            return unwrap_msg(reply)
        except DBusErrorResponse as e:
            raise ManagerUnavailable(f"the service manager refused {method}: {e.data}") from None

    def _properties(self, path: str, interface: str) -> dict[str, Any]:
        (values,) = self._call(path, "org.freedesktop.DBus.Properties", "GetAll", "s", interface)
        return {name: value for name, (_, value) in values.items()}

    def _manager_property(self, name: str) -> Any:
        (value,) = self._call(
            "/org/freedesktop/systemd1",
            "org.freedesktop.DBus.Properties",
            "Get",
            "ss",
            f"{SYSTEMD}.Manager",
            name,
        )
        return value[1]  # a variant: (signature, value)

    def environment(self) -> list[str]:
        """The manager's own environment (PATH, LANG): where every service's starts."""
        return list(self._manager_property("Environment"))

    def version(self) -> int:
        """The manager's major version ("257.9-1~deb13u1" is 257), where its readers of a
        unit's files differ; asked once."""
        if self._version is None:
            text = str(self._manager_property("Version"))
            version = major_version(text)
            if version is None:
                raise ManagerUnavailable(f"the service manager's version {text!r} is unknown")
            self._version = version
        return self._version

    def service_names(self) -> list[str]:
        """Every loaded service unit, sorted."""
        (units,) = self._call("/org/freedesktop/systemd1", f"{SYSTEMD}.Manager", "ListUnits", "")
        return sorted(u[0] for u in units if u[0].endswith(".service") and u[2] == "loaded")

    def slice_settings(self, name: str) -> dict[str, Any]:
        """A slice's org.freedesktop.systemd1.Slice properties (MemoryMax=, Slice=, ...)."""
        (path,) = self._call(
            "/org/freedesktop/systemd1", f"{SYSTEMD}.Manager", "LoadUnit", "s", name
        )
        return self._properties(path, f"{SYSTEMD}.Slice")

    def service(self, name: str) -> ServiceUnit:
        """NAME as the manager has it; loading it first (a template instance) if need be.
        Raises UsageError for a unit that does not exist or is not a service."""
        if not name.endswith(".service"):
            raise UsageError(f"--unit {name!r}: only service units run golaunch (NAME.service)")
        (path,) = self._call(
            "/org/freedesktop/systemd1", f"{SYSTEMD}.Manager", "LoadUnit", "s", name
        )
        unit = self._properties(path, f"{SYSTEMD}.Unit")
        if unit["LoadState"] != "loaded":
            why = unit.get("LoadError", ("", ""))[1] or unit["LoadState"]
            raise UsageError(f"--unit {name}: the unit is not loaded ({why}); see systemctl status")
        service = self._properties(path, f"{SYSTEMD}.Service")
        commands = [(c[0], list(c[1])) for c in service.get("ExecStart", [])]
        return ServiceUnit(unit["Id"], int(service.get("MainPID", 0)), commands, service)
