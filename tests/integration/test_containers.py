"""golaunch as a container's entrypoint: PID 1 of a PID namespace, made here with
unshare. There a signal without a handler is ignored (`podman stop` would end in
SIGKILL after ten seconds), and a process left behind is reaped by nobody."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.paths import BASE_PATH, BUILD, REPO


def pid1_child(unshare: subprocess.Popen[str]) -> int:
    """The PID, in our namespace, of the process that is PID 1 in the new one."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{unshare.pid}/task/{unshare.pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.05)
    raise AssertionError("unshare started no child")


@pytest.mark.skipif(os.geteuid() != 0, reason="a PID namespace needs root")
def test_sigterm_during_the_dependency_gate_exits_143_at_once() -> None:
    env = {"PATH": BASE_PATH, "HOME": str(BUILD / "home"), "PYTHONPATH": str(REPO)}
    unshare = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-m", "golaunch",
         "--notify", "none", "--wait-for", "tcp://127.0.0.1:1", "--wait-timeout", "60",
         "--", "/bin/true"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    golaunch = pid1_child(unshare)
    time.sleep(1.5)  # well into the gate's waiting
    sent = time.monotonic()
    os.kill(golaunch, signal.SIGTERM)
    _, err = unshare.communicate(timeout=30)
    assert time.monotonic() - sent < 3
    assert unshare.returncode == 143, err
    assert "stopped by SIGTERM before the program started" in err


@pytest.mark.skipif(os.geteuid() != 0, reason="a PID namespace needs root")
def test_a_ready_probe_as_pid_1_is_refused_naming_an_init(tmp_path: Path) -> None:
    """After exec the Go program is PID 1 and never reaps the readiness helper."""
    notify = tmp_path / "notify"
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as manager:
        manager.bind(str(notify))
        env = {"PATH": BASE_PATH, "HOME": str(BUILD / "home"), "PYTHONPATH": str(REPO),
               "NOTIFY_SOCKET": str(notify)}  # fmt: skip
        run = subprocess.run(
            ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-m", "golaunch",
             "--ready-probe", "tcp://127.0.0.1:1", "--log-target", "stderr", "--", "/bin/true"],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert run.returncode == 78, run.stderr
    assert "golaunch is PID 1" in run.stderr and "--init" in run.stderr
