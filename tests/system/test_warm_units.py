"""Two units, one plan: under the machine's real systemd 252, units that run the same
ExecStart= with the same environment share the store of a root service (/run/golaunch)
and the plan's key. What tells them apart is what systemd gives each: a cgroup with its
limits, a mount namespace with its paths read-only or gone. Each must get what its own
full start gives it, whichever plan is there (issue 30).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import time
from pathlib import Path

import pytest

from tests.helpers.paths import SOURCES
from tests.helpers.toolchain import Toolchain
from tests.helpers.warm import REPORTER, SETTLE, build_library, gcc
from tests.system.conftest import GOLAUNCH, WORK, Machine, wait_until

PID = re.compile(r"\bPID \d+")


def oneshot(exec_start: str, *extra: str) -> str:
    lines = ["[Unit]", "DefaultDependencies=no", "[Service]", "Type=oneshot"]
    return "\n".join([*lines, f"ExecStart={exec_start}", *extra, ""])


@dataclasses.dataclass(frozen=True)
class Outcome:
    result: str
    status: str
    lines: tuple[tuple[str, str, str], ...]  # identifier, message, MESSAGE_ID

    def says(self, text: str) -> bool:
        return any(text in message for _, message, _ in self.lines)


def outcome(machine: Machine, unit: str) -> Outcome:
    """What one start of UNIT did: its result and status, and every journal line of that
    invocation (golaunch's and the program's), the launch's PID as "PID N"."""
    (last,) = machine.journal("-n", "1")
    machine.start(unit)
    shown = machine.show(unit)

    def finished() -> list[dict[str, str]] | None:
        entries = machine.journal("-u", unit, f"--after-cursor={last['__CURSOR']}")
        done = any(e.get("UNIT") == unit and "INVOCATION_ID" in e for e in entries)
        return entries if done else None

    entries = wait_until(f"{unit}'s journal", finished)
    lines = tuple(
        (
            str(e.get("SYSLOG_IDENTIFIER")),
            PID.sub("PID N", str(e.get("MESSAGE"))),
            str(e.get("MESSAGE_ID", "")),
        )
        for e in entries
        if e.get("SYSLOG_IDENTIFIER") not in (None, "systemd")
    )
    return Outcome(shown["Result"], shown["ExecMainStatus"], lines)


def plans(machine: Machine) -> list[Path]:
    return sorted((machine.root / "run" / "golaunch").glob("*.plan"))


def compare(machine: Machine, first: str, second: str) -> Outcome:
    """FIRST keeps a plan; SECOND starts with it, then without it: the same outcome."""
    for plan in plans(machine):
        plan.unlink()
    kept = outcome(machine, first)
    assert len(plans(machine)) == 1, f"{first} kept no plan: {kept}"
    assert outcome(machine, first) == kept  # warm, on its own unit
    with_plan = outcome(machine, second)
    for plan in plans(machine):
        plan.unlink()
    without = outcome(machine, second)
    assert with_plan == without
    assert with_plan != kept, "the units do not differ: the case proves nothing"
    return with_plan


def pair(
    machine: Machine, name: str, exec_start: str, first: list[str], second: list[str]
) -> Outcome:
    machine.install(
        {
            f"{name}-a.service": oneshot(exec_start, *first),
            f"{name}-b.service": oneshot(exec_start, *second),
        }
    )
    return compare(machine, f"{name}-a.service", f"{name}-b.service")


@pytest.fixture(scope="module")
def reporter() -> Path:
    """A C program that needs a library of its own, in a directory of its own."""
    root = WORK / "warm-units"
    shutil.rmtree(root, ignore_errors=True)
    lib = root / "lib"
    lib.mkdir(parents=True)
    build_library(lib / "libplan.so.1", 42)
    (root / "reporter.c").write_text(REPORTER)
    program = root / "server"
    gcc("-o", program, root / "reporter.c", f"-L{lib}", "-l:libplan.so.1", f"-Wl,-rpath,{lib}")
    for cache in ("cache/go-build", "cache/mod"):
        (root / cache).mkdir(mode=0o700, parents=True)
    time.sleep(SETTLE)  # old enough for a recording to be trusted
    return program


def test_memory_max_differs(machine: Machine, go_new: Toolchain) -> None:
    program = go_new.build_as_module(SOURCES / "limits", "limits", "1.25")
    time.sleep(SETTLE)
    exec_start = f"{GOLAUNCH} -- {program}"
    result = pair(machine, "warm-mem", exec_start, ["MemoryMax=200M"], ["MemoryMax=100M"])
    assert result.says(f"GOMEMLIMIT={int(0.9 * (100 << 20))}")


def test_cpu_quota_differs_for_go_1_19(machine: Machine, go_119: Toolchain) -> None:
    program = go_119.build(SOURCES / "limits", "limits")
    time.sleep(SETTLE)
    result = pair(machine, "warm-cpu", f"{GOLAUNCH} -- {program}", [], ["CPUQuota=50%"])
    assert result.says("GOMAXPROCS=1 ")


def test_a_read_only_cache_differs(machine: Machine, reporter: Path) -> None:
    cache = reporter.parent / "cache"
    caches = f"--gocache {cache / 'go-build'} --gomodcache {cache / 'mod'}"
    exec_start = f"{GOLAUNCH} {caches} -- {reporter} /dev/null"
    result = pair(machine, "warm-ro", exec_start, [], [f"ReadOnlyPaths={cache}"])
    assert (result.result, result.status) == ("exit-code", "78")


def test_an_inaccessible_library_differs(machine: Machine, reporter: Path) -> None:
    exec_start = f"{GOLAUNCH} -- {reporter} /dev/null"
    hidden = [f"InaccessiblePaths={reporter.parent / 'lib'}"]
    result = pair(machine, "warm-lib", exec_start, [], hidden)
    assert (result.result, result.status) == ("exit-code", "78")
    assert result.says("libplan.so.1")


def test_the_units_share_one_key(machine: Machine, reporter: Path) -> None:
    """The premise: with the same ExecStart= and environment, the second unit finds the
    first one's plan under its own name, and takes it where nothing differs."""
    exec_start = f"{GOLAUNCH} -- {reporter} /dev/null"
    machine.install(
        {"warm-same-a.service": oneshot(exec_start), "warm-same-b.service": oneshot(exec_start)}
    )
    for plan in plans(machine):
        plan.unlink()
    first = outcome(machine, "warm-same-a.service")
    (kept,) = plans(machine)
    identity = kept.stat().st_ino
    second = outcome(machine, "warm-same-b.service")
    # Taken, not replaced: a full start would have written a new file in its place.
    assert second == first and plans(machine) == [kept] and kept.stat().st_ino == identity
