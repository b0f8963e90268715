"""`make bench`, the unit checks' part: what `golaunch --check --all-units` costs for 50
golaunch units under the machine's real systemd 252 (root only: it boots one in a
namespace, as the system tests do)."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from tests.helpers.machine import booted, start_system_bus
from tests.helpers.paths import REPO
from tests.helpers.toolchain import go_bin

UNITS = 50
RUNS = int(os.environ.get("BENCH_UNIT_RUNS", "5"))
GOLAUNCH = REPO / ".venv" / "bin" / "golaunch"


def report(work: Path) -> None:
    if os.geteuid() != 0:
        print("\nunit checks: skipped (booting systemd in a namespace needs root)")
        return
    noop = go_bin().build(REPO / "examples" / "noop", "noop")
    work.mkdir(parents=True, exist_ok=True)
    with booted(work) as machine:
        start_system_bus(machine)
        template = "\n".join(
            [
                "[Unit]",
                "DefaultDependencies=no",
                "[Service]",
                "Type=oneshot",
                "RemainAfterExit=yes",
                "User=nobody",
                "CacheDirectory=bench/%i",
                f"ExecStart={GOLAUNCH} --gocache /var/cache/bench/%i/go-build -- {noop}",
                "",
            ]
        )
        machine.install({"bench@.service": template})
        names = [f"bench@{i}.service" for i in range(UNITS)]
        machine.run("systemctl", "start", *names, timeout=300)
        command = [str(GOLAUNCH), "--check", "--all-units", "--format", "openmetrics"]
        times, peaks = [], []
        for _ in range(RUNS):
            start = time.perf_counter()
            pid = os.posix_spawnp(
                "nsenter",
                ["nsenter", "-t", str(machine.pid), "-m", "-p", *command],
                dict(os.environ),
                file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)],
            )
            _, status, usage = os.wait4(pid, 0)
            times.append(time.perf_counter() - start)
            peaks.append(usage.ru_maxrss / 1024)
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"--check --all-units exited {os.waitstatus_to_exitcode(status)}")
    median = statistics.median(times)
    print(f"\nunit checks: golaunch --check --all-units over {UNITS} units ({RUNS} runs)")
    print(f"  wall {median:.2f} s median ({1000 * median / UNITS:.0f} ms a unit)")
    print(f"  peak RSS {max(peaks):.1f} MB (the largest process: golaunch or a unit's child)")
