"""The unit's limits and secrets as the Go program sees them, under the machine's real
systemd 252: MemoryMax=/MemoryHigh=/CPUQuota= on the unit or a parent slice (v1 files on
this kernel), and credentials from LoadCredential=/SetCredential=, with DynamicUser= too."""

from __future__ import annotations

import math
import os
import re
import secrets
from pathlib import Path

import pytest

from golaunch.findings import MESSAGE_IDS, Severity
from golaunch.systemd.journal import LAUNCH_MESSAGE_ID
from tests.helpers.paths import SOURCES
from tests.helpers.toolchain import Toolchain
from tests.system.conftest import GOLAUNCH, Machine, reach_this_tree
from tests.system.test_fleet import check, failing

NO_LIMIT = 2**63 - 1  # what debug.SetMemoryLimit(-1) reports when none is set
MIB = 1 << 20
LINE = re.compile(
    r'GOMAXPROCS=(\d+) GOMEMLIMIT=(\d+) env_GOMAXPROCS="(.*?)" env_GOMEMLIMIT="(.*?)"'
)


@pytest.fixture(scope="session")
def limits_old(go_new: Toolchain) -> Path:
    """A `go 1.24` main module built by a current toolchain: containermaxprocs=0."""
    return go_new.build_as_module(SOURCES / "limits", "limits", "1.24")


@pytest.fixture(scope="session")
def limits_new(go_new: Toolchain) -> Path:
    return go_new.build_as_module(SOURCES / "limits", "limits", "1.25")


@pytest.fixture(scope="session")
def limits_119(go_119: Toolchain) -> Path:
    return go_119.build(SOURCES / "limits", "limits")


def oneshot(exec_start: object, *extra: str) -> str:
    lines = ["[Unit]", "DefaultDependencies=no", "[Service]", "Type=oneshot"]
    return "\n".join([*lines, f"ExecStart={exec_start}", *extra, ""])


def slice_unit(*settings: str) -> str:
    return "\n".join(["[Unit]", "DefaultDependencies=no", "[Slice]", *settings, ""])


def runtime_view(
    machine: Machine, name: str, exec_start: object, *extra: str
) -> tuple[int, int, str, str]:
    """Start a oneshot unit running the limits program; what it printed."""
    machine.install({name: oneshot(exec_start, *extra)})
    machine.start_ok(name)
    for entry in machine.journal("-u", name):
        found = LINE.fullmatch(str(entry.get("MESSAGE", "")))
        if found:
            procs, limit, env_procs, env_limit = found.groups()
            return int(procs), int(limit), env_procs, env_limit
    raise AssertionError(f"{name} printed nothing:\n{machine.journal_text('-u', name)}")


def launch_entry(machine: Machine, name: str) -> dict[str, str]:
    return next(e for e in machine.journal("-u", name) if e.get("MESSAGE_ID") == LAUNCH_MESSAGE_ID)


def v1_memory(machine: Machine) -> bool:
    """This kernel's hybrid layout: memory in a v1 hierarchy, which has no memory.high."""
    return (machine.root / "sys/fs/cgroup/memory/memory.limit_in_bytes").exists()


# --- GOMEMLIMIT ------------------------------------------------------------------------


def test_memory_max_on_the_unit(machine: Machine, limits_new: Path) -> None:
    name = "mem-unit.service"
    view = runtime_view(machine, name, f"{GOLAUNCH} -- {limits_new}", "MemoryMax=200M")
    expected = int(0.9 * 200 * MIB)
    assert view[1:] == (expected, "", str(expected))
    entry = launch_entry(machine, name)
    assert entry["GOLAUNCH_GOMEMLIMIT"] == str(expected)
    limit_file = "memory.max" if not v1_memory(machine) else "memory.limit_in_bytes"
    assert entry["GOLAUNCH_GOMEMLIMIT_SOURCE"].endswith(f"/{name}/{limit_file}")


def test_memory_high_below_memory_max(machine: Machine, limits_new: Path) -> None:
    extra = ("MemoryMax=200M", "MemoryHigh=150M")
    view = runtime_view(machine, "mem-high.service", f"{GOLAUNCH} -- {limits_new}", *extra)
    # cgroup v1 has no memory.high: the kernel enforces only MemoryMax= there.
    tightest = 200 * MIB if v1_memory(machine) else 150 * MIB
    assert view[1] == int(0.9 * tightest)


def test_limit_on_the_parent_slice_only(machine: Machine, limits_new: Path) -> None:
    machine.install({"glf-mem.slice": slice_unit("MemoryMax=300M")})
    name = "mem-slice.service"
    view = runtime_view(machine, name, f"{GOLAUNCH} -- {limits_new}", "Slice=glf-mem.slice")
    assert view[1] == int(0.9 * 300 * MIB)
    assert f"/glf-mem.slice/{name}" not in launch_entry(machine, name)["GOLAUNCH_GOMEMLIMIT_SOURCE"]
    assert "/glf-mem.slice/" in launch_entry(machine, name)["GOLAUNCH_GOMEMLIMIT_SOURCE"]


