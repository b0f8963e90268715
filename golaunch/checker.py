"""The checker: sends READY=1 (and WATCHDOG=1) for a program that cannot.

golaunch forks it twice before exec, so the manager adopts it and the program
is never left with a zombie, and it execs a fresh interpreter on this module,
so it holds none of the launch path's memory for its lifetime:

    python -I -m golaunch.checker SPEC

SPEC is JSON: the probe and its timing, the main PID with a pidfd for it, the
watchdog interval, the program's name and where entries go. The checker probes
until the program serves, then sends READY=1 and BARRIER=1 (so systemd has
read READY=1 before the checker's exit makes its messages unattributable), and
either exits or keeps probing for the watchdog. It exits as soon as the program
does. Giving up on readiness logs one entry and stops the program with SIGTERM:
the unit fails and Restart= applies. Three failed watchdog probes in a row send
WATCHDOG=trigger.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Mapping
from typing import Any

from golaunch.findings import failed
from golaunch.probes import Probe, attempt, backoff, parse_probe, waiting_message
from golaunch.systemd.notify import Notifier, NotifyError, ascii_status, connect_notifier

WATCHDOG_FAILURES = 3  # in a row, before WATCHDOG=trigger
BARRIER_TIMEOUT = 5.0


class ProgramExited(Exception):
    pass


class Checker:
    def __init__(self, spec: Mapping[str, Any], notifier: Notifier) -> None:
        self.spec = spec
        self.notify = notifier
        self.probe: Probe = parse_probe(spec["probe"])
        self.attempt_timeout = float(spec["attempt_timeout"])
        self.poll = select.poll()
        self.poll.register(int(spec["pidfd"]), select.POLLIN)

    def pause(self, seconds: float) -> None:
        """Sleep SECONDS, or raise ProgramExited the moment the program ends."""
        if self.poll.poll(max(0, int(seconds * 1000))):
            raise ProgramExited

    def until_ready(self) -> tuple[bool, int, str]:
        """(ready, attempts, last error) by the deadline (none: systemd's start timeout)."""
        timeout = float(self.spec["timeout"])
        deadline = time.monotonic() + timeout if timeout else None
        pauses = backoff(float(self.spec["interval"]))
        attempts, error = 0, ""
        while deadline is None or time.monotonic() < deadline:
            attempts += 1
            error = attempt(self.probe, self.attempt_timeout) or ""
            if not error:
                return True, attempts, ""
            pause = next(pauses)
            next_in = pause + self.attempt_timeout if timeout else None
            self.notify(waiting_message(self.probe.url, attempts, error, next_in))
            self.pause(pause)
        return False, attempts, error

    def watch(self) -> tuple[int, str]:
        """Ping the watchdog while the probe passes; return after WATCHDOG_FAILURES in a row.

        Probing every half WatchdogSec=, silence through three failures would let
        systemd's own timer fire first, with no word of why: a failure short of the
        third still pings, and says so in STATUS=.
        """
        interval = int(self.spec["watchdog_usec"]) / 2 / 1e6
        failures, error = 0, ""
        due = time.monotonic()
        while True:
            # A fixed schedule, each attempt within half of it: a program that hangs
            # must not stretch the pings past WatchdogSec=.
            due += interval
            self.pause(max(0.0, due - time.monotonic()))
            error = attempt(self.probe, min(self.attempt_timeout, interval / 2)) or ""
            recovered = failures and not error
            failures = failures + 1 if error else 0
            if failures >= WATCHDOG_FAILURES:
                return failures, error
            if failures:
                status = f"STATUS=golaunch: {self.probe.url} failed ({failures}): {error}"
                self.notify("WATCHDOG=1\n" + ascii_status(status))
            elif recovered:
                self.notify(
                    "WATCHDOG=1\n" + ascii_status(f"STATUS=golaunch: {self.probe.url} answers")
                )
            else:
                self.notify("WATCHDOG=1")


def barrier(address: str, timeout: float = BARRIER_TIMEOUT) -> None:
    """BARRIER=1 (sd_notify(3)): its own datagram with one fd; wait until the manager closes it."""
    import array

    read_end, write_end = os.pipe()
    target = "\0" + address[1:] if address.startswith("@") else address
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        fds = array.array("i", [write_end])
        sock.sendmsg([b"BARRIER=1"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)], 0, target)
    os.close(write_end)
    poll = select.poll()
    poll.register(read_end, select.POLLHUP)
    poll.poll(int(timeout * 1000))
    os.close(read_end)


def log(spec: Mapping[str, Any], check: str, message: str, **fields: str) -> None:
    from golaunch.systemd.journal import finding_fields, system_logger

    finding = failed(check, message, GOLAUNCH_PROBE=str(spec["probe"]), **fields)
    entry = finding_fields(finding, str(spec["program"]))
    system_logger(str(spec["log_target"]), os.environ).log(entry)


def run(spec: Mapping[str, Any]) -> int:
    checker = Checker(spec, connect_notifier(os.environ))
    program, url = spec["program"], spec["probe"]
    ready, attempts, error = checker.until_ready()
    if not ready:
        why = f"{url} did not succeed within {float(spec['timeout']):g} s"
        message = f"{why} ({attempts} attempts; last: {error}); stopping {program}"
        log(spec, "ready-probe", message, GOLAUNCH_ATTEMPTS=str(attempts))
        checker.notify(ascii_status(f"STATUS=golaunch: {message}"))
        os.kill(int(spec["main_pid"]), signal.SIGTERM)
        return 1
    checker.notify("READY=1\n" + ascii_status(f"STATUS=golaunch: {url} answers; running {program}"))
    barrier(os.environ["NOTIFY_SOCKET"])
    if not spec["watchdog"]:
        return 0
    failures, error = checker.watch()
    message = f"{url} failed {failures} times in a row (last: {error}); asking for the watchdog"
    log(spec, "watchdog", message)
    checker.notify(ascii_status(f"STATUS=golaunch: {message}") + "\nWATCHDOG=trigger")
    return 1


def main() -> None:
    try:
        status = run(json.loads(sys.argv[1]))
    except ProgramExited:
        status = 0  # the program ended: nothing left to check
    except NotifyError as e:
        print(f"golaunch checker: {e}", file=sys.stderr)
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
