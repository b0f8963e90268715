"""Writing findings to the journal, falling back to stderr so nothing is lost."""

from __future__ import annotations

import errno
import os
import sys

from golaunch.syntax.printable import visible

TYPE_CHECKING = False  # on the warm path (golaunch.launch.finish): no typing, no findings
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import TextIO

    from golaunch.findings import Finding

JOURNAL_SOCKET = "/run/systemd/journal/socket"
SYSLOG_IDENTIFIER = "golaunch"
PRIORITIES = {"fail": 3, "warn": 4}  # by Severity's value
INFO = 6
# The one informational entry, written just before exec (units/golaunch.catalog).
LAUNCH_MESSAGE_ID = "6c442fa101754f8e95a8ae0d1af6b6c9"
# sd_journal_sendv blocks while journald's socket queue is full (a stuck or
# overloaded journald); past this, the entry goes to stderr instead.
JOURNAL_SEND_TIMEOUT = 1.0

if TYPE_CHECKING:
    JournalSender = Callable[[Mapping[str, str]], None]


def send_to_journal(fields: Mapping[str, str], timeout: float = JOURNAL_SEND_TIMEOUT) -> None:
    """Send one entry over the native protocol; raise OSError when it did not arrive."""
    # cysystemd.journal.send is this same function re-exported, but importing
    # cysystemd.journal pulls in logging, uuid and traceback: 13 ms at every start.
    from cysystemd._journal import send

    alarm = _Alarm(timeout)
    try:
        result = send(**fields)
    finally:
        alarm.stop()
    if result == -errno.EINTR:
        raise OSError(errno.ETIMEDOUT, f"journald took no entry for {timeout:g} s (socket full)")
    if result < 0:
        raise OSError(-result, os.strerror(-result))


class _Alarm:
    """Interrupt a blocking system call after SECONDS with SIGALRM (it then fails with EINTR).

    stop() puts everything back: an interval timer or a pending signal would outlive
    execve(2) and could kill the program later. _signal, not signal: the launch path
    does not load enum for it.
    """

    def __init__(self, seconds: float) -> None:
        import _signal

        self.seconds = seconds
        self.previous = _signal.signal(_signal.SIGALRM, _interrupted)
        self.mask = _signal.pthread_sigmask(_signal.SIG_UNBLOCK, {_signal.SIGALRM})
        self.earlier, self.interval = _signal.setitimer(_signal.ITIMER_REAL, seconds)

    def stop(self) -> None:
        import _signal

        left, _ = _signal.setitimer(_signal.ITIMER_REAL, 0)
        _signal.pthread_sigmask(_signal.SIG_SETMASK, self.mask)
        _signal.signal(_signal.SIGALRM, self.previous)
        if self.earlier:  # someone's timer was running: it runs on, less the time spent here
            spent = self.seconds - left
            _signal.setitimer(_signal.ITIMER_REAL, max(self.earlier - spent, 1e-6), self.interval)


def _interrupted(signum: int, frame: object) -> None:
    """Only here so the signal interrupts the call instead of ending the process."""


def finding_fields(finding: Finding, label: str) -> dict[str, str]:
    """FINDING as a journal entry about the program golaunch names LABEL."""
    fields = {
        "MESSAGE": f"{finding.check}: {finding.message}",
        "PRIORITY": str(PRIORITIES.get(finding.severity.value, INFO)),
        "SYSLOG_IDENTIFIER": SYSLOG_IDENTIFIER,
        "GOLAUNCH_CHECK": finding.check,
        "GOLAUNCH_PROGRAM": label,
    }
    if finding.message_id:
        fields["MESSAGE_ID"] = finding.message_id
    fields.update(finding.fields)
    return fields


