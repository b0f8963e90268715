"""Writing a report file so that a reader never sees half of one (--check --output)."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def write_atomically(path: str, text: str, mode: int | None = None) -> None:
    """Write PATH so that a reader sees the old file or the new one, never half of one:
    a temporary file in the same directory, fsync'd, renamed over it.

    MODE None keeps what an existing file has, else what the umask gives a new one: a
    JSON or text report holds the program's environment, secrets included, and must
    not become readable because it was refreshed. Metrics pass 0o644, since
    node_exporter, running as another user, reads them."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8", "surrogateescape"))
            f.flush()
            os.fchmod(f.fileno(), _mode(path) if mode is None else mode)
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _mode(path: str) -> int:
    """The mode PATH has, or what open(2) would give it new: 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0o077)  # read it: there is no other way
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def exclusive(path: str) -> Iterator[None]:
    """Hold a lock beside PATH (.NAME.lock, which no *.prom reader picks up) while
    PATH is read and rewritten: writers take turns, readers never wait."""
    import fcntl

    directory, name = os.path.split(os.path.abspath(path))
    lock = os.path.join(directory, f".{name}.lock")
    # Whoever can write the directory could put a symlink there: root must not follow it
    # and create or truncate a file elsewhere (/etc/nologin). O_NOFOLLOW refuses a link.
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(lock, flags, 0o600)
    except FileNotFoundError:  # the metrics directory of a node exporter not installed
        why = f"the directory {directory} does not exist: create it, or write elsewhere"
        raise OSError(errno.ENOENT, why) from None
    except OSError as e:  # ELOOP, EISDIR, ENXIO (a FIFO): something else took the name
        raise OSError(e.errno, _no_lock(lock, e.strerror)) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a device put in its place
            raise OSError(errno.EINVAL, _no_lock(lock, "not a regular file"))
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _no_lock(lock: str, why: str | None) -> str:
    return f"cannot use the lock {lock} ({why}): it must be a regular file; remove what is there"
