"""The readiness helper: sends READY=1 (and WATCHDOG=1) for a program that cannot.

golaunch forks it twice before exec, so the manager adopts it and the program
is never left with a zombie, and it execs a fresh interpreter on this module,
so it holds none of the launch path's memory for its lifetime:

    python -I -m golaunch.readiness.helper SPEC

SPEC is JSON: the probe and its timing, a pidfd for the main process, the
watchdog interval, the program's name, where entries go, and the unit's own
NotifyAccess= when golaunch widened it (restored with READY=1). The helper probes
until the program serves, then sends READY=1 and BARRIER=1 (so systemd has
read READY=1 before the helper's exit makes its messages unattributable), and
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
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from golaunch.findings import failed
from golaunch.readiness.probes import Schedule, attempt, waiting_message
from golaunch.syntax.probeurl import Probe, parse_probe
from golaunch.systemd.notify import NotifyError, ascii_status, barrier, connect_notifier

if TYPE_CHECKING:
    from golaunch.systemd.notify import Notifier

WATCHDOG_FAILURES = 3  # in a row, before WATCHDOG=trigger
# journald names an entry's unit from the sender's /proc/PID/cgroup when it takes the
# datagram off its socket; WATCHDOG=trigger has systemd kill the helper at once, so the
# reason is given this long to be taken first (a busy journald once took longer, and
# `journalctl -u` lost the entry). A moment only: the program is failing meanwhile.
JOURNAL_GRACE = 0.25


class ProgramExited(Exception):
    pass


class Helper:
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
        schedule = Schedule(float(self.spec["interval"]), self.attempt_timeout, timeout)
        attempts, error = 0, ""
        while schedule.remaining() > 0:
            attempts += 1
            error = attempt(self.probe, schedule.attempt_budget()) or ""
            if not error:
                return True, attempts, ""
            pause = schedule.next_pause()
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


def log(spec: Mapping[str, Any], check: str, message: str, **fields: str) -> None:
    from golaunch.systemd.journal import finding_fields, system_logger

    finding = failed(check, message, GOLAUNCH_PROBE=str(spec["probe"]), **fields)
    entry = finding_fields(finding, str(spec["program"]))
    system_logger(str(spec["log_target"]), os.environ).log(entry)


def supervise(spec: Mapping[str, Any]) -> int:
    helper = Helper(spec, connect_notifier(os.environ))
    program, url = spec["program"], spec["probe"]
    ready, attempts, error = helper.until_ready()
    if not ready:
        why = f"{url} did not succeed within {float(spec['timeout']):g} s"
        message = f"{why} ({attempts} attempts; last: {error}); stopping {program}"
        log(spec, "ready-probe", message, GOLAUNCH_ATTEMPTS=str(attempts))
        helper.notify(ascii_status(f"STATUS=golaunch: {message}"))
        # Through the pidfd: the PID may have been reused by now, the pidfd cannot be.
        signal.pidfd_send_signal(int(spec["pidfd"]), signal.SIGTERM)
        barrier(os.environ["NOTIFY_SOCKET"])
        return 1
    message = "READY=1\n" + ascii_status(f"STATUS=golaunch: {url} answers; running {program}")
    if spec.get("restore_access"):  # the manager applies it after the READY=1 beside it
        message += f"\nNOTIFYACCESS={spec['restore_access']}"
    helper.notify(message)
    barrier(os.environ["NOTIFY_SOCKET"])
    if not spec["watchdog"]:
        return 0
    failures, error = helper.watch()
    message = f"{url} failed {failures} times in a row (last: {error}); asking for the watchdog"
    log(spec, "watchdog", message)
    time.sleep(JOURNAL_GRACE)
    helper.notify(ascii_status(f"STATUS=golaunch: {message}") + "\nWATCHDOG=trigger")
    # As for READY=1: exiting at once would leave the trigger and its reason unattributed.
    barrier(os.environ["NOTIFY_SOCKET"])
    return 1


def close_inherited_fds(keep: int) -> None:
    """Close every fd but stdio and KEEP: a listener systemd passed in (LISTEN_FDS) must not
    stay open here, or the kernel completes handshakes for a program that serves nothing."""
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))


def main() -> None:
    try:
        spec = json.loads(sys.argv[1])
        close_inherited_fds(int(spec["pidfd"]))
        status = supervise(spec)
    except ProgramExited:
        status = 0  # the program ended: nothing left to check
    except NotifyError as e:
        print(f"golaunch helper: {e}", file=sys.stderr)
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