def launch_fields(
    label: str,
    argv: tuple[str, ...],
    pid: int,
    derived: Sequence[tuple[str, str, str]] = (),
    dropped: Sequence[str] = (),
) -> dict[str, str]:
    """The one entry before exec. DERIVED: (variable, value, cgroup file) golaunch set
    from the cgroup's limits, named in the message and as GOLAUNCH_<VARIABLE>(_SOURCE).
    DROPPED: the inherited variables the program does not get, by name only."""
    message = f"launching {label} as PID {pid}"
    if derived:
        message += " with " + ", ".join(f"{v}={value} (from {file})" for v, value, file in derived)
    if dropped:
        message += f"; not passed: {' '.join(dropped)} (--keep-env NAME passes one on)"
    fields = {
        "MESSAGE": message,
        "PRIORITY": str(INFO),
        "MESSAGE_ID": LAUNCH_MESSAGE_ID,
        "SYSLOG_IDENTIFIER": SYSLOG_IDENTIFIER,
        "GOLAUNCH_CHECK": "exec",
        "GOLAUNCH_PROGRAM": label,
        "GOLAUNCH_ARGV": " ".join(argv),
    }
    for variable, value, file in derived:
        fields[f"GOLAUNCH_{variable}"] = value
        fields[f"GOLAUNCH_{variable}_SOURCE"] = file
    if dropped:
        fields["GOLAUNCH_DROPPED"] = " ".join(dropped)
    return fields


def journal_stream_fds(
    environ: Mapping[str, str], fds: tuple[int, ...] = (1, 2)
) -> tuple[int, ...]:
    """The FDS that are the stream systemd names in JOURNAL_STREAM=dev:ino."""
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return ()
    matching = []
    for fd in fds:
        try:
            info = os.fstat(fd)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) == (int(device), int(inode)):
            matching.append(fd)
    return tuple(matching)


def stderr_is_journal(environ: Mapping[str, str]) -> bool:
    return bool(journal_stream_fds(environ, (2,)))


class Logger:
    """Routes entries by log.target: the journal, stderr, or both.

    auto: the journal when its socket exists, and stderr too unless stderr is
    already the journal. An entry the journal did not take goes to stderr, and
    after the first such failure every entry does: a stuck journald costs one
    timeout, not one per entry.
    """

    def __init__(
        self,
        target: str,
        send: JournalSender,
        stderr: TextIO | None,  # None when golaunch was started with fd 2 closed
        stderr_is_journal: bool,
        journal_present: bool,
    ) -> None:
        self.send = send
        self.stderr = stderr
        self.stderr_is_journal = stderr_is_journal
        self.to_journal = target == "journal" or (target == "auto" and journal_present)
        self.echo = target == "stderr" or (target == "auto" and not stderr_is_journal)
        # sd_journal_sendv reports success when the socket is missing (it
        # ignores ENOENT), so golaunch looks for the socket itself.
        self.unavailable = "" if journal_present else f"no {JOURNAL_SOCKET}"

    def log(self, fields: Mapping[str, str]) -> None:
        # Values may hold anything a path or an argument can (golaunch.syntax.printable).
        fields = {name: visible(value) for name, value in fields.items()}
        if self.to_journal and not self.unavailable:
            try:
                self.send(fields)
            except OSError as e:
                self.unavailable = e.strerror or str(e)
            except ValueError as e:  # this entry's, not the journal's: the next one is tried
                self._line(fields, f" (journal refused this entry: {visible(str(e))})")
                return
            else:
                if self.echo:
                    self._line(fields, "")
                return
        note = f" (journal unavailable: {self.unavailable})" if self.to_journal else ""
        self._line(fields, note)

    def _line(self, fields: Mapping[str, str], note: str) -> None:
        # When stderr is a journal stream, a <N> prefix carries the priority, as
        # systemd reads stream lines (level_prefix=1).
        prefix = f"<{fields['PRIORITY']}>" if self.stderr_is_journal else ""
        if self.stderr is None:
            return
        try:
            self.stderr.write(f"{prefix}golaunch: {fields['MESSAGE']}{note}\n")
            self.stderr.flush()
        except (OSError, ValueError):
            pass  # stderr is closed or full: there is nowhere left to tell


def system_logger(target: str, environ: Mapping[str, str]) -> Logger:
    return Logger(
        target,
        send_to_journal,
        sys.stderr,
        stderr_is_journal(environ),
        os.path.exists(JOURNAL_SOCKET),
    )
