"""`golaunch --check --unit` and `--all-units` against running units of the machine's real
systemd 252: break a healthy unit under its feet, compare the rebuilt environment with
the running service's, and feed the metrics to Debian's prometheus-node-exporter."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from golaunch import __version__
from golaunch.findings import MESSAGE_IDS, Severity
from tests.helpers.elf import shared
from tests.system.conftest import (
    GOLAUNCH,
    WORK,
    Machine,
    free_port,
    http_get,
    reach_this_tree,
)

pytestmark = pytest.mark.usefixtures("system_bus")
FLEET = WORK / "fleet"
APP = "fleet-app.service"
# What differs between two starts of one unit, or is systemd's alone to set at exec.
VOLATILE = {"INVOCATION_ID", "JOURNAL_STREAM", "SYSTEMD_EXEC_PID"}


def unit(exec_start: str, *extra: str) -> str:
    lines = ["[Unit]", "DefaultDependencies=no", "[Service]", "Type=notify"]
    return "\n".join([*lines, f"ExecStart={exec_start}", *extra, ""])


def check(machine: Machine, *args: str) -> tuple[int, dict[str, Any]]:
    run = machine.run(str(GOLAUNCH), "--check", "--format", "json", *args, check=False)
    assert run.stderr == "", run.stderr
    return run.returncode, json.loads(run.stdout)


def failing(report: dict[str, Any]) -> set[str]:
    return {f["check"] for f in report["findings"] if f["severity"] == "fail"}


@pytest.fixture(scope="module")
def app(machine: Machine, go_server: Path) -> Iterator[tuple[Path, Path, str]]:
    """A healthy golaunch unit: a library it dlopen()s, a cache, a credential."""
    shutil.rmtree(FLEET, ignore_errors=True)
    library = shared(FLEET / "lib", "inner.c", "libfleet.so.1")
    token = FLEET / "token"
    token.write_text("fleet-token-value\n")
    exec_start = " ".join(
        [
            str(GOLAUNCH),
            "--gocache /var/cache/fleet-app/go-build",
            f"--set-env LD_LIBRARY_PATH={library.parent}",
            "--require-lib libfleet.so.1",
            "--credential-env TOKEN=token",
            f"-- {go_server} -listen 127.0.0.1:{free_port()}",
        ]
    )
    machine.install(
        {APP: unit(exec_start, "CacheDirectory=fleet-app", f"LoadCredential=token:{token}")}
    )
    machine.start_ok(APP)
    main_pid = machine.show(APP)["MainPID"]
    yield library, token, main_pid
    machine.run("systemctl", "stop", APP)


def test_a_healthy_unit_broken_under_its_feet(
    machine: Machine, app: tuple[Path, Path, str]
) -> None:
    library, token, main_pid = app
    status, report = check(machine, "--unit", APP)
    assert (status, report["unit"], report["ok"]) == (0, APP, True), report
    cache = machine.root / "var/cache/fleet-app/go-build"
    breakages = [
        ("library", lambda: library.rename(library.with_suffix(".gone")),
         lambda: library.with_suffix(".gone").rename(library)),
        ("gocache", lambda: cache.chmod(0o777), lambda: cache.chmod(0o700)),
        ("unit", lambda: token.rename(token.with_suffix(".gone")),
         lambda: token.with_suffix(".gone").rename(token)),
    ]  # fmt: skip
    for check_name, breaking, restoring in breakages:
        breaking()
        try:
            status, report = check(machine, "--unit", APP)
            assert status == 78 and check_name in failing(report), report
        finally:
            restoring()
        status, report = check(machine, "--unit", APP)
        assert (status, failing(report)) == (0, set()), report
    # The service never noticed.
    props = machine.show(APP)
    assert (props["ActiveState"], props["MainPID"]) == ("active", main_pid)
    assert not list((machine.root / "run").glob("golaunch-check-*"))  # staged, then removed


def test_the_rebuilt_environment_is_the_services(machine: Machine, go_server: Path) -> None:
    name = "fleet-user.service"
    # A user with a home systemd passes on (/etc is the namespace's own copy).
    machine.run("useradd", "--system", "--no-create-home", "--home-dir", "/var/lib/fleeter",
                "--shell", "/bin/sh", "fleeter")  # fmt: skip
    port = free_port()
    exec_start = f"{GOLAUNCH} -- {go_server} -listen 127.0.0.1:{port}"
    extra = ["User=fleeter", "CacheDirectory=fleet-user", "Environment=FLEET=1"]
    machine.install({name: unit(exec_start, *extra, *reach_this_tree())})
    machine.start_ok(name)
    # READY=1 comes just before the exec: read the environment once the server answers,
    # not golaunch's, or none while the exec replaces it.
    main_pid = int(machine.show(name)["MainPID"])
    assert int(http_get(port, "/pid")) == main_pid
    running = machine.environ(main_pid)
    status, report = check(machine, "--unit", name)
    assert status == 0, report
    assert report["environment"]["HOME"] == running["HOME"] == "/var/lib/fleeter"
    assert report["environment"]["CACHE_DIRECTORY"] == running["CACHE_DIRECTORY"]
    assert running["CACHE_DIRECTORY"] == "/var/cache/fleet-user"

    def stable(environment: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in environment.items() if k not in VOLATILE}

    assert stable(report["environment"]) == stable(running)
    machine.run("systemctl", "stop", name)


def test_check_unit_knows_the_managers_notify_protocol(machine: Machine, go_server: Path) -> None:
    """NotifyAccess=main with a probe: refused where systemd cannot be told NOTIFYACCESS=
    (252), fine from 254. Type=notify-reload (253) in ready mode: a warning, at the check
    and in the journal at the start, gone with --notify passthrough."""
    version = machine.version()
    port = free_port()
    name = "notify-protocol.service"
    server = f"-- {go_server} -listen 127.0.0.1:{port}"
    probed = f"{GOLAUNCH} --ready-probe tcp://127.0.0.1:{port} {server}"
    kind = "notify-reload" if version >= 253 else "notify"
    machine.install(
        {name: unit(probed, "NotifyAccess=main").replace("Type=notify", f"Type={kind}")}
    )
    status, report = check(machine, "--unit", name)
    found = {f["check"]: f for f in report["findings"]}
    if version < 254:
        assert status == 78 and found["ready-probe"]["severity"] == "fail"
        assert (
            f"systemd {version} cannot be told NOTIFYACCESS=all" in found["ready-probe"]["message"]
        )
    else:
        assert status == 0 and found["ready-probe"]["severity"] == "pass", report
        assert "golaunch sends NOTIFYACCESS=all before exec" in found["ready-probe"]["message"]
    if version < 253:
        assert "notify" not in found
        return
    assert found["notify"]["severity"] == "warn"
    assert "Type=notify-reload" in found["notify"]["message"]
    machine.start_ok(name)
    warning = f"MESSAGE_ID={MESSAGE_IDS[('notify', Severity.WARN)]}"
    assert len(machine.journal("-u", name, warning)) == 1
    machine.run("systemctl", "stop", name)
    passing = f"{GOLAUNCH} --notify passthrough {server}"
    machine.install({name: unit(passing).replace("Type=notify", "Type=notify-reload")})
    status, report = check(machine, "--unit", name)
    assert status == 0 and "notify" not in {f["check"] for f in report["findings"]}


def test_refusals(machine: Machine) -> None:
    foreign = machine.run(str(GOLAUNCH), "--check", "--unit", "dbus.service", check=False)
    assert foreign.returncode == 64
    assert foreign.stderr.startswith("golaunch: --unit dbus.service: its ExecStart= runs ")
    assert len(foreign.stderr.splitlines()) == 1
    missing = machine.run(str(GOLAUNCH), "--check", "--unit", "nowhere.service", check=False)
    assert missing.returncode == 64 and "not loaded" in missing.stderr


@pytest.mark.usefixtures("app")
def test_all_units_as_openmetrics_read_by_node_exporter(machine: Machine, go_server: Path) -> None:
    broken = "fleet-broken.service"
    machine.install({broken: unit(f"{GOLAUNCH} --require-lib libnothere.so.9 -- {go_server}")})
    assert machine.start(broken).returncode != 0  # failed, and still loaded
    machine.run("mkdir", "-p", "/run/fleet-metrics")
    output = "/run/fleet-metrics/golaunch.prom"
    run = machine.run(
        str(GOLAUNCH), "--check", "--all-units", "--format", "openmetrics", "--output", output,
        check=False,
    )  # fmt: skip
    assert (run.returncode, run.stdout, run.stderr) == (78, "", "")
    text = (machine.root / output.lstrip("/")).read_text()
    assert os.stat(machine.root / output.lstrip("/")).st_mode & 0o777 == 0o644
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    system = ("manager", "system")
    assert samples[("golaunch_unit_startable", (system, ("unit", APP)))] == 1
    assert samples[("golaunch_unit_startable", (system, ("unit", broken)))] == 0
    assert samples[("golaunch_check_ok", (("check", "library"), system, ("unit", broken)))] == 0
    assert samples[("golaunch_check_ok", (("check", "program"), system, ("unit", broken)))] == 1
    assert samples[("golaunch_build_info", (("version", __version__),))] == 1
    assert ("golaunch_check_timestamp_seconds", (system,)) in samples
    assert not any(dict(labels).get("unit") == "dbus.service" for _, labels in samples)

    port = free_port()
    exporter = "fleet-node-exporter.service"
    command = (
        f"/usr/bin/prometheus-node-exporter --web.listen-address=127.0.0.1:{port} "
        "--collector.disable-defaults --collector.textfile "
        "--collector.textfile.directory=/run/fleet-metrics"
    )
    service = unit(command, "User=prometheus").replace("Type=notify", "Type=simple")
    machine.install({exporter: service})
    machine.start_ok(exporter)
    scraped = http_get(port, "/metrics")
    assert f'golaunch_unit_startable{{manager="system",unit="{APP}"}} 1' in scraped
    assert f'golaunch_unit_startable{{manager="system",unit="{broken}"}} 0' in scraped
    assert "node_textfile_scrape_error 0" in scraped
    machine.run("systemctl", "stop", exporter)


@pytest.mark.usefixtures("app")
def test_a_refresh_drops_units_that_are_gone_and_keeps_stopped_ones(
    machine: Machine, go_server: Path
) -> None:
    """With the timer off (the default install) refreshes are the only writers: each drops
    the series of units that were deleted or no longer launch through golaunch, so they
    do not live for ever; a unit merely stopped keeps its own (issue 31, item 14)."""
    deleted, converted, stopped = (
        "fleet-deleted.service",
        "fleet-plain.service",
        "fleet-stopped.service",
    )
    machine.install(
        {name: unit(f"{GOLAUNCH} -- {go_server}") for name in (deleted, converted, stopped)}
    )
    machine.run("mkdir", "-p", "/run/fleet-merge")
    output = "/run/fleet-merge/golaunch.prom"
    for name in (deleted, converted, stopped):
        refresh = machine.run(
            str(GOLAUNCH), "--check", "--unit", name, "--format", "prometheus", "--merge",
            "--output", output, check=False,
        )  # fmt: skip
        assert refresh.returncode in (0, 78), refresh.stderr
    (machine.root / "run/systemd/system" / deleted).unlink()
    machine.install({converted: unit(f"{go_server}")})  # launches without golaunch now
    refresh = machine.run(
        str(GOLAUNCH), "--check", "--unit", APP, "--format", "prometheus", "--merge",
        "--output", output, check=False,
    )  # fmt: skip
    assert refresh.returncode == 0, refresh.stderr
    text = (machine.root / output.lstrip("/")).read_text()
    units = set(re.findall(r'golaunch_unit_startable\{manager="system",unit="([^"]+)"\}', text))
    assert units == {stopped, APP}, text
    assert f'golaunch_unit_check_timestamp_seconds{{manager="system",unit="{APP}"}}' in text
    assert "golaunch_check_timestamp_seconds{" not in text  # no full run: none to be stale


def test_no_bus_no_answer(machine: Machine) -> None:
    """Outside the namespace there is no system bus on this machine: exit 69, one line."""
    if Path("/run/dbus/system_bus_socket").exists():
        pytest.skip("this host has a system bus")
    run = subprocess.run(
        [GOLAUNCH, "--check", "--unit", APP], capture_output=True, text=True, check=False
    )
    assert run.returncode == 69
    assert run.stderr.startswith("golaunch: cannot reach the service manager over the system bus")


def runtime_messages(report: dict[str, Any]) -> dict[str, str]:
    return {
        f["fields"]["GOLAUNCH_VARIABLE"]: f["message"]
        for f in report["findings"]
        if f["check"] == "runtime"
    }


def test_the_units_memory_limit_running_and_stopped(machine: Machine, go_server: Path) -> None:
    """GOMEMLIMIT as the unit's golaunch computes it: from the running service's cgroup,
    or for a stopped unit from its settings and its slice's."""
    machine.install(
        {"fleet-mem.slice": "[Unit]\nDefaultDependencies=no\n[Slice]\nMemoryMax=300M\n"}
    )
    running, stopped = "fleet-mem-running.service", "fleet-mem-stopped.service"
    exec_start = f"{GOLAUNCH} -- {go_server} -listen 127.0.0.1:{free_port()}"
    machine.install(
        {
            running: unit(exec_start, "MemoryMax=200M", "Slice=fleet-mem.slice"),
            stopped: unit(exec_start, "Slice=fleet-mem.slice"),
        }
    )
    machine.start_ok(running)
    launched = machine.environ(int(machine.show(running)["MainPID"]))["GOMEMLIMIT"]
    status, report = check(machine, "--unit", running)
    assert status == 0, report
    message = runtime_messages(report)["GOMEMLIMIT"]
    assert message.startswith(f"GOMEMLIMIT={launched}: ") and launched == str(
        int(0.9 * (200 << 20))
    )
    assert report["environment"]["GOMEMLIMIT"] == launched
    status, report = check(machine, "--unit", stopped)
    message = runtime_messages(report)["GOMEMLIMIT"]
    assert message.startswith(f"GOMEMLIMIT={int(0.9 * (300 << 20))}: ")
    assert message.endswith("(from MemoryMax= of fleet-mem.slice)")
    machine.run("systemctl", "stop", running)
