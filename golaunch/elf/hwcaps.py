"""The subdirectories ld.so tries inside every search directory, for this CPU (x86-64).

glibc 2.33+ looks first in glibc-hwcaps/x86-64-v4, -v3 and -v2, each only
when the CPU has that level (sysdeps/x86/get-isa-level.h). glibc up to 2.36
then tries the legacy subdirectories: every combination of "tls", the platform
and the important AT_HWCAP names, as the power set of elf/dl-hwcaps.c builds
them (2.37 dropped them). Last comes the directory itself. The CPU is read
from /proc/cpuinfo, whose flags the kernel clears when the OS cannot use them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Set

from golaunch.inputs import volatile

# The x86-64 micro-architecture levels, as /proc/cpuinfo names their features.
LEVELS = (
    ("x86-64-v2", {"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"}),
    ("x86-64-v3", {"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}),
    ("x86-64-v4", {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}),
)
HASWELL = {"avx2", "fma", "bmi1", "bmi2", "abm", "movbe", "popcnt"}
AVX512_1 = {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}


@functools.cache
def host_subdirs() -> tuple[tuple[str, ...], str]:
    """(subdirectories in search order, ending with "", and ld.so's $PLATFORM) for this host."""
    machine = os.uname().machine
    if machine != "x86_64":
        return ("",), machine
    vendor, flags = volatile.cpuinfo()
    return search_subdirs(vendor, flags, _glibc_version())


def search_subdirs(
    vendor: str, flags: Set[str], glibc: tuple[int, int]
) -> tuple[tuple[str, ...], str]:
    """What ld.so (glibc GLIBC) on an x86-64 CPU of VENDOR with FLAGS searches, and $PLATFORM."""
    subdirs = []
    if glibc >= (2, 33):
        supported = []
        for name, needs in LEVELS:
            if not needs.issubset(flags):
                break  # each level includes the one before
            supported.append(name)
        subdirs += [f"glibc-hwcaps/{name}" for name in reversed(supported)]
    platform, hwcap_names = _legacy_capabilities(vendor, flags)
    if glibc < (2, 37):
        subdirs += _power_set([*hwcap_names, platform, "tls"])
    subdirs.append("")
    return tuple(subdirs), platform


def _legacy_capabilities(vendor: str, flags: Set[str]) -> tuple[str, list[str]]:
    """GLRO(dl_platform) and the important AT_HWCAP names (sysdeps/x86/cpu-features.c)."""
    names = ["x86_64"]
    platform = "x86_64"  # the kernel's AT_PLATFORM
    if vendor == "GenuineIntel":
        if {"avx512f", "avx512cd", "avx512er", "avx512pf"}.issubset(flags):
            platform = "xeon_phi"
        elif AVX512_1.issubset(flags) and "avx512er" not in flags:
            names.append("avx512_1")
        if platform == "x86_64" and HASWELL.issubset(flags):
            platform = "haswell"
    return platform, names


def _power_set(capabilities: list[str]) -> list[str]:
    """Every combination, the full one first and the empty one left out (the caller adds
    ""): combination i holds capability n when bit n of 2**count-1-i is set, and lists
    its members from the last capability to the first."""
    count = len(capabilities)
    combos = []
    for i in range(2**count - 1):
        members = 2**count - 1 - i
        combos.append("/".join(capabilities[n] for n in reversed(range(count)) if members >> n & 1))
    return combos


def _glibc_version() -> tuple[int, int]:
    try:
        _, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").split()
        major, minor = version.split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return (2, 37)  # not glibc, or unreadable: no legacy subdirectories
