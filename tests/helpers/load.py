"""Shared by the load tests (tests/integration/test_load.py, tests/system/test_load.py)."""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections import defaultdict

COUNT = int(os.environ.get("STRESS_COUNT", "200"))


class CredentialListener:
    """Receives datagrams in a thread and files them under the sender's PID."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.by_pid: dict[int, list[str]] = defaultdict(list)
        self.running = True
        self.thread = threading.Thread(target=self._receive)
        self.thread.start()

    def _receive(self) -> None:
        size = socket.CMSG_SPACE(struct.calcsize("3i"))
        while self.running:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(4096, size)
            except TimeoutError:
                continue
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid, _, _ = struct.unpack("3i", value[: struct.calcsize("3i")])
                    self.by_pid[pid].append(data.decode())

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()
