"""Host facts whose source changes by the moment while the answer the checks need does not.

/proc/cpuinfo's clock speeds, memory.stat's counters and a filesystem's free
blocks change all the time; the CPU flags, the hierarchical limit and "is there
room for the cache" do not. golaunch.inputs.trace records these answers, not the
bytes behind them, so a warm start is not refused for a clock tick. Call them as
`volatile.NAME(...)`, never imported by name: the recorder stands in for the
module's attributes.
"""

from __future__ import annotations

import os

FACTS = ("cpuinfo", "stat_field", "space_shortage")


def cpuinfo() -> tuple[str, frozenset[str]]:
    """The first CPU's vendor_id and flags from /proc/cpuinfo; ("", empty) when unknown."""
    vendor, flags = "", frozenset[str]()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "vendor_id" and not vendor:
                    vendor = value.strip()
                elif key == "flags":
                    return vendor, frozenset(value.split())
    except OSError:
        pass
    return vendor, flags


def stat_field(path: str, key: str) -> str | None:
    """KEY's value in a "key value" per line file such as memory.stat; None when the file
    cannot be read, is not a regular file (a FIFO would block) or has no such line."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            if os.fstat(fd).st_mode & 0o170000 != 0o100000:
                return None
            text = os.read(fd, 1 << 20).decode("utf-8", "replace")
        finally:
            os.close(fd)
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return value.strip()
    return None


def space_shortage(path: str, min_free_mb: int) -> str | None:
    """Why the filesystem holding PATH has no room for a cache, or None."""
    try:
        vfs = os.statvfs(path)
    except OSError as e:
        return f"cannot be examined: {e.strerror}"
    if vfs.f_files and not vfs.f_favail:
        return "has no free inodes: nothing new can be created there; free some"
    free_mb = vfs.f_bavail * vfs.f_frsize // (1024 * 1024)
    if free_mb < min_free_mb:
        return f"has {free_mb} MB free, less than go.min_free_mb={min_free_mb}; free some space"
    return None
