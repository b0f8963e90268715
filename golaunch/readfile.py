"""Reading the files golaunch trusts to be small: the configuration (config.file,
config.plain), the go env files (host.godirs), $GOROOT/VERSION (host.toolchain), a
script's #! line (host.execution), credentials (host.credentials, and
unitcheck.credentials for LoadCredential= sources), EnvironmentFile= files
(unitcheck.environment), and the metrics file a refresh merges into
(golaunch.commands). Regular files only, opened without blocking, read up to a cap:
a FIFO, a device or a huge file is an error, never a hang."""

from __future__ import annotations

import errno
import os
import stat


class NotRegularFile(OSError):
    """str(self) says what the file is instead."""


def read_regular_file(path: str, limit: int) -> bytes:
    """Up to LIMIT + 1 bytes of PATH (so a caller can tell "too large"); raises OSError.

    O_NONBLOCK keeps a FIFO from blocking the open; fstat after open checks the
    file actually read, not whatever the name pointed to a moment earlier.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(errno.EINVAL, f"is {file_type(info.st_mode)}, not a regular file")
        return os.read(fd, limit + 1)
    finally:
        os.close(fd)


def file_type(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")
