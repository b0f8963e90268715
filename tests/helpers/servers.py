"""Servers that misbehave on purpose, for the probes' deadlines."""

from __future__ import annotations

import socket
import threading


class Trickle:
    """A server that accepts, then sends one byte every INTERVAL seconds: each recv
    returns in time, and an attempt bounded only per operation never ends."""

    def __init__(self, interval: float = 0.3) -> None:
        self.listening = socket.socket()
        self.listening.bind(("127.0.0.1", 0))
        self.listening.listen()
        self.port = self.listening.getsockname()[1]
        self.interval = interval
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listening.accept()
            except OSError:
                return
            threading.Thread(target=self.drip, args=(connection,), daemon=True).start()

    def drip(self, connection: socket.socket) -> None:
        with connection:
            while not self.stop.wait(self.interval):
                try:
                    connection.send(b"H")
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.listening.close()
