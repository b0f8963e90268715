"""sd_notify(3): telling systemd how the start goes."""

from __future__ import annotations

TYPE_CHECKING = False  # on the warm path: no typing, no collections
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    Notifier = Callable[[str], None]
# PID 1 reads the notify socket at once; a send still blocked after this means
# the manager is stuck, and waiting longer would only hide it.
SEND_TIMEOUT = 5.0
BARRIER_TIMEOUT = 5.0


class NotifyError(Exception):
    pass


# A relay may act on these anywhere in a datagram: podman's conmon forwards any message
# that contains one as a bare READY=1, STATUS= text included.
TRIGGERS = ("READY=1", "WATCHDOG=1")


def ascii_status(text: str) -> str:
    """STATUS= is one line; keep it printable ASCII so every tool shows it the same, and
    never let it carry READY=1 or WATCHDOG=1 (a URL or a path may): '=' becomes \\x3d
    there, as the escaping of every other output writes it."""
    from golaunch.syntax.printable import visible

    line = visible(text).encode("ascii", "backslashreplace").decode("ascii")
    for trigger in TRIGGERS:
        line = line.replace(trigger, trigger.replace("=", "\\x3d"))
    return line


def connect_notifier(environ: Mapping[str, str]) -> Notifier:
    """A function sending one datagram per call to the socket NOTIFY_SOCKET names; raises
    NotifyError if it is unset, malformed or unreachable.

    ENVIRON is golaunch's own environment (golaunch.__main__.as_started), and its
    NOTIFY_SOCKET is judged and named in every error. sdnotify connects to the one in
    os.environ, the same variable; an ENVIRON that says otherwise is refused rather
    than sent elsewhere. sdnotify swallows errors unless debug=True, so it is created
    with debug=True and its errors become NotifyError. BARRIER=1 carries a file
    descriptor, which sdnotify cannot send: `barrier` has a socket of its own.
    """
    import os

    address = environ.get("NOTIFY_SOCKET", "")
    if not address:
        raise NotifyError("NOTIFY_SOCKET is not set; use notify.mode = none outside systemd")
    if not (address.startswith("/") or address.startswith("@")):
        raise NotifyError(f"NOTIFY_SOCKET={address!r} is neither a path nor an abstract (@) socket")
    if os.environ.get("NOTIFY_SOCKET") != address:
        raise NotifyError(f"NOTIFY_SOCKET={address} is not this process's own NOTIFY_SOCKET")
    import sdnotify

    try:
        notifier = sdnotify.SystemdNotifier(debug=True)
    except OSError as e:
        raise NotifyError(f"cannot connect to NOTIFY_SOCKET={address}: {e.strerror or e}") from None
    notifier.socket.settimeout(SEND_TIMEOUT)

    def send(message: str) -> None:
        try:
            notifier.notify(message)
        except TimeoutError:
            raise NotifyError(
                f"NOTIFY_SOCKET={address} took nothing for {SEND_TIMEOUT:g} s (socket full)"
            ) from None
        except OSError as e:
            raise NotifyError(
                f"cannot send to NOTIFY_SOCKET={address}: {e.strerror or e}"
            ) from None

    return send


def barrier(address: str, timeout: float = BARRIER_TIMEOUT) -> None:
    """BARRIER=1 (sd_notify(3)): its own datagram with one fd; wait until the manager closes it."""
    import array
    import os
    import select
    import socket

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


USEC_INFINITY = 2**64 - 1  # systemd's "not set"


def watchdog_usec(environ: Mapping[str, str], pid: int) -> int | None:
    """The watchdog interval meant for process PID, as sd_watchdog_enabled(3) decides: None
    when WATCHDOG_USEC is unset or WATCHDOG_PID names another process. ValueError, naming
    the variable, when either is not a number systemd could have written (0 and infinity
    are refused there too: timestamp_is_set())."""
    value = environ.get("WATCHDOG_USEC")
    if value is None:
        return None
    owner = environ.get("WATCHDOG_PID")
    if owner is not None:
        from golaunch.syntax.pid import parse_pid

        named = parse_pid(owner)
        if named is None:
            raise ValueError(f"WATCHDOG_PID={owner!r} is not a process ID")
        if named != pid:
            return None
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < USEC_INFINITY:
        raise ValueError(
            f"WATCHDOG_USEC={value!r} is not a positive number of microseconds "
            "(systemd writes WatchdogSec= there in microseconds)"
        )
    return int(value)
