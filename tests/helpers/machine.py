"""The machine's real systemd 252, booted as PID 1 of a private PID and mount namespace.

The system tests (tests/system/conftest.py boots one per session) and `make bench`
(the unit-check cost) share it. tests/system/boot.sh sets the namespace up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from tests.helpers.paths import REPO

SYSTEMD = Path("/usr/lib/systemd/systemd")
BOOT = REPO / "tests" / "system" / "boot.sh"
TARGET = "golaunch-test.target"
# The target the namespace boots: journald and nothing of sysinit.target, whose
# systemd-tmpfiles would clean the shared file system's /tmp.
TARGET_UNIT = """\
[Unit]
Description=golaunch system tests
DefaultDependencies=no
Wants=systemd-journald.socket systemd-journald.service
After=systemd-journald.socket systemd-journald.service
"""
UNSHARE = ("unshare", "--pid", "--fork", "--mount", "--mount-proc", "--cgroup", "--uts", "--ipc")
T = TypeVar("T")


def wait_until(what: str, probe: Callable[[], T | None], timeout: float = 20) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


class Machine:
    """One booted systemd: its PID in our namespace, and ways to talk to it."""

    # nsenter's options: the namespace's mounts and PIDs (a chrooted one adds its root).
    ENTER: tuple[str, ...] = ("-m", "-p")

    def __init__(self, unshare: subprocess.Popen[bytes], pid: int) -> None:
        self.unshare = unshare
        self.pid = pid
        self.root = Path(f"/proc/{pid}/root")

    def run(
        self, *args: str, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["nsenter", "-t", str(self.pid), *self.ENTER, *args],
            check=check,
            capture_output=True,
            text=True,
            # Journal output may hold any bytes (an export carries binary fields).
            errors="surrogateescape",
            timeout=timeout,
        )

    def version(self) -> int:
        """The booted systemd's major version."""
        return int(self.run("systemctl", "--version").stdout.split()[1])

    def write(self, path: str, text: str) -> None:
        """A file in the namespace's own view (its /run, /etc, /usr/local are private)."""
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def install(self, units: dict[str, str]) -> None:
        for name, text in units.items():
            self.write(f"/run/systemd/system/{name}", text)
        self.run("systemctl", "daemon-reload")

    def start(self, unit: str) -> subprocess.CompletedProcess[str]:
        # For Type=notify, systemctl start returns when READY=1 arrived or the start failed.
        return self.run("systemctl", "start", unit, check=False)

    def start_ok(self, unit: str) -> None:
        run = self.start(unit)
        if run.returncode != 0:
            raise AssertionError(f"{unit} did not start:\n{self.journal_text('-u', unit)}")

    def show(self, unit: str) -> dict[str, str]:
        out = self.run("systemctl", "show", unit).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self, *matches: str) -> list[dict[str, str]]:
        out = self.run("journalctl", "--no-pager", "-o", "json", *matches).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def journal_text(self, *args: str) -> str:
        return self.run("journalctl", "--no-pager", *args).stdout

    def environ(self, pid: int) -> dict[str, str]:
        """A process's environment, by its PID inside the namespace."""
        raw = (self.root / "proc" / str(pid) / "environ").read_bytes()
        items = raw.decode("utf-8", "surrogateescape").split("\0")
        return dict(item.split("=", 1) for item in items if "=" in item)

    def stop(self) -> None:
        self.run("systemctl", "poweroff", "--force", check=False, timeout=20)
        try:
            self.unshare.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, 9)  # SIGTERM would make PID 1 re-execute itself
            self.unshare.wait(timeout=15)


def _systemd_child(unshare: subprocess.Popen[bytes]) -> int | None:
    if unshare.poll() is not None:
        raise AssertionError(f"the namespace's systemd exited with {unshare.returncode}")
    try:
        children = Path(f"/proc/{unshare.pid}/task/{unshare.pid}/children").read_text().split()
    except OSError:
        return None
    for child in children:
        if Path(f"/proc/{child}/comm").read_text().strip() == "systemd":
            return int(child)
    return None