def test_no_limit_sets_nothing(machine: Machine, limits_new: Path) -> None:
    name = "mem-none.service"
    view = runtime_view(machine, name, f"{GOLAUNCH} -- {limits_new}")
    assert view[1:] == (NO_LIMIT, "", "")
    assert "GOLAUNCH_GOMEMLIMIT" not in launch_entry(machine, name)


def test_the_units_own_gomemlimit_and_the_ratio(machine: Machine, limits_new: Path) -> None:
    own = runtime_view(
        machine,
        "mem-own.service",
        f"{GOLAUNCH} -- {limits_new}",
        "MemoryMax=200M",
        "Environment=GOMEMLIMIT=100MiB",
    )
    assert own[1:] == (100 * MIB, "", "100MiB")
    half = runtime_view(
        machine,
        "mem-half.service",
        f"{GOLAUNCH} --memlimit-ratio 0.5 -- {limits_new}",
        "MemoryMax=200M",
    )
    assert half[1] == 100 * MIB


def test_a_gomemlimit_go_would_refuse_stops_the_start(machine: Machine, limits_new: Path) -> None:
    name = "mem-bad.service"
    unit = oneshot(f"{GOLAUNCH} -- {limits_new}", "MemoryMax=200M", "Environment=GOMEMLIMIT=100mb")
    machine.install({name: unit})
    assert machine.start(name).returncode != 0
    assert machine.show(name)["ExecMainStatus"] == "78"
    entry = next(e for e in machine.journal("-u", name) if e.get("GOLAUNCH_CHECK") == "runtime")
    assert entry["MESSAGE_ID"] == MESSAGE_IDS[("runtime", Severity.FAIL)]
    assert "'100mb'" in entry["MESSAGE"]


# --- GOMAXPROCS ------------------------------------------------------------------------

CPUS = len(os.sched_getaffinity(0))


def golaunch_value(quota: float, floor: int) -> str:
    """What golaunch exports for QUOTA CPUs: "" when it allows every CPU. FLOOR: 2 for a
    binary of Go 1.25 or later (the runtime's own rule), else 1."""
    value = max(floor, math.ceil(quota))
    return str(value) if value < CPUS else ""


def runtime_own(quota: float) -> int:
    """What Go 1.25+ picks from its own cgroup's quota: rounded up, at least 2."""
    return min(CPUS, max(2, math.ceil(quota)))


@pytest.mark.parametrize(("program", "floor"), [("limits_old", 2), ("limits_119", 1)])
def test_quota_on_the_unit_for_runtimes_that_ignore_it(
    machine: Machine, program: str, floor: int, request: pytest.FixtureRequest
) -> None:
    binary = request.getfixturevalue(program)
    direct = runtime_view(machine, f"cpu-{program}-direct.service", binary, "CPUQuota=50%")
    assert direct[0] == CPUS  # the runtime alone uses every CPU: wrong
    via = runtime_view(machine, f"cpu-{program}.service", f"{GOLAUNCH} -- {binary}", "CPUQuota=50%")
    assert via[2] == golaunch_value(0.5, floor)
    assert via[0] == int(via[2] or CPUS)


def test_quota_on_the_unit_for_a_runtime_that_reads_it(machine: Machine, limits_new: Path) -> None:
    direct = runtime_view(machine, "cpu-new-direct.service", limits_new, "CPUQuota=50%")
    assert direct[0] == runtime_own(0.5)
    via = runtime_view(machine, "cpu-new.service", f"{GOLAUNCH} -- {limits_new}", "CPUQuota=50%")
    assert via[2] == ""  # left to the runtime, which keeps adjusting it
    assert via[0] == direct[0]


def test_quota_on_the_parent_slice_no_runtime_reads(machine: Machine, limits_new: Path) -> None:
    machine.install({"glf-cpu.slice": slice_unit("CPUQuota=50%")})
    # CPUWeight= gives the service a cpu cgroup of its own, without a quota; else
    # systemd (v1) leaves it in the slice's, whose quota is then its own.
    extra = ("Slice=glf-cpu.slice", "CPUWeight=100")
    direct = runtime_view(machine, "cpu-slice-direct.service", limits_new, *extra)
    assert direct[0] == CPUS  # the runtime reads only its own cgroup
    via = runtime_view(machine, "cpu-slice.service", f"{GOLAUNCH} -- {limits_new}", *extra)
    assert via[2] == golaunch_value(0.5, 2)
    assert via[0] == int(via[2] or CPUS)


def test_a_quota_that_allows_every_cpu_sets_nothing(machine: Machine, limits_old: Path) -> None:
    quota = f"CPUQuota={CPUS * 100 - 50}%"
    via = runtime_view(machine, "cpu-wide.service", f"{GOLAUNCH} -- {limits_old}", quota)
    assert via[2] == "" and via[0] == CPUS


# --- credentials -----------------------------------------------------------------------


