"""GOMEMLIMIT and GOMAXPROCS from the cgroup's limits, where the Go runtime would not see them.

The Go runtime knows nothing of a memory limit: a program under MemoryMax= is
OOM-killed while its heap is still far from the next GC. GOMEMLIMIT, a soft
limit below the cgroup's, makes the GC work harder instead. Since Go 1.25 the
runtime sets GOMAXPROCS from the CPU quota of its own cgroup (not a parent's),
unless the main module's `go` line is 1.24 or older (containermaxprocs=0).
Exporting GOMAXPROCS turns that off, so it is exported only where the runtime
would be wrong. A variable the unit or the configuration sets always wins.
"""

from __future__ import annotations

import os

from golaunch.host.cgroups import CgroupError, Limits, ProcTables
from golaunch.syntax.goversion import compare, parse_go_version

TYPE_CHECKING = False  # on every start's path (golaunch.host.execution): no typing
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Literal

    from golaunch.elf.buildinfo import BuildInfo
    from golaunch.host.cgroups import Limit

    # set: exported; kept: nothing exported, and why; unreadable: a cgroup file makes
    # no sense; malformed: the runtime would refuse the value and crash at start;
    # above: a GOMEMLIMIT the cgroup's limit undercuts.
    Outcome = Literal["set", "kept", "unreadable", "malformed", "above"]

AUTOMEMLIMIT = "github.com/KimMachineGun/automemlimit"
AUTOMAXPROCS = "go.uber.org/automaxprocs"


class Setting:  # a plain class, as in golaunch.host.cgroups
    __slots__ = ("limit", "outcome", "reason", "value", "variable")

    def __init__(
        self,
        variable: str,
        outcome: Outcome,
        value: str | None,  # what the program gets (exported or already set); None: unset
        reason: str,
        limit: Limit | None = None,  # the cgroup limit it was judged against
    ) -> None:
        self.variable = variable
        self.outcome = outcome
        self.value = value
        self.reason = reason
        self.limit = limit


def runtime_settings(
    buildinfo: BuildInfo | None,
    environment: Mapping[str, str],
    ratio: float,
    limits: Limits | None = None,
    root: str = "",
) -> tuple[Setting, ...]:
    """One Setting per variable for a Go program; nothing for any other program.
    LIMITS: this process's cgroups' (under ROOT, for tests) unless given."""
    if buildinfo is None:
        return ()
    limits = limits or Limits(ProcTables.read(root))
    return (
        _gomemlimit(buildinfo, environment, ratio, limits),
        _gomaxprocs(buildinfo, environment, limits),
    )


def exported(settings: tuple[Setting, ...]) -> dict[str, str]:
    return {s.variable: s.value for s in settings if s.outcome == "set" and s.value is not None}


def _gomemlimit(
    info: BuildInfo, environment: Mapping[str, str], ratio: float, limits: Limits
) -> Setting:
    name = "GOMEMLIMIT"
    given = environment.get(name)
    if given is not None:
        return _judge_given_memlimit(given, limits, plus_sign=not _older_than(info, "1.26"))
    if ratio == 0:
        return Setting(name, "kept", None, "go.memlimit_ratio = 0 turns it off")
    if _older_than(info, "1.19"):
        return Setting(name, "kept", None, f"{info.go_version} ignores it (new in Go 1.19)")
    limit = _cgroup_limit(name, info, AUTOMEMLIMIT, limits.memory, "memory limit")
    if isinstance(limit, Setting):
        return limit
    value = int(limit.amount * ratio)
    return Setting(name, "set", str(value), f"{ratio:g} of the limit, {limit.amount} bytes", limit)


def _judge_given_memlimit(given: str, limits: Limits, plus_sign: bool) -> Setting:
    name = "GOMEMLIMIT"
    size = parse_byte_count(given, plus_sign)
    if size is None:
        why = "Go accepts a byte count with an optional B, KiB, MiB, GiB or TiB suffix, or off"
        return Setting(name, "malformed", given, f"the runtime refuses it and dies at start: {why}")
    try:
        limit = limits.memory()
    except CgroupError:
        limit = None  # the unit chose; an unreadable file changes nothing here
    if limit is not None and size > limit.amount:
        return Setting(name, "above", given, f"{size} bytes is above the cgroup's", limit)
    return Setting(name, "kept", given, "set for the program, which golaunch respects", limit)


