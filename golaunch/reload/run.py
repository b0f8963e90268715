"""The reload itself: make sure PID is this unit's living program, signal it through a
pidfd, and wait for the confirmation (golaunch.reload.confirm) or its failure.

As ExecReload= it runs in the unit's cgroup, and systemd counts the reload done
when it exits, with its exit status as the result (systemd.service(5)). So it
exits 0 only for a confirmed reload of the same, still living process, and
otherwise with a status that says why, after one journal entry (check `reload`)
and a STATUS= line:

- 65 the program rejected the reload (the reload metrics say its config failed);
- 69 the program is not running (gone, or a zombie), or died of the signal;
- 75 no confirmation before the deadline;
- 77 PID is not this unit's program;
- 143 systemd stopped golaunch first (SIGTERM), which the entry says too.

The deadline is the whole command's, from golaunch's own start: systemd bounds
ExecReload= by the unit's TimeoutStartSec=, and golaunch must answer before that
(`reload_budget`). Every look at the confirmation is bounded by what is left.
Whatever confirms, the program must also be alive ALIVE_GRACE after the signal:
a probe or a metrics page served by a program on its way out proves nothing.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from golaunch.config.schema import ReloadConfig
from golaunch.findings import Finding, failed
from golaunch.reload.confirm import Verdict
from golaunch.status import ExitStatus, NotRunning, PermissionRefused, Terminated
from golaunch.syntax.printable import shortened

if TYPE_CHECKING:
    from golaunch.reload.confirm import Confirmation

NAME = "reload"
ALIVE_GRACE = 1.0  # seconds the program must outlive the signal, whatever confirms
MAX_PAUSE = 1.0  # between looks
ATTEMPT = 1.0  # seconds one look may take, at most
DEFAULT_START_TIMEOUT = 90.0  # systemd's DefaultTimeoutStartSec=


class Deadline:
    """The reload's deadline, on the monotonic clock: SECONDS from SINCE (by default now;
    the command counts from golaunch's own start, `process_age`). NOTE says what set it,
    when that was not reload.timeout alone."""

    __slots__ = ("at", "clock", "note", "seconds")

    def __init__(
        self,
        seconds: float,
        note: str = "",
        since: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.seconds = seconds
        self.note = note
        self.at = (clock() if since is None else since) + seconds

    def left(self) -> float:
        return self.at - self.clock()


def process_age() -> float:
    """Seconds since this process started (fork and interpreter start-up included)."""
    try:
        with open("/proc/self/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rpartition(")")[2].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)


def reload_budget(configured: float, unit_timeout: float | None) -> tuple[float, str]:
    """The seconds the reload may take: CONFIGURED (reload.timeout), within the unit's
    TimeoutStartSec= (UNIT_TIMEOUT; None: unknown, 0: none) less a margin for golaunch's
    own report. And a note, when the unit's timeout is what bounds it."""
    if unit_timeout is None:
        unit_timeout = DEFAULT_START_TIMEOUT
    if unit_timeout <= 0:
        return configured, ""
    within = unit_timeout - min(2.0, 0.2 * unit_timeout)
    if configured <= within:
        return configured, ""
    return within, f", as the unit's TimeoutStartSec={unit_timeout:g}s allows"


def reload_program(
    config: ReloadConfig,
    pid: int,
    notify: Callable[[str], None],
    log: Callable[[Finding], None],
    *,
    deadline: Deadline,
    proc: str = "/proc",
) -> int:
    """Reload process PID as CONFIG says, by DEADLINE; the exit status."""
    import signal

    signum = signal.Signals[f"SIG{config.signal}"]  # validated: a real signal's name
    pidfd = open_process(pid)
    try:
        same_unit(pid, pidfd, proc)
        confirmation = _confirmation(config, deadline)
        how = f"confirming by {confirmation.what}" if confirmation else "watching it live on"
        notify(f"STATUS=golaunch: reloading PID {pid} (SIG{config.signal}), {how}")
        sent_at = time.time()
        try:
            signal.pidfd_send_signal(pidfd, signum)
        except ProcessLookupError:
            raise NotRunning(_gone(pid)) from None
        verdict = _wait(pidfd, confirmation, sent_at, config, deadline)
    except Terminated:
        why = "stopped by SIGTERM before the reload was confirmed (systemd's timeout for "
        why += "ExecReload=, the unit's TimeoutStartSec=, or a stop)"
        _report(Verdict(ExitStatus.TERMINATED, why), pid, config, notify, log)
        raise Terminated("during --reload") from None
    finally:
        os.close(pidfd)
    return _report(verdict, pid, config, notify, log)


