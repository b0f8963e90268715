"""Where the warm start keeps its plans (golaunch.launch.plan), and how it reads them.

The store is a directory of the effective user's own: $CACHE_DIRECTORY/golaunch
(systemd's CacheDirectory=, which stays writable under ProtectSystem=strict),
else /run/golaunch for root or $XDG_RUNTIME_DIR/golaunch for others. Only a real
directory and files of that user, writable by nobody else, are read. That keeps
other users out, but not the service itself, which runs as that user: whatever
is here may have been written by the program golaunch started. So a plan is
read as untrusted input (bounded here, validated by golaunch.launch.plan), and
decides nothing but whether this start checks again.
"""

from __future__ import annotations

import os
import stat

from golaunch.host.godirs import first_cache_directory

TYPE_CHECKING = False  # the warm start reads plans here
if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_FILE_BYTES = 1 << 20
# One plan per distinct command line and environment would grow forever: a plan
# unused this long goes, and beyond this many the least recently used go.
MAX_AGE_SECONDS = 30 * 24 * 3600
MAX_FILES = 64
SUFFIX = ".plan"
# What earlier versions kept here (validated configurations): removed when pruning.
FORMER_SUFFIXES = (".entry",)


def store_directory(environ: Mapping[str, str]) -> str | None:
    cache_directory = first_cache_directory(environ)
    if cache_directory:
        return os.path.join(cache_directory, "golaunch")
    if os.geteuid() == 0:
        return "/run/golaunch"
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    return os.path.join(runtime, "golaunch") if runtime.startswith("/") else None


def private_directory(path: str, create: bool) -> bool:
    """PATH is a real directory of ours that nobody else can write."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if not create:
            return False
        try:
            os.mkdir(path, 0o700)
        except OSError:
            return False
        info = os.lstat(path)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def read_file(path: str) -> bytes | None:
    """PATH's bytes, if it is a regular file of ours, private, not a link, at most
    MAX_FILE_BYTES; None otherwise. Using it marks it used, for pruning."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if (
            not stat.S_ISREG(info.st_mode)
            or info.st_uid != os.geteuid()
            or info.st_mode & 0o077
            or info.st_size > MAX_FILE_BYTES
        ):
            return None
        data = os.read(fd, MAX_FILE_BYTES + 1)
        os.utime(fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= MAX_FILE_BYTES else None


def write_file(final: str, data: bytes) -> None:
    """Put DATA at FINAL, a file in a private directory of ours (made if need be), atomically;
    silent on failure: a plan not kept only costs the next start its speed. Prunes the
    directory afterwards."""
    import contextlib

    directory = os.path.dirname(final)
    if not private_directory(directory, create=True):
        return
    temporary = f"{final}.{os.getpid()}.tmp"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, final)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    prune(directory)


def prune(directory: str, now: float | None = None) -> None:
    """Drop plans unused for MAX_AGE_SECONDS, then all but the MAX_FILES used last,
    temporaries a crash left behind, and what earlier versions kept."""
    import contextlib
    import time

    now = time.time() if now is None else now
    found = []
    with contextlib.suppress(OSError), os.scandir(directory) as listing:
        for item in listing:
            if item.name.endswith(FORMER_SUFFIXES):
                with contextlib.suppress(OSError):
                    os.unlink(item.path)
            elif item.name.endswith((SUFFIX, ".tmp")):
                with contextlib.suppress(OSError):
                    used = item.stat(follow_symlinks=False).st_mtime
                    found.append((used, item.path, item.name.endswith(".tmp")))
    found.sort(reverse=True)
    kept = 0
    for used, path, temporary in found:
        stale = now - used > (3600 if temporary else MAX_AGE_SECONDS)
        if not temporary:
            kept += 1
        if stale or (not temporary and kept > MAX_FILES):
            with contextlib.suppress(OSError):
                os.unlink(path)
