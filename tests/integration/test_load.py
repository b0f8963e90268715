"""Many golaunch starts at once: each gets its own environment, its own notifications and
its own PID, while all share one store of plans. `make stress` runs this alone.

The notify socket is one socket for all, as systemd's is: like systemd, the test
tells senders apart by the credentials the kernel attaches (SO_PASSCRED).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.load import COUNT, CredentialListener
from tests.helpers.paths import BASE_PATH, BUILD

pytestmark = pytest.mark.stress


def test_many_launches_at_once_do_not_cross(printenv_program: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    listener = CredentialListener(str(tmp_path / "notify.sock"))
    # The same command line for all: one store, written and read concurrently.
    argv = [sys.executable, "-m", "golaunch", "--keep-env", "TOKEN", "--", str(printenv_program)]
    base = {
        "PATH": BASE_PATH,
        "HOME": str(BUILD / "home"),
        "CACHE_DIRECTORY": str(cache),
        "NOTIFY_SOCKET": listener.sock.getsockname(),
    }
    try:
        processes = [
            subprocess.Popen(
                argv,
                env={**base, "TOKEN": f"token-{i}"},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(COUNT)
        ]
        outputs = [process.communicate(timeout=600) for process in processes]
    finally:
        listener.close()

    for i, (process, (out, err)) in enumerate(zip(processes, outputs, strict=True)):
        assert process.returncode == 0, err
        lines = out.splitlines()
        assert lines[0] == f"pid={process.pid}"  # exec'd in place
        tokens = [line for line in lines if line.startswith("env=TOKEN=")]
        assert tokens == [f"env=TOKEN=token-{i}"]
        assert not any(line.startswith("env=NOTIFY_SOCKET=") for line in lines)
        assert listener.by_pid[process.pid] == [
            f"STATUS=golaunch: checking {printenv_program}",
            f"READY=1\nSTATUS=golaunch: checks passed, running {printenv_program}",
        ]
    assert set(listener.by_pid) == {p.pid for p in processes}
    names = sorted(p.name for p in (cache / "golaunch").iterdir())
    # No temporaries left, and at most a plan per environment (each TOKEN is another; a
    # start keeps none while the files it read are new).
    kinds = [name.rsplit(".", 1)[-1] for name in names]
    assert set(kinds) <= {"plan"} and len(kinds) <= COUNT, names
