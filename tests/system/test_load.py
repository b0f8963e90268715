"""Many instances of one template unit started at once under the real systemd.

Each instance passes its name in INSTANCE=; all share one CacheDirectory=, so
they race for one config-cache entry. Every one must reach active with its own
environment, its own READY=1 and its own launch entry.
"""

from __future__ import annotations

import pytest

from golaunch.systemd.journal import LAUNCH_MESSAGE_ID
from tests.helpers.load import COUNT
from tests.system.conftest import GOLAUNCH, Machine, wait_until

pytestmark = pytest.mark.stress

TEMPLATE = f"""\
[Unit]
DefaultDependencies=no
[Service]
Type=notify
Environment=INSTANCE=%i
CacheDirectory=golaunch-load
ExecStart={GOLAUNCH} --keep-env INSTANCE -- /bin/sleep infinity
TimeoutStartSec=600
"""


def states(machine: Machine, units: list[str]) -> list[str]:
    return machine.run("systemctl", "is-active", *units, check=False).stdout.split()


def all_active(machine: Machine, units: list[str]) -> None:
    """Wait until no unit is activating any more, then every one must be active."""

    def settled() -> list[str] | None:
        now = states(machine, units)
        return now if "activating" not in now else None

    final = wait_until(f"{len(units)} instances to settle", settled, timeout=600)
    failed = [unit for unit, state in zip(units, final, strict=True) if state != "active"]
    assert not failed, machine.journal_text("-u", failed[0])


def test_template_instances_started_at_once_all_reach_active(machine: Machine) -> None:
    machine.install({"golaunch-load@.service": TEMPLATE})
    units = [f"golaunch-load@{i}.service" for i in range(COUNT)]
    machine.run("systemctl", "start", "--no-block", *units)
    try:
        all_active(machine, units)

        def launches() -> list[dict[str, str]] | None:
            entries = machine.journal(f"MESSAGE_ID={LAUNCH_MESSAGE_ID}")
            ours = [e for e in entries if e.get("_SYSTEMD_UNIT", "").startswith("golaunch-load@")]
            return ours if len(ours) >= COUNT else None

        entries = wait_until("every launch entry in the journal", launches)
        pid_of = {entry["_SYSTEMD_UNIT"]: int(entry["_PID"]) for entry in entries}
        assert len(entries) == COUNT and set(pid_of) == set(units)  # one launch each
        for i, unit in enumerate(units):
            show = machine.show(unit)
            main_pid = int(show["MainPID"])
            assert main_pid == pid_of[unit]  # the PID that said READY=1 is the program's
            assert show["NRestarts"] == "0" and show["Result"] == "success"
            assert (machine.root / "proc" / str(main_pid) / "comm").read_text() == "sleep\n"
            assert machine.environ(main_pid)["INSTANCE"] == str(i)
        shared = machine.root / "var/cache/golaunch-load/golaunch"
        kept = {p.suffix for p in shared.iterdir()}
        assert kept <= {".plan"}, kept  # plans only (an instance's own), no temporaries
    finally:
        machine.run("systemctl", "stop", *units, check=False, timeout=300)


PROBED = f"""\
[Unit]
DefaultDependencies=no
[Service]
Type=notify
NotifyAccess=all
ExecStart={GOLAUNCH} --ready-probe file:///run/probed-%i \\
    -- /bin/sh -c "touch /run/probed-%i; exec sleep infinity"
TimeoutStartSec=600
"""


def zombies(machine: Machine) -> list[str]:
    listing = machine.run("ps", "-eo", "stat=,pid=,comm=").stdout.splitlines()
    return [line for line in listing if line.strip().startswith("Z")]


def test_probed_instances_at_once_lose_no_message_and_leave_no_zombie(machine: Machine) -> None:
    """Each instance's READY=1 comes from its helper; with BARRIER=1 none is lost."""
    machine.install({"golaunch-probed@.service": PROBED})
    units = [f"golaunch-probed@{i}.service" for i in range(COUNT)]
    since = machine.run("date", "+%Y-%m-%d %H:%M:%S").stdout.strip()
    machine.run("systemctl", "start", "--no-block", *units)
    try:
        all_active(machine, units)
        manager = machine.journal_text("_PID=1", "--since", since)
        assert "Cannot find unit" not in manager and "reception only permitted" not in manager
        # A helper that has just exited is a zombie until PID 1 reaps it (one was seen
        # in a snapshot under this load): what must not be is one that stays.
        try:
            wait_until("every helper to be reaped", lambda: not zombies(machine), 10)
        except AssertionError:
            assert zombies(machine) == []
    finally:
        machine.run("systemctl", "stop", *units, check=False, timeout=300)
