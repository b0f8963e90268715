"""The reload itself: check that PID is this unit's program, signal it through a pidfd,
and wait for the confirmation (golaunch.reload.confirm) or its failure.

As ExecReload= it runs in the unit's cgroup, and systemd counts the reload done
when it exits, with its exit status as the result (systemd.service(5)). So it
exits 0 only for a confirmed reload of the same, still living process, and
otherwise with a status that says why, after one journal entry (check `reload`)
and a STATUS= line.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from golaunch.config.schema import ReloadConfig
from golaunch.findings import Finding, failed
from golaunch.status import ExitStatus, PermissionRefused, UsageError

if TYPE_CHECKING:
    from golaunch.reload.confirm import Confirmation

NAME = "reload"
ALIVE_GRACE = 1.0  # seconds a program must outlive the signal when nothing confirms
MAX_PAUSE = 1.0  # between looks


class Outcome(NamedTuple):
    status: int
    message: str


def same_unit(pid: int, proc: str = "/proc") -> None:
    """Refuse (77) unless PID runs in the unit this process runs in, as ExecReload= does:
    no command line lets one unit signal another's program."""
    from golaunch.systemd.manager import own_unit

    theirs = own_unit(f"{proc}/{pid}/cgroup")
    ours = own_unit(f"{proc}/self/cgroup")
    if theirs is None or ours is None or theirs != ours:
        where = f"in {theirs.name}" if theirs else "in no service unit"
        raise PermissionRefused(
            f"--reload {pid}: PID {pid} runs {where}, and golaunch "
            f"{'in ' + ours.name if ours else 'in no service unit'}; golaunch --reload signals "
            "only its own unit's program, as ExecReload=. To reload a unit, use "
            "systemctl reload UNIT"
        )


def reload(
    config: ReloadConfig,
    pid: int,
    notify: Callable[[str], None],
    log: Callable[[Finding], None],
    clock: Callable[[], float] = time.monotonic,
) -> int:
    import signal

    from golaunch.reload.confirm import Confirmation

    try:
        pidfd = os.pidfd_open(pid)
    except OSError as e:
        raise UsageError(f"--reload {pid}: no such process ({e.strerror})") from None
    try:
        confirmation = Confirmation(config.confirm, 1.0) if config.confirm else None
        if confirmation:
            confirmation.before_signal()
        signum = signal.Signals[f"SIG{config.signal}"]
        how = f"confirming by {config.confirm}" if config.confirm else "watching it live on"
        notify(f"STATUS=golaunch: reloading PID {pid} (SIG{config.signal}), {how}")
        sent_at = time.time()
        signal.pidfd_send_signal(pidfd, signum)
        outcome = _wait(pidfd, confirmation, sent_at, config, clock)
    finally:
        os.close(pidfd)
    if outcome.status == ExitStatus.OK:
        notify(f"STATUS=golaunch: reloaded PID {pid}: {outcome.message}")
        return outcome.status
    log(failed(NAME, outcome.message, GOLAUNCH_PID=str(pid), GOLAUNCH_SIGNAL=config.signal))
    notify(f"STATUS=golaunch: reload of PID {pid} failed: {outcome.message}")
    return outcome.status


def _wait(
    pidfd: int,
    confirmation: Confirmation | None,
    sent_at: float,
    config: ReloadConfig,
    clock: Callable[[], float],
) -> Outcome:
    deadline = clock() + config.timeout
    poll = select.poll()
    poll.register(pidfd, select.POLLIN)
    died = Outcome(
        ExitStatus.UNAVAILABLE, f"the program died on SIG{config.signal} instead of reloading"
    )
    if confirmation is None:  # nothing to ask: it must at least survive the signal
        return died if poll.poll(int(ALIVE_GRACE * 1000)) else Outcome(ExitStatus.OK, "alive")
    pause, last = 0.1, ""
    while True:
        if poll.poll(0):
            return died
        look = confirmation.look(sent_at)
        if look.rejected:
            return Outcome(ExitStatus.CONFIG, f"the program rejected the reload: {look.rejected}")
        if look.done:
            return died if poll.poll(0) else Outcome(ExitStatus.OK, look.last)
        last = look.last
        left = deadline - clock()
        if left <= 0:
            return Outcome(
                ExitStatus.TEMPFAIL,
                f"{confirmation.what} did not confirm the reload within "
                f"{config.timeout:g} s (last: {last})",
            )
        if poll.poll(int(min(pause, left) * 1000)):
            return died
        pause = min(pause * 2, MAX_PAUSE)


def environment_notifier(environ: Mapping[str, str]) -> Callable[[str], None]:
    """STATUS= to the unit, best effort: with NotifyAccess=main systemd ignores it from
    ExecReload=, which changes nothing about the reload."""
    from golaunch.systemd.notify import NotifyError, ascii_status, connect_notifier

    try:
        send = connect_notifier(environ)
    except NotifyError:
        return lambda message: None

    def notify(message: str) -> None:
        with contextlib.suppress(NotifyError):
            send(ascii_status(message))

    return notify
