"""A DynamicUser= unit's own directories, as its service sees them.

For DynamicUser=yes, systemd creates StateDirectory=, CacheDirectory= and
LogsDirectory= below /var/lib/private, /var/cache/private and /var/log/private,
which are 0700 root so that a recycled uid can never reach them, and links
/var/cache/NAME to private/NAME (systemd.exec(5), DynamicUser=). Inside the
service's mount namespace the private directory is made reachable, holding the
unit's own directories only. A check's child, run as the unit's uid, needs that
view too, or every such cache looks unreachable: so, as root and before it
becomes the unit's user, the child enters a mount namespace of its own and puts
a 0755 tmpfs over each private directory with the unit's own directories bound
back in. Nothing changes outside the child.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

# The settings that live below a private directory under DynamicUser=yes.
PRIVATE = {
    "StateDirectory": "/var/lib/private",
    "CacheDirectory": "/var/cache/private",
    "LogsDirectory": "/var/log/private",
}
CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000


def private_directories(service: Mapping[str, Any]) -> dict[str, list[str]]:
    """{private root: the unit's own directories below it}, for a DynamicUser= unit."""
    if not service.get("DynamicUser"):
        return {}
    found: dict[str, list[str]] = {}
    for setting, root in PRIVATE.items():
        names = [str(name) for name in service.get(setting) or []]
        if names:
            found[root] = [os.path.join(root, name) for name in names]
    return found


def enter_service_view(private: Mapping[str, Sequence[str]]) -> None:
    """In this process only: each private root as the service sees it. Root only."""
    if not private:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def check(result: int, what: str) -> None:
        if result != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"{what}: {os.strerror(error)}")

    check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "making / private")
    for root, own in private.items():
        if not os.path.isdir(root):
            continue
        # Held open before the tmpfs hides them, bound back from /proc/self/fd.
        held = [(d, os.open(d, os.O_PATH | os.O_DIRECTORY)) for d in own if os.path.isdir(d)]
        try:
            check(libc.mount(b"tmpfs", root.encode(), b"tmpfs", 0, b"mode=0755"), root)
            for directory, fd in held:
                os.makedirs(directory, mode=0o755, exist_ok=True)
                source = f"/proc/self/fd/{fd}".encode()
                check(libc.mount(source, directory.encode(), None, MS_BIND, None), directory)
        finally:
            for _, fd in held:
                os.close(fd)
