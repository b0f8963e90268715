"""The program's stdout/stderr as journal streams under the program's own name.

With `ExecStart=golaunch -- PROGRAM`, systemd connects fds 1 and 2 to a journal
stream named after golaunch, so every line the program prints would carry
SYSLOG_IDENTIFIER=golaunch. Just before exec, golaunch opens a new stream with
the same settings (priority, level prefix, forwarding) but the program's name,
and puts it on the fds that were the journal (JOURNAL_STREAM matches them).

systemd does not tell a service its SyslogIdentifier= or SyslogLevel=.
journald keeps each stream's settings in /run/systemd/journal/streams/ to
survive its own restarts; golaunch reads the ones of its unit from there, and
treats anything it cannot read or does not recognise as "use the defaults"
(systemd's own: priority info, level prefix on, no forwarding). When the unit
set an identifier of its own, that identifier wins and the fds stay as they are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from golaunch.syntax.printable import visible
from golaunch.systemd.journal import journal_stream_fds
from golaunch.systemd.manager import own_unit

STDOUT_SOCKET = "/run/systemd/journal/stdout"
STREAMS_DIRECTORY = "/run/systemd/journal/streams"
# What systemd names a stream when the unit has no SyslogIdentifier=: the
# basename of the command it executed, which is golaunch.
DEFAULT_IDENTIFIER = "golaunch"


@dataclass(frozen=True)
class StreamSettings:
    """The header fields of the stream protocol after the identifier and unit."""

    identifier: str = DEFAULT_IDENTIFIER
    priority: int = 30  # LOG_DAEMON | LOG_INFO, systemd's default for services
    level_prefix: bool = True
    forward_to_syslog: bool = False
    forward_to_kmsg: bool = False
    forward_to_console: bool = False

    def header(self, identifier: str) -> bytes:
        flags = (
            self.level_prefix,
            self.forward_to_syslog,
            self.forward_to_kmsg,
            self.forward_to_console,
        )
        # The identifier comes from the program's file name: any bytes but / and NUL.
        name = visible(identifier) or DEFAULT_IDENTIFIER
        lines = [name, "", str(self.priority), *("1" if f else "0" for f in flags)]
        return "".join(f"{line}\n" for line in lines).encode()


def unit_stream_settings(unit: str, directory: str = STREAMS_DIRECTORY) -> StreamSettings:
    """The settings systemd gave this unit's streams, or the defaults when unsure."""
    found: set[StreamSettings] = set()
    try:
        names = os.listdir(directory)
    except OSError:
        return StreamSettings()
    for name in names:
        values = _read_state(os.path.join(directory, name))
        if values.get("UNIT") == unit:
            found.add(_settings(values))
    # Streams of one unit that disagree (two commands with different settings)
    # leave no way to tell which is ours.
    return found.pop() if len(found) == 1 else StreamSettings()


def _read_state(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(4096)
    except OSError:
        return {}
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and line[:1] != "#")


def _settings(values: Mapping[str, str]) -> StreamSettings:
    def flag(name: str, default: bool) -> bool:
        return {"1": True, "0": False}.get(values.get(name, ""), default)

    priority = values.get("PRIORITY", "")
    defaults = StreamSettings()
    return StreamSettings(
        identifier=values.get("IDENTIFIER", DEFAULT_IDENTIFIER),
        priority=int(priority) if priority.isdigit() else defaults.priority,
        level_prefix=flag("LEVEL_PREFIX", defaults.level_prefix),
        forward_to_syslog=flag("FORWARD_TO_SYSLOG", defaults.forward_to_syslog),
        forward_to_kmsg=flag("FORWARD_TO_KMSG", defaults.forward_to_kmsg),
        forward_to_console=flag("FORWARD_TO_CONSOLE", defaults.forward_to_console),
    )


def open_stream(identifier: str, settings: StreamSettings, path: str = STDOUT_SOCKET) -> int:
    """A connected stream socket, header sent, as a bare fd; raises OSError."""
    import socket  # 4 ms: only when the output is the journal

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.connect(path)
        # journald reads lines, never the other way: close our reading side as
        # sd_journal_stream_fd does, so nothing ever blocks on it.
        sock.shutdown(socket.SHUT_RD)
        sock.sendall(settings.header(identifier))
    except OSError:
        sock.close()
        raise
    return sock.detach()


def attach_program_streams(identifier: str, environ: Mapping[str, str]) -> str | None:
    """Replace the journal fds with streams named IDENTIFIER.

    Returns the new JOURNAL_STREAM value for the program, or None when nothing
    changed (fds are not the journal, the unit named its stream, or journald
    refused: then the output still reaches the journal under golaunch's name).
    """
    fds = journal_stream_fds(environ)
    if not fds:
        return None
    unit = own_unit()
    settings = unit_stream_settings(unit.name) if unit else StreamSettings()
    if settings.identifier != DEFAULT_IDENTIFIER or identifier == DEFAULT_IDENTIFIER:
        return None
    try:
        stream = open_stream(identifier, settings)
    except OSError:
        return None
    for fd in fds:
        os.dup2(stream, fd)  # dup2 leaves the copies inheritable, unlike the original
    info = os.fstat(fds[0])
    os.close(stream)
    return f"{info.st_dev}:{info.st_ino}"
