"""golaunch as a real process, and a notify socket as systemd's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping

from tests.helpers.paths import BASE_PATH


def run_golaunch(
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    **kwargs: object,
) -> subprocess.CompletedProcess[str]:
    """golaunch as a real process, with only the environment given (plus PATH)."""
    full_env = {"PATH": BASE_PATH, "LANG": "C.UTF-8"}
    full_env.update(env or {})
    run: subprocess.CompletedProcess[str] = subprocess.run(
        [sys.executable, "-m", "golaunch", *args],
        check=False,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,  # type: ignore[call-overload]
    )
    return run


class NotifyListener:
    """A bound notify socket, as systemd's; ADDRESS is what NOTIFY_SOCKET says."""

    def __init__(self, address: str, bind_to: str | bytes) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(bind_to)
        self.sock.settimeout(0.2)

    def messages(self) -> list[str]:
        received = []
        while True:
            try:
                received.append(self.sock.recv(65536).decode())
            except TimeoutError:
                return received


def as_user(uid: int, function: Callable[[], str]) -> str:
    """Run FUNCTION in a forked child with uid UID; return what it returned (or raised)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, call, report, leave without cleanup
        os.close(read_end)
        try:
            os.setgid(uid)
            os.setuid(uid)
            result = function()
        except Exception as e:  # reported to the parent as text
            result = f"{type(e).__name__}: {e}"
        os.write(write_end, result.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        output = f.read().decode()
    os.waitpid(pid, 0)
    return output
