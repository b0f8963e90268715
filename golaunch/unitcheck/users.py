"""Whose service manager --check --unit asks: PID 1, or a user's (--user, --user-of).

A user's manager answers on that user's bus, which takes only that user. So for
--user-of, golaunch becomes the user before it asks anything, as `machinectl shell`
or `runuser` would: everything after, the checks' children too, runs as the user,
which is who a user manager's services run as.
"""

from __future__ import annotations

import os
import pwd

from golaunch.status import PermissionRefused, UsageError
from golaunch.systemd.manager import UserManager


def calling_user() -> UserManager:
    """--user: the manager of the user golaunch runs as."""
    return _of(pwd.getpwuid(os.geteuid()))


def become(name: str) -> UserManager:
    """--user-of NAME: become NAME (root only) and return NAME's manager."""
    try:
        entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except KeyError:
        raise UsageError(f"--user-of {name}: no such user") from None
    if os.geteuid() != 0:
        raise PermissionRefused(
            f"--user-of {name} needs root; as {entry.pw_name} itself, use --user"
        )
    os.setgroups(os.getgrouplist(entry.pw_name, entry.pw_gid))
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    return _of(entry)


def _of(entry: pwd.struct_passwd) -> UserManager:
    return UserManager(entry.pw_uid, entry.pw_gid, entry.pw_name, entry.pw_dir, entry.pw_shell)