def _gomaxprocs(info: BuildInfo, environment: Mapping[str, str], limits: Limits) -> Setting:
    name = "GOMAXPROCS"
    if name in environment:
        return Setting(name, "kept", environment[name], "set for the program")
    limit = _cgroup_limit(name, info, AUTOMAXPROCS, limits.cpu, "CPU quota")
    if isinstance(limit, Setting):
        return limit
    cpus = len(os.sched_getaffinity(0))
    # Go 1.25's own rule for a quota it sees: rounded up, at least 2 (runtime.adjustCPULimit;
    # below 2 a GC worker would starve the program). Older runtimes never chose: 1 is safe.
    floor = 1 if _older_than(info, "1.25") else 2
    value = min(cpus, max(floor, limit.ceiling))
    quota = f"a quota of {limit.amount / limit.per:g} CPUs"
    if value >= cpus:
        return Setting(name, "kept", None, f"{quota} allows all {cpus} CPUs it may use", limit)
    blind = _runtime_blind_to_quota(info, environment)
    if blind is None and limit.leaf:
        why = f"{quota} on its own cgroup, which the Go runtime reads itself"
        return Setting(name, "kept", None, why, limit)
    why = blind or "the quota is on a parent cgroup, which the Go runtime does not read"
    return Setting(name, "set", str(value), f"{quota}; {why}", limit)


def _cgroup_limit(
    name: str, info: BuildInfo, library: str, read: Callable[[], Limit | None], what: str
) -> Limit | Setting:
    """The limit NAME would be derived from, read by READ; or the Setting that says why
    there is none to use: the program sets NAME itself (it links LIBRARY), a cgroup file
    makes no sense, or no cgroup here has WHAT."""
    if _links(info, library):
        return Setting(name, "kept", None, f"the program links {library}, which sets it")
    try:
        limit = read()
    except CgroupError as e:
        return Setting(name, "unreadable", None, str(e))
    if limit is None:
        return Setting(name, "kept", None, f"no {what} on its cgroup or any ancestor visible here")
    return limit


def _runtime_blind_to_quota(info: BuildInfo, environment: Mapping[str, str]) -> str | None:
    """Why the runtime would not apply even its own cgroup's quota; None if it would."""
    if _older_than(info, "1.25"):
        return f"{info.go_version} predates cgroup-aware GOMAXPROCS (Go 1.25)"
    if godebug(info, environment).get("containermaxprocs") == "0":
        return "containermaxprocs=0 (a main module whose go line is 1.24 or older, or GODEBUG)"
    return None


def godebug(info: BuildInfo, environment: Mapping[str, str]) -> dict[str, str]:
    """The GODEBUG settings in force: the binary's defaults, then $GODEBUG (last wins)."""
    settings: dict[str, str] = {}
    for source in (info.settings.get("DefaultGODEBUG", ""), environment.get("GODEBUG", "")):
        for item in source.split(","):
            key, sep, value = item.partition("=")
            if sep:
                settings[key.strip()] = value.strip()
    return settings


def _older_than(info: BuildInfo, release: str) -> bool:
    version = parse_go_version(info.go_version)
    threshold = parse_go_version(release)
    # A version nobody can parse ("devel ..."): assume a recent toolchain.
    return version is not None and threshold is not None and compare(version, threshold) < 0


def _links(info: BuildInfo, module: str) -> bool:
    return any(dep.path == module or dep.path.startswith(module + "/") for dep in info.deps)


_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def parse_byte_count(text: str, plus_sign: bool = True) -> int | None:
    """GOMEMLIMIT as the runtime reads it (runtime.parseByteCount): None where Go would die.
    PLUS_SIGN: whether a leading '+' is taken, as from Go 1.26 (internal/strconv); Go 1.19
    to 1.25 parse with the runtime's own atoi64, which knows only '-' (both tried)."""
    if text in ("", "off"):  # both mean no limit (runtime.readGOMEMLIMIT)
        return 2**63 - 1
    unit = next((u for u in ("KiB", "MiB", "GiB", "TiB", "B") if text.endswith(u)), "")
    digits = text[: len(text) - len(unit)]
    if digits.startswith("+") and not plus_sign:
        return None
    number = _parse_int64(digits)
    if number is None or number < 0:
        return None
    value = number * _UNITS.get(unit, 1)
    return value if value < 2**63 else None


def _parse_int64(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64): an optional sign, then ASCII digits only."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None
