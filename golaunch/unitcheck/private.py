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
    enter_own_mount_namespace()
    for root, own in private.items():
        if not os.path.isdir(root):
            continue
        # Held open before the tmpfs hides them, bound back from /proc/self/fd.
        held = [(d, os.open(d, os.O_PATH | os.O_DIRECTORY)) for d in own if os.path.isdir(d)]
        try:
            mount(b"tmpfs", root, b"tmpfs", 0, b"mode=0755")
            for directory, fd in held:
                os.makedirs(directory, mode=0o755, exist_ok=True)
                mount(f"/proc/self/fd/{fd}".encode(), directory, None, MS_BIND)
        finally:
            for _, fd in held:
                os.close(fd)


def enter_own_mount_namespace() -> None:
    """A mount namespace for this process alone, with / private: / is shared under
    systemd, and no mount made in here may reach the host. Root only."""
    _call(_libc().unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _call(_libc().mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "making / private")


def mount(
    source: bytes, target: str, fstype: bytes | None, flags: int, data: bytes | None = None
) -> None:
    """mount(2), an OSError naming TARGET when it fails."""
    _call(_libc().mount(source, target.encode(), fstype, flags, data), target)


def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _call(result: int, what: str) -> None:
    if result != 0:
        import ctypes

        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")
