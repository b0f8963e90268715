"""/etc/ld.so.cache, read as glibc's ld.so reads it (elf/cache.c, sysdeps/generic/dl-cache.h).

The current format starts with "glibc-ld.so.cache1.1": a 48-byte header (entry
count, string table size, flags, extension offset), then 24-byte entries (flags,
key and value string offsets, OS version, hwcap), then strings. Offsets count
from the start of that header. An older file may put the "ld.so-1.7.0" table
first; the new header then follows it, 8-byte aligned.

glibc 2.33+ also lists libraries from glibc-hwcaps subdirectories: their hwcap
has bit 62 set and, in its low 32 bits, an index into the extension section
that names the subdirectories (x86-64-v3 ...). ld.so takes the one of the best
level the CPU has, before any plain entry (elf/dl-cache.c, search_cache).
"""

from __future__ import annotations

import glob
import os
import struct
from collections.abc import Mapping

CACHE_FILE = "/etc/ld.so.cache"
CONF_FILE = "/etc/ld.so.conf"
NEW_MAGIC = b"glibc-ld.so.cache1.1"
OLD_MAGIC = b"ld.so-1.7.0"
MAX_CACHE_BYTES = 64 << 20

FLAG_TYPE_MASK, FLAG_ELF_LIBC6 = 0x00FF, 0x0003
FLAG_REQUIRED_MASK = 0xFF00
HWCAP_EXTENSION = 1 << 62
ISA_LEVEL_MASK = 0x3FF << 32  # beside the extension bit; not checked here
EXTENSION_MAGIC = 0xEAA42174
EXTENSION_TAG_GLIBC_HWCAPS = 1
# The "requirement" byte of each entry's flags, for the ELF class and machine
# it serves (dl-cache.h): ld.so only takes entries made for its own kind.
CACHE_KIND = {
    (64, 62): 0x0300,  # x86-64
    (32, 62): 0x0800,  # x32
    (64, 183): 0x0A00,  # aarch64
    (64, 243): 0x0F00,  # riscv64 lp64d; soft-float 0x1000 is rare
    (64, 21): 0x0500,  # ppc64
    (64, 22): 0x0400,  # s390x
    (32, 3): 0x0000,  # i386
    (32, 40): 0x0000,  # arm: its hard-float flag 0x0900 is checked below
}


class LdCache:
    """soname -> paths, per (ELF class, machine), in the cache's own order."""

    def __init__(self, entries: list[tuple[int, str, str, str | None]]) -> None:
        self.entries = entries  # (flags, soname, path, glibc-hwcaps subdirectory or None)
        self._by_name: dict[str, list[tuple[int, str, str | None]]] = {}
        for flags, key, value, subdir in entries:
            self._by_name.setdefault(key, []).append((flags, value, subdir))

    def lookup(
        self, soname: str, bits: int, machine: int, hwcaps: tuple[str, ...] = ()
    ) -> list[str]:
        """The paths ld.so would take for SONAME: the glibc-hwcaps entry whose subdirectory
        comes first in HWCAPS (the CPU's levels, best first) if any, else the plain ones."""
        wanted = CACHE_KIND.get((bits, machine))
        plain, best = [], None
        for flags, value, subdir in self._by_name.get(soname, ()):
            if flags & FLAG_TYPE_MASK != FLAG_ELF_LIBC6 or not (
                wanted is None
                or flags & FLAG_REQUIRED_MASK == wanted
                or (machine == 40 and flags & FLAG_REQUIRED_MASK == 0x0900)
            ):
                continue
            if subdir is None:
                plain.append(value)
            elif subdir in hwcaps and (best is None or hwcaps.index(subdir) < best[0]):
                best = (hwcaps.index(subdir), value)
        return [best[1]] if best else plain


def parse_cache(data: bytes) -> LdCache:
    """Parse the cache; ValueError when it is not one."""
    base = 0
    if data.startswith(OLD_MAGIC):
        (old_count,) = struct.unpack_from("<I", data, 12)
        base = 16 + old_count * 12
        base = (base + 7) & ~7
    if data[base : base + len(NEW_MAGIC)] != NEW_MAGIC or len(data) < base + 48:
        raise ValueError("not a glibc ld.so.cache")
    (count,) = struct.unpack_from("<I", data, base + 20)
    entries_start = base + 48
    if count > (len(data) - entries_start) // 24:
        raise ValueError(f"claims {count} entries in {len(data)} bytes")
    subdirs = _hwcaps_subdirs(data, base)
    entries = []
    for index in range(count):
        flags, key, value, _, hwcap = struct.unpack_from("<iIIIQ", data, entries_start + 24 * index)
        subdir = None
        if hwcap & ~ISA_LEVEL_MASK & ~0xFFFFFFFF == HWCAP_EXTENSION:
            subdir = subdirs[hwcap & 0xFFFFFFFF] if hwcap & 0xFFFFFFFF < len(subdirs) else ""
        elif hwcap:
            continue  # a legacy hwcap entry (ldconfig up to 2.36, tls/ and such): not used
        entries.append((flags, _string(data, base + key), _string(data, base + value), subdir))
    return LdCache(entries)


def _hwcaps_subdirs(data: bytes, base: int) -> list[str]:
    """The glibc-hwcaps subdirectory names of the cache's extension section, if any."""
    (offset,) = struct.unpack_from("<I", data, base + 32)
    if not offset or len(data) < base + offset + 8:
        return []
    magic, count = struct.unpack_from("<II", data, base + offset)
    if magic != EXTENSION_MAGIC or count > (len(data) - base - offset - 8) // 16:
        return []
    for index in range(count):
        tag, _, start, size = struct.unpack_from("<IIII", data, base + offset + 8 + 16 * index)
        if tag == EXTENSION_TAG_GLIBC_HWCAPS and base + start + size <= len(data):
            indices = struct.unpack_from(f"<{size // 4}I", data, base + start)
            return [_string(data, base + i) for i in indices]
    return []


def _string(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    if offset >= len(data) or end < 0:
        raise ValueError(f"string offset {offset} is outside the cache")
    return data[offset:end].decode("utf-8", "surrogateescape")


def load_cache(path: str = CACHE_FILE) -> LdCache | None:
    """The system's cache, or None when it is missing or unreadable (use ld.so.conf then)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CACHE_BYTES)
        return parse_cache(data)
    except (OSError, ValueError, struct.error):
        return None


def conf_directories(path: str = CONF_FILE, _seen: frozenset[str] = frozenset()) -> list[str]:
    """The directories ld.so.conf lists, following `include` globs, each file once."""
    if path in _seen:
        return []
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read(1 << 20).splitlines()
    except OSError:
        return []
    directories: list[str] = []
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if line.startswith("include"):
            for written in line.split()[1:]:
                pattern = os.path.join(os.path.dirname(path), written)  # relative to this file
                for included in sorted(glob.glob(pattern)):
                    directories += conf_directories(included, _seen | {path})
        elif line.startswith("hwcap"):
            continue
        elif line:
            directories.append(line.split("=", 1)[0].rstrip("/") or "/")
    return directories


def directories_by_name(directories: list[str]) -> Mapping[str, list[str]]:
    """What ldconfig would put in the cache: soname -> paths, from listing DIRECTORIES."""
    found: dict[str, list[str]] = {}
    for directory in directories:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in sorted(names):
            if ".so" in name:
                found.setdefault(name, []).append(os.path.join(directory, name))
    return found
