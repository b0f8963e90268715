"""`--check --unit --user` and `--user-of`: a user's own service manager (user@UID.service,
started in the namespace) asked over that user's bus, and its service's environment
rebuilt as the user manager gives it, compared with the running service's own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.system.conftest import GOLAUNCH, Machine, free_port, http_get, wait_until

pytestmark = pytest.mark.usefixtures("system_bus")
NAME, UID = "deployer", 1500
HOME = "/run/deployer"  # on the namespace's own /run: nothing lands on the host
UNIT = "user-app.service"
# What differs between two starts of one unit, or is systemd's alone to set at exec.
VOLATILE = {"INVOCATION_ID", "JOURNAL_STREAM", "SYSTEMD_EXEC_PID", "MANAGERPID"}


def as_user(machine: Machine, *argv: str, check: bool = True) -> Any:
    environment = f"XDG_RUNTIME_DIR=/run/user/{UID}"
    return machine.run("runuser", "-u", NAME, "--", "env", environment, *argv, check=check)


def user_unit(exec_start: str) -> str:
    lines = ["[Service]", "Type=notify", f"ExecStart={exec_start}"]
    return "\n".join([*lines, "CacheDirectory=user-app", "StateDirectory=user-app", ""])


@pytest.fixture(scope="module")
def user_app(machine: Machine, go_server: Path) -> Iterator[int]:
    """deployer's manager, running user-app.service (golaunch and the Go server)."""
    if machine.run("id", NAME, check=False).returncode != 0:
        machine.run("useradd", "--uid", str(UID), "--home-dir", HOME, "--no-create-home",
                    "--shell", "/bin/sh", NAME)  # fmt: skip
    machine.run("install", "-d", "-o", NAME, "-g", NAME, HOME)
    port = free_port()
    units = {
        UNIT: user_unit(f"{GOLAUNCH} -- {go_server} -listen 127.0.0.1:{port}"),
        "user-gone.service": user_unit(f"{GOLAUNCH} -- /srv/user-app/gone"),
    }
    for name, text in units.items():
        machine.write(f"/etc/systemd/user/{name}", text)
    machine.run("systemctl", "start", f"user@{UID}.service")
    bus = machine.root / "run" / "user" / str(UID) / "bus"
    wait_until("the user's bus", bus.exists)
    as_user(machine, "systemctl", "--user", "start", UNIT)
    yield port
    machine.run("systemctl", "stop", f"user@{UID}.service")


def check(machine: Machine, *args: str, user: bool = False) -> tuple[int, dict[str, Any]]:
    argv = [str(GOLAUNCH), "--check", "--json", *args]
    run = as_user(machine, *argv, check=False) if user else machine.run(*argv, check=False)
    assert run.stderr == "", run.stderr
    return run.returncode, json.loads(run.stdout)


def stable(environment: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environment.items() if k not in VOLATILE}


def test_the_user_checks_its_own_unit(machine: Machine, user_app: int) -> None:
    shown = as_user(machine, "systemctl", "--user", "show", UNIT, "--property=MainPID")
    main_pid = int(shown.stdout.strip().removeprefix("MainPID="))
    assert int(http_get(user_app, "/pid")) == main_pid
    running = machine.environ(main_pid)
    status, report = check(machine, "--unit", UNIT, "--user", user=True)
    assert (status, report["unit"], report["ok"]) == (0, UNIT, True), report
    # The oracle: the environment the user manager gave the running service.
    assert stable(report["environment"]) == stable(running)
    state = ".local/state" if machine.version() >= 254 else ".config"
    assert running["STATE_DIRECTORY"] == f"{HOME}/{state}/user-app"
    assert running["CACHE_DIRECTORY"] == f"{HOME}/.cache/user-app"


def test_root_reaches_a_users_manager(machine: Machine, user_app: int) -> None:
    status, report = check(machine, "--unit", UNIT, "--user-of", NAME)
    assert (status, report["ok"]) == (0, True), report
    status, report = check(machine, "--all-units", "--user-of", NAME)
    # The loaded units only: user-gone.service was never started, so its manager let it go.
    assert status == 0 and [(u["unit"], u["ok"]) for u in report["units"]] == [(UNIT, True)]
    status, gone = check(machine, "--unit", "user-gone.service", "--user-of", NAME)
    assert status == 78 and {f["check"] for f in gone["findings"] if f["severity"] == "fail"} == {
        "program"
    }


def test_only_root_becomes_another_user(machine: Machine, user_app: int) -> None:
    run = as_user(machine, str(GOLAUNCH), "--check", "--unit", UNIT, "--user-of", "root",
                  check=False)  # fmt: skip
    assert run.returncode == 77 and "needs root" in run.stderr, run


def test_one_metrics_file_holds_the_systems_units_and_the_users(
    machine: Machine, user_app: int
) -> None:
    """The textfile is root's: root writes the user's series too (the child that asked as
    the user hands them back), each labelled with its manager (issue 34). Written as the
    README says: the shipped, hardened golaunch-check.service with a second ExecStart=."""
    from prometheus_client.parser import text_string_to_metric_families

    from tests.helpers.paths import UNITS
    from tests.system.conftest import reach_this_tree

    directory = "/run/golaunch-test-textfile"  # root's, as node_exporter's textfile directory
    machine.run("install", "-d", "-m", "0755", directory)
    output = f"{directory}/golaunch.prom"
    metrics = f"--check --all-units --format prometheus --output {output}"
    runs = [f"ExecStart={GOLAUNCH} {metrics}", f"ExecStart={GOLAUNCH} {metrics} --user-of {NAME}"]
    dropin = "/run/systemd/system/golaunch-check.service.d/test.conf"
    machine.write(dropin, "\n".join(["[Service]", "ExecStart=", *runs, *reach_this_tree(), ""]))
    machine.install({"golaunch-check.service": (UNITS / "golaunch-check.service").read_text()})
    try:
        machine.start_ok("golaunch-check.service")
        assert machine.show("golaunch-check.service")["Result"] == "success"
    finally:
        (machine.root / dropin.lstrip("/")).unlink()
        (machine.root / "run/systemd/system/golaunch-check.service").unlink()
        machine.run("systemctl", "daemon-reload")
    refresh = [str(GOLAUNCH), "--check", "--format", "prometheus", "--output", output]
    machine.run(*refresh, "--unit", UNIT, "--merge", "--user-of", NAME)
    written = machine.root / output.lstrip("/")
    assert (written.stat().st_uid, written.stat().st_mode & 0o777) == (0, 0o644)
    samples = [s for f in text_string_to_metric_families(written.read_text()) for s in f.samples]
    found = {(s.name, s.labels.get("manager"), s.labels.get("unit")): s.value for s in samples}
    assert found[("golaunch_unit_startable", NAME, UNIT)] == 1
    assert ("golaunch_check_timestamp_seconds", NAME, None) in found
    assert ("golaunch_check_timestamp_seconds", "system", None) in found
    # Each series once: the refresh replaced the user's unit, and every unit has a manager.
    keys = [(s.name, tuple(sorted(s.labels.items()))) for s in samples]
    assert len(keys) == len(set(keys))
    units = [s.labels for s in samples if s.name == "golaunch_unit_startable"]
    assert all(labels["manager"] in ("system", NAME) for labels in units), units
    assert sum(1 for labels in units if labels["manager"] == NAME) == 1