def credential_unit(machine: Machine, name: str, options: str, program: Path, *extra: str) -> str:
    output = f"/run/{name}.out"
    machine.write(output, "")
    unit = oneshot(
        f"{GOLAUNCH} {options} -- {program}", f"StandardOutput=truncate:{output}", *extra
    )
    machine.install({name: unit})
    return output


def assert_secret_never_logged(machine: Machine, *secret: str) -> None:
    export = machine.run("journalctl", "--no-pager", "-o", "export", "-b").stdout
    assert export  # the journal was read
    for value in secret:
        assert value not in export


@pytest.mark.parametrize("dynamic", [False, True], ids=["root", "dynamic-user"])
def test_credentials_arrive_as_variables(
    machine: Machine, printenv_program: Path, dynamic: bool
) -> None:
    name = f"cred-{'dynamic' if dynamic else 'root'}.service"
    db, api = secrets.token_hex(16), secrets.token_hex(16)
    source = f"/run/{name}.db"
    machine.write(source, db + "\n")
    options = "--credential-env DB_PASSWORD=db --credential-file-env API_FILE=api"
    sandbox = ["DynamicUser=yes", *reach_this_tree()] if dynamic else []
    output = credential_unit(
        machine,
        name,
        options,
        printenv_program,
        f"LoadCredential=db:{source}",
        f"SetCredential=api:{api}",
        *sandbox,
    )
    machine.start_ok(name)
    printed = (machine.root / output.lstrip("/")).read_text().splitlines()
    assert f"env=DB_PASSWORD={db}" in printed
    assert f"env=API_FILE=/run/credentials/{name}/api" in printed
    assert_secret_never_logged(machine, db, api)


@pytest.mark.usefixtures("system_bus")
def test_imported_credentials_as_the_manager_and_the_check_see_them(
    machine: Machine, printenv_program: Path
) -> None:
    """ImportCredential= (254) from /etc/credstore, renamed: the start gets it, and
    --check --unit stages it as systemd does; one the stores lack fails both alike."""
    if machine.version() < 254:
        pytest.skip("ImportCredential= is new in systemd 254")
    token = secrets.token_hex(16)
    machine.write("/etc/credstore/app.token", token + "\n")
    for name, glob, ok in (
        ("cred-import.service", "app.*", True),
        ("cred-import-none.service", "none.*", False),
    ):
        output = credential_unit(
            machine,
            name,
            "--credential-env TOKEN=my.token",
            printenv_program,
            f"ImportCredential={glob}:my.",
        )
        started = machine.start(name).returncode == 0
        status, report = check(machine, "--unit", name)
        assert (started, status == 0, "credentials" not in failing(report)) == (ok, ok, ok)
        printed = (machine.root / output.lstrip("/")).read_text().splitlines()
        assert (f"env=TOKEN={token}" in printed) == ok
    assert_secret_never_logged(machine, token)


@pytest.mark.parametrize(
    ("case", "settings", "credential"),
    [
        ("missing", ["SetCredential=other:x"], "absent"),
        ("none", [], "db"),
        ("nul", ["SetCredential=db:before\\x00after"], "db"),
    ],
)
def test_each_bad_credential_stops_the_start(
    machine: Machine, printenv_program: Path, case: str, settings: list[str], credential: str
) -> None:
    name = f"cred-bad-{case}.service"
    credential_unit(
        machine, name, f"--credential-env SECRET={credential}", printenv_program, *settings
    )
    assert machine.start(name).returncode != 0
    assert machine.show(name)["ExecMainStatus"] == "78"
    entry = next(e for e in machine.journal("-u", name) if e.get("GOLAUNCH_CHECK") == "credentials")
    assert entry["MESSAGE_ID"] == MESSAGE_IDS[("credentials", Severity.FAIL)]
    assert entry["GOLAUNCH_CREDENTIAL"] == credential
    assert_secret_never_logged(machine, "before\x00after")
    # Over 1 MiB: systemd 252 refuses such a credential itself (exit 243/CREDENTIALS)
    # before golaunch runs; golaunch's own limit is proven in tests/integration.


def test_under_memory_max_the_kernel_kills_without_it_and_gc_copes_with_it(
    machine: Machine, limits_new: Path
) -> None:
    """The measured effect in the README: 100 MiB live, as much garbage again, 150 MiB max.
    Left alone, the heap grows to twice the live set (GOGC=100) before a GC."""
    churn = f"{limits_new} -live 100 -rounds 20"
    direct, launched = "oom-direct.service", "oom-golaunch.service"
    machine.install(
        {
            direct: oneshot(churn, "MemoryMax=150M"),
            launched: oneshot(f"{GOLAUNCH} -- {churn}", "MemoryMax=150M"),
        }
    )
    assert machine.start(direct).returncode != 0
    killed = machine.show(direct)
    assert (killed["ExecMainCode"], killed["ExecMainStatus"]) == ("2", "9")  # CLD_KILLED, SIGKILL
    machine.start_ok(launched)
    said = [str(e.get("MESSAGE", "")) for e in machine.journal("-u", launched)]
    survived = next(m for m in said if m.startswith("survived rounds=20"))
    assert int(survived.split("heap_sys_mib=")[1]) < 150
