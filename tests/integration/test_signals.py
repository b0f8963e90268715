"""golaunch stopped while it waits or checks: as PID 1 of a PID namespace, as a
container's entrypoint is, a signal without a handler is ignored, and `podman stop`
would end in SIGKILL after ten seconds."""

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
