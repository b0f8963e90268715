"""sd_notify(3): telling systemd how the start goes."""

from __future__ import annotations

from collections.abc import Callable, Mapping

Notifier = Callable[[str], None]
# PID 1 reads the notify socket at once; a send still blocked after this means
# the manager is stuck, and waiting longer would only hide it.
SEND_TIMEOUT = 5.0


class NotifyError(Exception):
    pass


def ascii_status(text: str) -> str:
    """STATUS= is one line; keep it printable ASCII so every tool shows it the same."""
    from golaunch.printable import visible

    return visible(text).encode("ascii", "backslashreplace").decode("ascii")


def connect_notifier(environ: Mapping[str, str]) -> Notifier:
    """A function sending one datagram to $NOTIFY_SOCKET; raises NotifyError if unreachable.

    sdnotify reads NOTIFY_SOCKET from os.environ and swallows errors unless
    debug=True, so it is created with debug=True and its errors become NotifyError.
    """
    address = environ.get("NOTIFY_SOCKET", "")
    if not address:
        raise NotifyError("NOTIFY_SOCKET is not set; use notify.mode = none outside systemd")
    if not (address.startswith("/") or address.startswith("@")):
        raise NotifyError(f"NOTIFY_SOCKET={address!r} is neither a path nor an abstract (@) socket")
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
