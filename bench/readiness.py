"""`make bench`, the readiness helper's part: what a ready probe adds to the launch path,
how soon READY=1 follows the port opening, and what a long-lived watchdog helper costs."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from golaunch.launch.effects import spawn_helper

RUNS = int(os.environ.get("BENCH_RUNS", "20"))


class Manager:
    """A notify socket, as systemd's: collects datagrams and closes BARRIER=1's fd."""

    def __init__(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self.address = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.address)
        self.sock.settimeout(0.01)

    def receive(self, seconds: float) -> list[tuple[float, bytes]]:
        got, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(16))
            except TimeoutError:
                continue
            for _, _, payload in ancillary:
                os.close(int.from_bytes(payload[:4], "little"))
            got.append((time.monotonic(), data))
        return got


def helper(
    spec: dict[str, object], manager: Manager, program: subprocess.Popen[bytes]
) -> subprocess.Popen[bytes]:
    pidfd = os.pidfd_open(program.pid)
    os.set_inheritable(pidfd, True)
    argv = [
        sys.executable,
        "-I",
        "-m",
        "golaunch.readiness.helper",
        json.dumps({**spec, "pidfd": pidfd}),
    ]
    env = {"NOTIFY_SOCKET": manager.address, "PATH": "/usr/bin:/bin"}
    started = subprocess.Popen(argv, env=env, pass_fds=(pidfd,))
    os.close(pidfd)
    return started


def spec_for(probe: str, program: int, **extra: object) -> dict[str, object]:
    return {
        "probe": probe, "interval": 0.2, "attempt_timeout": 1, "timeout": 0, "watchdog": False,
        "watchdog_usec": 0, "main_pid": program, "program": "bench", "log_target": "stderr",
        **extra,
    }  # fmt: skip


def spawn_cost(manager: Manager) -> float:
    """Median ms spawn_helper keeps the launch path (golaunch waits for setsid only)."""
    times = []
    env = {"NOTIFY_SOCKET": manager.address, "PATH": "/usr/bin:/bin"}
    for _ in range(RUNS):
        start = time.perf_counter()
        spawn_helper(spec_for("file:///", os.getpid()), env)  # ready at once, then gone
        times.append((time.perf_counter() - start) * 1000)
        manager.receive(0.3)  # let that helper finish before the next fork
    return statistics.median(times)


def ready_latency(manager: Manager, work: Path) -> tuple[float, float]:
    """(ms from the port opening to READY=1, the back-off pause then in force, in ms)."""
    with socket.socket() as probe_port:
        probe_port.bind(("127.0.0.1", 0))
        port = probe_port.getsockname()[1]
    program = subprocess.Popen(["sleep", "30"])
    started = helper(spec_for(f"tcp://127.0.0.1:{port}", program.pid), manager, program)
    statuses = [d for _, d in manager.receive(1.0) if d.startswith(b"STATUS=golaunch: waiting")]
    pause = min(0.2 * 2 ** (len(statuses) - 1), 2.0) * 1000  # after the last failed attempt
    server = socket.socket()
    server.bind(("127.0.0.1", port))
    server.listen()
    opened = time.monotonic()
    ready = next(t for t, data in manager.receive(3) if data.startswith(b"READY=1"))
    program.kill()
    started.wait()
    server.close()
    return (ready - opened) * 1000, pause


def watchdog_cost(manager: Manager, seconds: float = 20) -> tuple[float, float, int]:
    """(peak RSS MB, % of one core, WATCHDOG=1 count) of a helper at a 1 s interval."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    program = subprocess.Popen(["sleep", str(seconds + 10)])
    spec = spec_for(
        f"tcp://127.0.0.1:{server.getsockname()[1]}",
        program.pid,
        watchdog=True,
        watchdog_usec=2_000_000,
    )
    started = helper(spec, manager, program)
    manager.receive(2)
    before = _cpu_seconds(started.pid)
    got = manager.receive(seconds)
    used = _cpu_seconds(started.pid) - before
    peak = _peak_rss_mb(started.pid)
    program.kill()
    started.wait()
    server.close()
    return peak, 100 * used / seconds, sum(1 for _, data in got if data == b"WATCHDOG=1")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    line = next(
        x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmHWM")
    )
    return int(line.split()[1]) / 1024


def report(work: Path) -> None:
    manager = Manager(work / "notify.sock")
    spawn = spawn_cost(manager)
    latency, pause = ready_latency(manager, work)
    peak, cpu, pings = watchdog_cost(manager)
    print("\nreadiness helper")
    print(f"  added to the launch path by --ready-probe (spawn): {spawn:.1f} ms (target <= 5)")
    target = f"target <= pause + 10 ms, pause {pause:.0f} ms"
    print(f"  port open -> READY=1: {latency:.0f} ms ({target})")
    print(f"  watchdog helper, 1 s interval: peak RSS {peak:.1f} MB (target <= 15), "
          f"{cpu:.2f}% of one core (target < 1), {pings} pings in 20 s")  # fmt: skip