def _report(
    verdict: Verdict,
    pid: int,
    config: ReloadConfig,
    notify: Callable[[str], None],
    log: Callable[[Finding], None],
) -> int:
    message = shortened(verdict.message)
    if verdict.status == ExitStatus.OK:
        notify(f"STATUS=golaunch: reloaded PID {pid}: {message}")
        return verdict.status
    log(failed(NAME, message, GOLAUNCH_PID=str(pid), GOLAUNCH_SIGNAL=config.signal))
    notify(f"STATUS=golaunch: reload of PID {pid} failed: {message}")
    return verdict.status


def _confirmation(config: ReloadConfig, deadline: Deadline) -> Confirmation | None:
    if not config.confirm:
        return None
    from golaunch.reload.confirm import Confirmation

    confirmation = Confirmation(config.confirm, lambda: min(ATTEMPT, deadline.left()))
    confirmation.before_signal()
    return confirmation


def open_process(pid: int) -> int:
    """A pidfd for PID: from here on, PID cannot be another process."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        raise NotRunning(_gone(pid)) from None
    if exited(pidfd):
        os.close(pidfd)
        raise NotRunning(_gone(pid))
    return pidfd


def exited(pidfd: int) -> bool:
    """The process has exited (a zombie included): its pidfd reads as ready."""
    poll = select.poll()
    poll.register(pidfd, select.POLLIN)
    return bool(poll.poll(0))


def _gone(pid: int) -> str:
    return (
        f"--reload {pid}: the program (PID {pid}) is not running: it exited, so there is "
        "nothing to reload; systemctl status shows why it stopped"
    )


def same_unit(pid: int, pidfd: int, proc: str = "/proc") -> None:
    """Refuse (77) unless PID runs in the unit this process runs in, as ExecReload= does:
    no command line lets one unit signal another's program. The cgroup is read while
    PIDFD holds the process, and counts only if it is still alive afterwards: a PID
    reused in between would be another process's cgroup."""
    from golaunch.systemd.manager import own_unit

    theirs = own_unit(f"{proc}/{pid}/cgroup")
    if exited(pidfd):
        raise NotRunning(_gone(pid))
    ours = own_unit(f"{proc}/self/cgroup")
    if theirs is None or ours is None or theirs != ours:
        where = f"in {theirs.name}" if theirs else "in no service unit"
        raise PermissionRefused(
            f"--reload {pid}: PID {pid} runs {where}, and golaunch "
            f"{'in ' + ours.name if ours else 'in no service unit'}; golaunch --reload signals "
            "only its own unit's program, as ExecReload=. To reload a unit, use "
            "systemctl reload UNIT"
        )


def _wait(
    pidfd: int,
    confirmation: Confirmation | None,
    sent_at: float,
    config: ReloadConfig,
    deadline: Deadline,
) -> Verdict:
    clock = deadline.clock
    alive_from = clock() + ALIVE_GRACE
    died = Verdict(
        ExitStatus.UNAVAILABLE, f"the program died on SIG{config.signal} instead of reloading"
    )
    pause, last, confirmed = 0.1, "", confirmation is None
    while True:
        if exited(pidfd):
            return died
        if confirmed:  # now it must live on until the grace is over
            wait = alive_from - clock()
            if wait <= 0:
                return Verdict(ExitStatus.OK, last or "it lives on")
        else:
            assert confirmation is not None
            look = confirmation.look(sent_at)
            if look.verdict is not None:
                return look.verdict
            confirmed, last = look.done, look.last
            wait = 0 if confirmed else pause
            pause = min(pause * 2, MAX_PAUSE)
        left = deadline.left()
        if left <= 0:
            what = confirmation.what if confirmation else "the program"
            return Verdict(
                ExitStatus.TEMPFAIL,
                f"{what} did not confirm the reload within {deadline.seconds:g} s"
                f"{deadline.note} (last: {last or 'nothing'})",
            )
        if _poll(pidfd, min(wait, left)):
            return died


def _poll(pidfd: int, seconds: float) -> bool:
    poll = select.poll()
    poll.register(pidfd, select.POLLIN)
    return bool(poll.poll(int(seconds * 1000)))


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
