"""`golaunch --check --unit NAME --candidate PATH`: a new build judged against a unit
before a deploy moves it in place, under the booted systemd, with the running service
left as it was."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.paths import REPO
from tests.helpers.toolchain import Toolchain
from tests.system.conftest import (
    GOLAUNCH,
    WORK,
    Machine,
    free_port,
    http_get,
    reach_this_tree,
)

pytestmark = pytest.mark.usefixtures("system_bus")
DEPLOY = WORK / "deploy"
RUNNING = "candidate-running.service"
STOPPED = "candidate-stopped.service"


def unit(exec_start: str, *extra: str) -> str:
    lines = ["[Unit]", "DefaultDependencies=no", "[Service]", "Type=notify"]
    return "\n".join([*lines, f"ExecStart={exec_start}", *extra, ""])


def check(machine: Machine, *args: str) -> tuple[int, dict[str, Any], str]:
    run = machine.run(str(GOLAUNCH), "--check", "--json", *args, check=False)
    return run.returncode, json.loads(run.stdout) if run.stdout else {}, run.stderr


def staged(source: Path, name: str, mode: int = 0o755) -> Path:
    """A build beside the installed program, as a deploy stages it."""
    target = DEPLOY / name
    shutil.copy(source, target)
    target.chmod(mode)
    return target


@pytest.fixture(scope="module")
def builds(
    machine: Machine, go_server: Path, go_new: Toolchain, missing_library_program: Path
) -> Iterator[dict[str, Path]]:
    """The installed server run by two DynamicUser= units (one running), and candidates."""
    shutil.rmtree(DEPLOY, ignore_errors=True)
    DEPLOY.mkdir(parents=True)
    installed = staged(go_server, "server")
    arm64 = go_new.build(REPO / "examples" / "server", "server", env={"GOARCH": "arm64"})
    found = {
        "installed": installed,
        "good": staged(go_server, "server.good"),
        "needs-libgone": staged(missing_library_program, "server.libgone"),
        "root-only": staged(go_server, "server.private", 0o700),
        "arm64": staged(arm64, "server.arm64"),
    }
    extra = ["DynamicUser=yes", "CacheDirectory=candidate", *reach_this_tree()]
    units = {
        name: unit(f"{GOLAUNCH} -- {installed} -listen 127.0.0.1:{free_port()}", *extra)
        for name in (RUNNING, STOPPED)
    }
    machine.install(units)
    machine.start_ok(RUNNING)
    yield found
    machine.run("systemctl", "stop", RUNNING)


def untouched(machine: Machine, before: dict[str, str], installed: Path) -> None:
    after = machine.show(RUNNING)
    keys = ("ActiveState", "MainPID", "NRestarts", "ActiveEnterTimestampMonotonic")
    assert {k: after[k] for k in keys} == {k: before[k] for k in keys}
    assert after["ActiveState"] == "active" and after["NRestarts"] == "0"
    # The bind was the check's child's alone: nothing is mounted on the program here.
    assert machine.run("findmnt", str(installed), check=False).returncode == 1


# The build, the status, the checks that fail and what their messages name.
CASES = {
    "good": (0, set(), ""),
    "needs-libgone": (78, {"library"}, "libgone.so.1"),
    "root-only": (78, {"program"}, "not executable"),
    "arm64": (78, {"program"}, "aarch64"),
}


@pytest.mark.parametrize("build", CASES)
@pytest.mark.parametrize("name", [RUNNING, STOPPED])
def test_a_candidate_against_a_unit(
    machine: Machine, builds: dict[str, Path], name: str, build: str
) -> None:
    status, failing, words = CASES[build]
    before = machine.show(RUNNING)
    candidate, installed = builds[build], builds["installed"]
    code, report, stderr = check(machine, "--unit", name, "--candidate", str(candidate))
    assert (code, stderr) == (status, ""), report
    assert report["unit"] == name and report["program"] == str(candidate)
    findings = report["findings"]
    assert findings[0]["severity"] == "info"
    assert f"candidate {candidate} judged in place of {installed}" in findings[0]["message"]
    failed = [f for f in findings if f["severity"] == "fail"]
    assert {f["check"] for f in failed} == failing, failed
    assert all(words in f["message"] for f in failed)
    untouched(machine, before, installed)
    assert machine.show(STOPPED)["ActiveState"] == "inactive"
    assert int(http_get(int(unit_port(machine)), "/pid")) == int(before["MainPID"])


def unit_port(machine: Machine) -> str:
    exec_start = machine.show(RUNNING)["ExecStart"]
    return exec_start.split("127.0.0.1:")[1].split()[0]


def test_one_build_for_several_units(machine: Machine, builds: dict[str, Path]) -> None:
    bad = str(builds["needs-libgone"])
    code, report, _ = check(machine, "--unit", RUNNING, "--unit", STOPPED, "--candidate", bad)
    assert code == 78
    assert [(u["unit"], u["ok"], u["program"]) for u in report["units"]] == [
        (RUNNING, False, bad),
        (STOPPED, False, bad),
    ]
    installed = str(builds["installed"])
    code, report, _ = check(
        machine, "--all-units", "--for-program", installed, "--candidate", str(builds["good"])
    )
    assert code == 0, report
    # Exactly the loaded units that run the installed program, whatever else runs golaunch
    # here; the stopped one is not loaded (the manager let it go), and --unit reaches it.
    assert [u["unit"] for u in report["units"]] == [RUNNING]
    assert report["units"][0]["program"] == str(builds["good"])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--unit", RUNNING, "--candidate", "/nonexistent/server"], "No such file"),
        (["--unit", RUNNING, "--candidate", str(REPO / "README.md")], "not an ELF file"),
        (["--unit", RUNNING, "--candidate", str(DEPLOY)], "not a regular file"),
        (["--unit", "dbus.service", "--candidate", "GOOD"], "launches no program"),
        (["--all-units", "--candidate", "GOOD"], "add --for-program"),
        (["--all-units", "--for-program", "/usr/bin/true", "--candidate", "GOOD"], "no loaded"),
        (["--candidate", "GOOD"], "add --unit NAME"),
    ],
)
def test_refusals_name_the_problem(
    machine: Machine, builds: dict[str, Path], args: list[str], words: str
) -> None:
    before = machine.show(RUNNING)
    args = [str(builds["good"]) if a == "GOOD" else a for a in args]
    run = machine.run(str(GOLAUNCH), "--check", *args, check=False)
    assert run.returncode == 64 and run.stdout == "", run
    assert words in run.stderr and "Traceback" not in run.stderr, run.stderr
    untouched(machine, before, builds["installed"])


def test_the_deploy_example(machine: Machine, builds: dict[str, Path]) -> None:
    """examples/deploy/deploy.sh: a build that would not start changes nothing; a good one
    is renamed in place and the unit restarted onto it."""
    script = str(REPO / "examples" / "deploy" / "deploy.sh")
    installed = builds["installed"]
    before = machine.show(RUNNING)
    original = installed.read_bytes()
    environment = f"GOLAUNCH={GOLAUNCH}"
    refused = machine.run("env", environment, script, RUNNING, str(builds["arm64"]), check=False)
    assert refused.returncode == 1 and "nothing was changed" in refused.stderr, refused
    assert installed.read_bytes() == original and not (DEPLOY / "server.new").exists()
    untouched(machine, before, installed)
    new = DEPLOY / "server.rebuilt"
    shutil.copy(builds["good"], new)
    with new.open("ab") as f:
        f.write(b"\0rebuilt")  # another build: other bytes, same program
    done = machine.run("env", environment, script, RUNNING, str(new), check=False)
    assert done.returncode == 0, done
    assert installed.read_bytes() == new.read_bytes()
    after = machine.show(RUNNING)
    assert after["ActiveState"] == "active" and after["MainPID"] != before["MainPID"]
