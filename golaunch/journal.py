"""Writing findings to the journal, falling back to stderr so nothing is lost."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

from golaunch.findings import LAUNCH_MESSAGE_ID, Finding, Severity

JOURNAL_SOCKET = "/run/systemd/journal/socket"
SYSLOG_IDENTIFIER = "golaunch"
PRIORITIES = {Severity.FAIL: 3, Severity.WARN: 4}
INFO = 6

JournalSender = Callable[[Mapping[str, str]], None]


def send_to_journal(fields: Mapping[str, str]) -> None:
    """Send one entry over the native protocol; raise OSError when it did not arrive."""
    # cysystemd.journal.send is this same function re-exported, but importing
    # cysystemd.journal pulls in logging, uuid and traceback: 13 ms at every start.
    from cysystemd._journal import send

    result = send(**fields)
    if result < 0:
        raise OSError(-result, os.strerror(-result))


def finding_fields(finding: Finding, program: str) -> dict[str, str]:
    fields = {
        "MESSAGE": f"{finding.check}: {finding.message}",
        "PRIORITY": str(PRIORITIES.get(finding.severity, INFO)),
        "SYSLOG_IDENTIFIER": SYSLOG_IDENTIFIER,
        "GOLAUNCH_CHECK": finding.check,
        "GOLAUNCH_PROGRAM": program,
    }
    if finding.message_id:
        fields["MESSAGE_ID"] = finding.message_id
    fields.update(finding.fields)
    return fields


def launch_fields(program: str, argv: tuple[str, ...], pid: int) -> dict[str, str]:
    return {
        "MESSAGE": f"launching {program} as PID {pid}",
        "PRIORITY": str(INFO),
        "MESSAGE_ID": LAUNCH_MESSAGE_ID,
        "SYSLOG_IDENTIFIER": SYSLOG_IDENTIFIER,
        "GOLAUNCH_CHECK": "exec",
        "GOLAUNCH_PROGRAM": program,
        "GOLAUNCH_ARGV": " ".join(argv),
    }


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
    already the journal. A failed send always falls back to stderr.
    """

    def __init__(
        self,
        target: str,
        send: JournalSender,
        stderr: TextIO,
        stderr_is_journal: bool,
        journal_present: bool,
    ) -> None:
        self.send = send
        self.stderr = stderr
        self.stderr_is_journal = stderr_is_journal
        # sd_journal_sendv reports success when the socket is missing (it
        # ignores ENOENT), so golaunch looks for the socket itself.
        self.to_journal = target == "journal" or (target == "auto" and journal_present)
        self.echo = target == "stderr" or (target == "auto" and not stderr_is_journal)

    def log(self, fields: Mapping[str, str]) -> None:
        if self.to_journal:
            try:
                self.send(fields)
            except (OSError, ValueError) as e:
                self._line(fields, f" (journal unavailable: {e})")
                return
            if not self.echo:
                return
        self._line(fields, "")

    def _line(self, fields: Mapping[str, str], note: str) -> None:
        # When stderr is a journal stream, a <N> prefix carries the priority, as
        # systemd reads stream lines (level_prefix=1).
        prefix = f"<{fields['PRIORITY']}>" if self.stderr_is_journal else ""
        try:
            self.stderr.write(f"{prefix}golaunch: {fields['MESSAGE']}{note}\n")
            self.stderr.flush()
        except OSError:
            pass  # stderr is closed: there is nowhere left to tell


def system_logger(target: str, environ: Mapping[str, str]) -> Logger:
    return Logger(
        target,
        send_to_journal,
        sys.stderr,
        stderr_is_journal(environ),
        os.path.exists(JOURNAL_SOCKET),
    )
