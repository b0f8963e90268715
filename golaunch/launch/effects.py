"""The side effects of a start, as values: journal, sd_notify, output streams, execve.

The startup sequence (golaunch.launch.startup) receives them, so the whole decision
path runs in tests with fakes; `system_effects` wires the real ones, which
tests/system proves under the booted systemd.
"""

from __future__ import annotations

import os
import sys

from golaunch.systemd.journal import system_logger
from golaunch.systemd.notify import connect_notifier

TYPE_CHECKING = False  # on the warm path: typing would cost 5 ms
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from golaunch.systemd.notify import Notifier


class Effects:
    """A plain class, not a NamedTuple: it is built at every start, warm ones too."""

    __slots__ = (
        "attach_output",
        "connect_notifier",
        "execve",
        "log",
        "make_directory",
        "spawn_helper",
    )

    def __init__(
        self,
        *,
        log: Callable[[Mapping[str, str]], None],
        connect_notifier: Callable[[Mapping[str, str]], Notifier],
        execve: Callable[[str, Sequence[str], Mapping[str, str]], None],
        # (identifier, golaunch's environment) -> the program's new JOURNAL_STREAM, if any
        attach_output: Callable[[str, Mapping[str, str]], str | None],
        # Creates a directory the checks judged creatable; raises OSError.
        make_directory: Callable[[str], None],
        # (spec, environment) -> starts golaunch.readiness.helper, detached; raises OSError
        spawn_helper: Callable[[dict[str, object], Mapping[str, str]], None],
    ) -> None:
        self.log = log
        self.connect_notifier = connect_notifier
        self.execve = execve
        self.attach_output = attach_output
        self.make_directory = make_directory
        self.spawn_helper = spawn_helper


def system_effects(log_target: str, environ: Mapping[str, str]) -> Effects:
    return Effects(
        log=system_logger(log_target, environ).log,
        connect_notifier=connect_notifier,
        execve=real_execve,
        attach_output=_attach_program_streams,
        make_directory=_make_private_directory,
        spawn_helper=spawn_helper,
    )


def _attach_program_streams(identifier: str, environ: Mapping[str, str]) -> str | None:
    from golaunch.systemd.journal import journal_stream_fds

    if not journal_stream_fds(environ):
        return None  # output is not the journal: the stream code need not even load
    from golaunch.systemd.streams import attach_program_streams

    return attach_program_streams(identifier, environ)


def _make_private_directory(path: str) -> None:
    os.makedirs(path, mode=0o700, exist_ok=True)


# util-linux's setsid --fork: the double fork, from a vfork-style posix_spawn that copies
# no page tables (1.8 ms here, where os.fork of the launch path took 9 ms).
SETSID = "/usr/bin/setsid"


def spawn_helper(spec: dict[str, object], environment: Mapping[str, str]) -> None:
    """golaunch.readiness.helper in a fresh interpreter, forked twice: the manager adopts
    it, and the program golaunch becomes never has a child it does not know of. It watches
    golaunch's PID (the program's, after exec) through a pidfd taken here."""
    import json

    pidfd = os.pidfd_open(os.getpid())
    try:
        os.set_inheritable(pidfd, True)
        helper = [sys.executable, "-I", "-m", "golaunch.readiness.helper"]
        argv = ["setsid", "--fork", *helper, json.dumps({**spec, "pidfd": pidfd})]
        closed = [(os.POSIX_SPAWN_CLOSE, fd) for fd in inherited_fds() if fd != pidfd]
        pid = os.posix_spawn(SETSID, argv, environment, file_actions=closed)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(pidfd)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError(f"{SETSID} --fork exited with status {os.waitstatus_to_exitcode(status)}")


def inherited_fds() -> list[int]:
    """The descriptors beyond stdio that a spawned process would inherit: the sockets systemd
    passed in (LISTEN_FDS), and any other the manager left open. The helper closes them in
    the spawn itself, so that from the exec on the program is their only holder: a helper
    still holding a listener would have the kernel complete handshakes for it."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd > 2 and os.get_inheritable(fd):
                found.append(fd)
        except OSError:
            continue  # the listing's own descriptor, closed by now
    return found


def real_execve(path: str, argv: Sequence[str], environment: Mapping[str, str]) -> None:
    for stream in (sys.stdout, sys.stderr):  # None when started with the fd closed
        try:  # noqa: SIM105  (contextlib is not loaded on the warm path)
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass  # a full or closed stream is the program's to find out
    os.execve(path, list(argv), dict(environment))
