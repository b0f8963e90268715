"""The memory limit and CPU quota a unit's program will run under, seen from outside.

A running unit's are read from its main process's cgroups, as its golaunch read
them. A stopped unit has no cgroup: its settings, and its slices' up to the
root slice, say what the next start will get (MemoryHigh= only where memory is a
cgroup v2 controller: v1 has no such limit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from golaunch.host.cgroups import (
    CgroupError,
    Limit,
    Limits,
    ProcTables,
    cpu_limit,
    find_hierarchy,
    memory_limit,
    tightest,
)
from golaunch.systemd.manager import NO_LIMIT, Manager, ServiceUnit


def unit_limits(manager: Manager, unit: ServiceUnit) -> Limits:
    if unit.main_pid:
        tables = ProcTables.read(pid=str(unit.main_pid))
        if tables is not None:  # else it just exited: the settings say the same
            return Limits.known(_read(memory_limit, tables), _read(cpu_limit, tables))
    return _from_settings(manager, unit)


def _read(reader: Callable[[ProcTables], Limit | None], tables: ProcTables) -> Limit | str | None:
    """The limit READER finds, or why it could not be read."""
    try:
        return reader(tables)
    except CgroupError as e:
        return str(e)


def _from_settings(manager: Manager, unit: ServiceUnit) -> Limits:
    own = ProcTables.read()
    memory = find_hierarchy("memory", own) if own else None
    keys = ["MemoryMax"] + (["MemoryHigh"] if memory is None or memory.version == 2 else [])
    memories: list[Limit] = []
    cpus: list[Limit] = []
    name, settings, leaf = unit.name, unit.service, True
    while True:
        memories += [
            Limit(int(settings[key]), 1, f"{key}= of {name}", leaf)
            for key in (*keys, *_deprecated(settings))
            if _set(settings.get(key))
        ]
        quota = settings.get("CPUQuotaPerSecUSec")
        if isinstance(quota, int) and _set(quota):
            cpus.append(Limit(quota, 1_000_000, f"CPUQuota= of {name}", leaf))
        parent = settings.get("Slice") or ""
        if not parent or parent in ("-.slice", name):
            break
        name, settings, leaf = parent, manager.slice_settings(parent), False
    return Limits.known(tightest(memories), tightest(cpus))


UNIFIED_MEMORY = ("MemoryMax", "MemoryHigh", "MemorySwapMax")


def _deprecated(settings: dict[str, Any]) -> tuple[str, ...]:
    """("MemoryLimit",) where systemd 252 applies it: the deprecated setting counts only
    when no cgroup v2 style memory setting is made (cgroup_context_has_unified_memory_config
    in src/core/cgroup.c); then it is the hard limit, on v1 and v2 alike."""
    unified = any(_set(settings.get(key)) for key in UNIFIED_MEMORY) or any(
        int(settings.get(key) or 0) > 0 for key in ("MemoryMin", "MemoryLow")
    )
    return () if unified else ("MemoryLimit",)


def _set(value: Any) -> bool:
    return isinstance(value, int) and 0 < value < NO_LIMIT
