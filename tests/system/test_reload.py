"""`systemctl reload` that tells the truth, under systemd 252, with Debian's prometheus
2.42 (which reloads on SIGHUP and exposes the reload metrics) and node_exporter (which
dies on SIGHUP) as the programs: ExecReload=golaunch --reload $MAINPID."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from golaunch.findings import MESSAGE_IDS, Severity
from tests.system.conftest import GOLAUNCH, WORK, Machine, free_port, http_get

PROMETHEUS = "reload-prometheus.service"
CONFIG = "/run/reload/prometheus.yml"
GOOD = "global: {scrape_interval: 1h}\nscrape_configs:\n  - {job_name: first, static_configs: [{targets: ['127.0.0.1:1']}]}\n"  # noqa: E501
ADDED = GOOD + "  - {job_name: added, static_configs: [{targets: ['127.0.0.1:2']}]}\n"
BROKEN = "scrape_configs: [this is: not: a config\n"


def unit(exec_start: str, exec_reload: str, *extra: str) -> str:
    lines = ["[Unit]", "DefaultDependencies=no", "[Service]", "Type=notify"]
    return "\n".join([*lines, f"ExecStart={exec_start}", f"ExecReload={exec_reload}", *extra, ""])


def loaded_jobs(port: int) -> str:
    return str(json.loads(http_get(port, "/api/v1/status/config"))["data"]["yaml"])


@pytest.fixture(scope="module")
def prometheus(machine: Machine) -> Iterator[int]:
    port = free_port()
    machine.write(CONFIG, GOOD)
    exec_start = (
        f"{GOLAUNCH} -- /usr/bin/prometheus --config.file={CONFIG} "
        f"--storage.tsdb.path=/run/reload/tsdb --web.listen-address=127.0.0.1:{port}"
    )
    confirm = f"--reload-confirm metrics:http://127.0.0.1:{port}/metrics --reload-timeout 20"
    machine.install({PROMETHEUS: unit(exec_start, f"{GOLAUNCH} --reload $MAINPID {confirm}")})
    machine.start_ok(PROMETHEUS)
    http_get(port, "/-/ready")
    yield port
    machine.run("systemctl", "stop", PROMETHEUS)


def reload(machine: Machine, name: str) -> tuple[int, float]:
    started = time.monotonic()
    run = machine.run("systemctl", "reload", name, check=False, timeout=120)
    return run.returncode, time.monotonic() - started


def test_a_valid_configuration_is_live_when_reload_returns(
    machine: Machine, prometheus: int
) -> None:
    main_pid = machine.show(PROMETHEUS)["MainPID"]
    machine.write(CONFIG, ADDED)
    status, took = reload(machine, PROMETHEUS)
    assert status == 0
    assert "job_name: added" in loaded_jobs(prometheus)  # the moment it returned
    assert machine.show(PROMETHEUS)["MainPID"] == main_pid
    # How long after prometheus's own completion the reload job ended, by the journal.
    entries = machine.journal("-u", PROMETHEUS, "--since", "-60s")
    completed = [
        int(e["__MONOTONIC_TIMESTAMP"])
        for e in entries
        if "Completed loading of configuration file" in str(e.get("MESSAGE", ""))
    ]
    reloaded = [
        int(e["__MONOTONIC_TIMESTAMP"])
        for e in entries
        if str(e.get("MESSAGE", "")).startswith("Reloaded ")
    ]
    lag = (reloaded[-1] - completed[-1]) / 1e6
    assert 0 <= lag < 2, (completed, reloaded)
    print(f"systemctl reload of prometheus took {took:.2f} s; {lag * 1000:.0f} ms after its own")


def test_a_broken_configuration_fails_the_reload_and_says_why(
    machine: Machine, prometheus: int
) -> None:
    main_pid = machine.show(PROMETHEUS)["MainPID"]
    before = loaded_jobs(prometheus)
    machine.write(CONFIG, BROKEN)
    status, took = reload(machine, PROMETHEUS)
    machine.write(CONFIG, ADDED)
    assert status != 0 and took < 20
    assert machine.show(PROMETHEUS)["MainPID"] == main_pid  # still serving, the old config
    assert loaded_jobs(prometheus) == before
    errors = machine.journal("-u", PROMETHEUS, "-p", "err", "GOLAUNCH_CHECK=reload")
    assert errors, machine.journal_text("-u", PROMETHEUS)
    entry = errors[-1]
    # Kept for the README, as journalctl -x shows it.
    excerpt = machine.journal_text("-x", "-u", PROMETHEUS, "-p", "err", "-o", "short")
    (WORK / "reload-journal.txt").write_text(excerpt)
    assert entry["MESSAGE_ID"] == MESSAGE_IDS[("reload", Severity.FAIL)]
    assert "prometheus_config_last_reload_successful" in entry["MESSAGE"]
    assert "rejected the reload" in entry["MESSAGE"]
    # 65, not 78: golaunch's own settings being wrong is 78.
    assert "status=65/DATAERR" in machine.journal_text("-u", PROMETHEUS)


def test_a_confirmation_that_never_comes_fails_after_the_timeout(machine: Machine) -> None:
    name = "reload-silent.service"
    # A program that survives SIGHUP and confirms nothing.
    exec_start = f"{GOLAUNCH} -- /bin/sh -c \"trap '' HUP; exec sleep 1000\""
    never = "--reload-confirm tcp://127.0.0.1:1 --reload-timeout 2"
    machine.install({name: unit(exec_start, f"{GOLAUNCH} --reload $MAINPID {never}")})
    machine.start_ok(name)
    status, took = reload(machine, name)
    journal = machine.journal_text("-u", name)
    machine.run("systemctl", "stop", name)
    assert status != 0 and 2 <= took < 10, journal
    (entry,) = machine.journal("-u", name, "-p", "err", "GOLAUNCH_CHECK=reload")
    assert "did not confirm the reload within 2 s" in entry["MESSAGE"]


def test_golaunch_answers_before_systemds_timeout(machine: Machine) -> None:
    """ExecReload= is bounded by the unit's TimeoutStartSec=. With --reload-timeout 60 and
    TimeoutStartSec=4, systemd used to kill golaunch first: no reload entry, and a message
    about a start. Now golaunch answers first, with its entry, and systemd's reload job
    fails on its exit status, not on a timeout (issue 31, item 5)."""
    name = "reload-short.service"
    exec_start = f"{GOLAUNCH} -- /bin/sh -c \"trap '' HUP; exec sleep 1000\""
    never = "--reload-confirm tcp://127.0.0.1:1 --reload-timeout 60"
    machine.install(
        {name: unit(exec_start, f"{GOLAUNCH} --reload $MAINPID {never}", "TimeoutStartSec=4")}
    )
    machine.start_ok(name)
    status, took = reload(machine, name)
    journal = machine.journal_text("-u", name)
    machine.run("systemctl", "stop", name)
    assert status != 0 and took < 4, journal
    (entry,) = machine.journal("-u", name, "-p", "err", "GOLAUNCH_CHECK=reload")
    assert "within 3.2 s, as the unit's TimeoutStartSec=4s allows" in entry["MESSAGE"], entry
    assert "status=75/TEMPFAIL" in journal and "timed out" not in journal, journal


def test_a_program_that_dies_on_the_signal_is_said_to_have_died(machine: Machine) -> None:
    """node_exporter has no SIGHUP handler. systemd 252 then finishes the reload job as
    done, whatever ExecReload= exits with, because the unit has gone inactive (a death
    by SIGHUP is a clean exit to it): so the unit's state and golaunch's entry say it."""
    name = "reload-exporter.service"
    exec_start = (
        f"{GOLAUNCH} -- /usr/bin/prometheus-node-exporter --collector.disable-defaults "
        f"--web.listen-address=127.0.0.1:{free_port()}"
    )
    machine.install({name: unit(exec_start, f"{GOLAUNCH} --reload $MAINPID --reload-signal HUP")})
    machine.start_ok(name)
    reload(machine, name)
    (entry,) = machine.journal("-u", name, "-p", "err", "GOLAUNCH_CHECK=reload")
    assert "died on SIGHUP" in entry["MESSAGE"]
    assert machine.show(name)["ActiveState"] != "active"
    assert "Control process exited, code=exited, status=69/UNAVAILABLE" in machine.journal_text(
        "-u", name
    )


def test_reload_from_outside_the_unit_signals_nothing(machine: Machine, prometheus: int) -> None:
    main_pid = machine.show(PROMETHEUS)["MainPID"]

    def last_reload() -> str:
        page = http_get(prometheus, "/metrics").splitlines()
        return next(ln for ln in page if ln.startswith("prometheus_config_last_reload_success_ti"))

    before = last_reload()
    time.sleep(1.1)  # a reload now would show in the timestamp's seconds
    run = machine.run(str(GOLAUNCH), "--reload", main_pid, "--reload-signal", "HUP", check=False)
    assert run.returncode == 77
    assert f"PID {main_pid}" in run.stderr and "systemctl reload UNIT" in run.stderr
    assert last_reload() == before