# boot.sh mounts a tmpfs on each of these: what lives there on the host is hidden.
MASKED = ("/run", "/tmp", "/var/log/journal", "/var/lib/systemd", "/var/cache")


def unreachable_dirs() -> list[str]:
    """Directories the services need (this Python, this tree) that the namespace would hide:
    under a 0700 parent, or under a directory boot.sh mounts a tmpfs on."""
    found = []
    for path in (Path(os.path.realpath(sys.executable)), REPO):
        masked = [m for m in MASKED if path.is_relative_to(m)]
        if masked:
            found.append(str(path))
            continue
        for parent in [path, *path.parents]:
            if parent.parent != parent and not parent.parent.stat().st_mode & 0o001:
                found.append(str(parent))
                break
    if any(" " in d for d in found):
        raise AssertionError(f"boot.sh cannot expose paths with spaces: {found}")
    return sorted(set(found))


def searchable_by_others(path: str) -> bool:
    return bool(os.stat(path).st_mode & 0o001)


def exposure_plan(
    exposed: Sequence[str],
    masked: Sequence[str] = MASKED,
    searchable: Callable[[str], bool] = searchable_by_others,
) -> list[str]:
    """What boot.sh does, after masking, so that every EXPOSED directory can be mounted back
    where it was and reached by any user: "mkdir:DIR" for an ancestor that a fresh tmpfs
    hid (it does not exist in the new view), "tmpfs:DIR" for one nobody else may enter
    (a 0700 home), top-down. SEARCHABLE answers for the host's view."""
    fresh = set(masked)  # directories that are an empty tmpfs in the new view
    actions: list[str] = []
    for directory in exposed:
        for ancestor in reversed(Path(directory).parents[:-1]):  # top-down, without "/"
            where = str(ancestor)
            if where in fresh:
                continue
            if any(ancestor.is_relative_to(f) for f in fresh):
                actions.append(f"mkdir:{where}")
                fresh.add(where)  # made on a tmpfs, 0755: an empty, searchable directory
            elif not searchable(where):
                actions.append(f"tmpfs:{where}")
                fresh.add(where)
    return actions


@contextmanager
def booted(work: Path) -> Iterator[Machine]:
    """Boot systemd in a fresh namespace (its log in WORK/boot.log); power it off after."""
    exposed = unreachable_dirs()
    plan = exposure_plan(exposed)
    units = boot_units(work)
    argv = [*UNSHARE, str(BOOT), str(units), TARGET, " ".join(exposed), " ".join(plan)]
    with boot(argv, work / "boot.log", Machine) as machine:
        yield machine


def boot_units(work: Path) -> Path:
    """WORK/boot-units, holding the test target alone: the units a namespace boots with."""
    units = work / "boot-units"
    shutil.rmtree(units, ignore_errors=True)
    units.mkdir(parents=True)
    (units / TARGET).write_text(TARGET_UNIT)
    return units


M = TypeVar("M", bound=Machine)


@contextmanager
def boot(argv: Sequence[str], log_path: Path, kind: type[M]) -> Iterator[M]:
    """Run ARGV, whose child execs systemd; yield it once the test target is reached."""
    log = log_path.open("wb")
    unshare = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    running: M | None = None
    try:
        pid = wait_until("systemd to start", lambda: _systemd_child(unshare))
        running = kind(unshare, pid)
        machine = running
        wait_until(
            "the test target to be reached",
            lambda: (
                machine.run("systemctl", "is-active", TARGET, check=False).stdout.strip()
                == "active"
            ),
        )
        yield running
    finally:
        if running:
            running.stop()
        elif unshare.poll() is None:
            unshare.kill()
        log.close()


def start_system_bus(machine: Machine) -> None:
    """dbus, as a real host has it; without default dependencies, so that it alone
    pulls in nothing of sysinit.target."""
    for unit_name in ("dbus.socket", "dbus.service"):
        machine.write(
            f"/run/systemd/system/{unit_name}.d/test.conf", "[Unit]\nDefaultDependencies=no\n"
        )
    machine.run("systemctl", "daemon-reload")
    machine.run("systemctl", "start", "dbus.socket", "dbus.service")
    assert machine.show("dbus.service")["ActiveState"] == "active"
