"""READY=1 that means "serving": probes, the helper and the watchdog bridge, under the
machine's real systemd 252."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from golaunch.findings import MESSAGE_IDS, Severity
from tests.system.conftest import GOLAUNCH, Machine, free_port, http_get, wait_until

SLOW = "2s"  # how late the server starts listening


def unit(exec_start: str, *extra: str) -> str:
    lines = ["[Unit]", "DefaultDependencies=no", "[Service]", "Type=notify"]
    return "\n".join([*lines, f"ExecStart={exec_start}", *extra, ""])


def golaunch(*args: object) -> str:
    return " ".join(str(a) for a in (GOLAUNCH, *args))


def slow_server(server: Path, port: int, *options: str, delay: str = SLOW) -> str:
    """golaunch OPTIONS -- the Go server, listening DELAY after it starts."""
    return golaunch(*options, "--", server, "-listen", f"127.0.0.1:{port}", "-delay", delay)


def processes(machine: Machine, name: str) -> list[str]:
    cgroup = machine.show(name).get("ControlGroup", "")
    if not cgroup:
        return []  # a stopped unit has no cgroup left
    shown = machine.run("sh", "-c", f"cat /sys/fs/cgroup/systemd{cgroup}/cgroup.procs", check=False)
    return shown.stdout.split()


def monotonic_seconds(props: dict[str, str], name: str) -> float:
    return int(props[name]) / 1e6


def test_start_returns_once_the_program_serves(machine: Machine, go_server: Path) -> None:
    port = free_port()
    name = "ready-tcp.service"
    probe = f"tcp://127.0.0.1:{port}"
    machine.install(
        {name: unit(slow_server(go_server, port, "--ready-probe", probe), "NotifyAccess=all")}
    )
    machine.start_ok(name)
    assert http_get(port, "/health", timeout=0.5) == "ok\n"  # at once: it was serving
    props = machine.show(name)
    waited = monotonic_seconds(props, "ActiveEnterTimestampMonotonic") - monotonic_seconds(
        props, "ExecMainStartTimestampMonotonic"
    )
    assert waited >= 2.0
    main_pid = props["MainPID"]
    assert http_get(port, "/pid") == f"{main_pid}\n"  # the server is the main process
    assert props["StatusText"] == f"golaunch: {probe} answers; running {go_server}"
    # The helper left after READY=1 and its barrier: only the server remains.
    wait_until("the helper to leave", lambda: processes(machine, name) == [main_pid])
    machine.run("systemctl", "stop", name)


@pytest.mark.parametrize("kind", ["http-503", "unix", "file"])
def test_each_kind_of_probe_gates_ready(machine: Machine, go_server: Path, kind: str) -> None:
    name = f"ready-{kind}.service"
    if kind == "http-503":
        port = free_port()
        flag = "/run/not-yet"
        machine.write(flag, "")
        exec_start = golaunch(
            "--ready-probe", f"http://127.0.0.1:{port}/health",
            "--", go_server, "-listen", f"127.0.0.1:{port}", "-unhealthy-while", flag,
        )  # fmt: skip
    else:
        path = f"/run/{kind}-ready"
        opens = (
            f"import socket,time; time.sleep(1); s=socket.socket(socket.AF_UNIX); s.bind('{path}')"
            "; s.listen(); time.sleep(600)"
            if kind == "unix"
            else f"import pathlib,time; time.sleep(1); pathlib.Path('{path}').touch()"
            "; time.sleep(600)"
        )
        exec_start = golaunch(
            "--ready-probe", f"{kind}://{path}", "--", "/usr/bin/python3", "-c", f'"{opens}"'
        )
    machine.install({name: unit(exec_start, "NotifyAccess=all")})
    machine.run("systemctl", "start", "--no-block", name)
    if kind == "http-503":
        time.sleep(1.5)
        assert machine.show(name)["ActiveState"] == "activating"  # 503 is not ready
        (machine.root / "run" / "not-yet").unlink()
    wait_until(f"{name} to be active", lambda: machine.show(name)["ActiveState"] == "active")
    machine.run("systemctl", "stop", name)


def test_notify_access_main_before_254_is_refused_before_the_program_starts(
    machine: Machine, go_server: Path
) -> None:
    if machine.version() >= 254:
        pytest.skip("systemd 254 and later take NOTIFYACCESS=all from golaunch")
    port = free_port()
    name = "ready-main.service"
    machine.install(
        {name: unit(slow_server(go_server, port, "--ready-probe", f"tcp://127.0.0.1:{port}"))}
    )
    assert machine.start(name).returncode != 0
    props = machine.show(name)
    assert props["ExecMainStatus"] == "78"
    (entry,) = machine.journal(
        "-u", name, f"MESSAGE_ID={MESSAGE_IDS[('ready-probe', Severity.FAIL)]}"
    )
    assert "NotifyAccess=main" in entry["MESSAGE"] and "NotifyAccess=all" in entry["MESSAGE"]
    assert f"systemd {machine.version()} cannot be told NOTIFYACCESS=all" in entry["MESSAGE"]
    assert not machine.journal("-u", name, "SYSLOG_IDENTIFIER=server")  # never started


@pytest.mark.parametrize("access", ["main", "exec"])
def test_notify_access_is_widened_for_the_helper_from_254(
    machine: Machine, go_server: Path, access: str
) -> None:
    """golaunch, still the main process, sends NOTIFYACCESS=all; the helper's READY=1
    carries the unit's own setting back."""
    if machine.version() < 254:
        pytest.skip("NOTIFYACCESS= came with systemd 254")
    port = free_port()
    name = f"ready-{access}.service"
    probe = f"tcp://127.0.0.1:{port}"
    exec_start = slow_server(go_server, port, "--ready-probe", probe)
    machine.install({name: unit(exec_start, f"NotifyAccess={access}")})
    assert machine.show(name)["NotifyAccess"] == access
    machine.start_ok(name)
    props = machine.show(name)
    assert props["StatusText"] == f"golaunch: {probe} answers; running {go_server}"
    assert http_get(port, "/pid") == f"{props['MainPID']}\n"
    assert props["NotifyAccess"] == access  # set back by the READY=1 that needed it
    assert machine.journal("-u", name, "PRIORITY=4") == []  # no warning: nothing to fix
    machine.run("systemctl", "stop", name)


def watched(
    machine: Machine, go_server: Path, name: str, flag: str, access: str
) -> tuple[int, str, dict[str, str]]:
    """NAME: the Go server behind --ready-probe --watchdog (unhealthy while FLAG exists),
    with NotifyAccess=ACCESS and WatchdogSec=2, started and left running for more than two
    watchdog intervals, so that the helper's pings were taken. Its port, its ExecStart=
    and its properties then."""
    port = free_port()
    exec_start = golaunch(
        "--ready-probe", f"http://127.0.0.1:{port}/health", "--watchdog",
        "--", go_server, "-listen", f"127.0.0.1:{port}", "-unhealthy-while", flag,
    )  # fmt: skip
    machine.install({name: unit(exec_start, f"NotifyAccess={access}", "WatchdogSec=2")})
    machine.start_ok(name)
    time.sleep(5)
    return port, exec_start, machine.show(name)


def test_the_watchdog_keeps_notify_access_widened_until_the_next_start(
    machine: Machine, go_server: Path
) -> None:
    if machine.version() < 254:
        pytest.skip("NOTIFYACCESS= came with systemd 254")
    name, flag = "watchdog-main.service", "/run/sick-main"
    _, exec_start, props = watched(machine, go_server, name, flag, "main")
    assert (props["ActiveState"], props["NRestarts"], props["NotifyAccess"]) == (
        "active", "0", "all",
    )  # fmt: skip
    machine.write(flag, "")
    wait_until("the watchdog to fire", lambda: machine.show(name)["Result"] == "watchdog", 20)
    (machine.root / "run" / "sick-main").unlink()
    # A new start begins with the unit's own setting again.
    machine.install({name: unit(exec_start.replace(" --watchdog", ""), "NotifyAccess=main")})
    assert machine.show(name)["NotifyAccess"] == "main"
    machine.start_ok(name)
    assert machine.show(name)["NotifyAccess"] == "main"
    machine.run("systemctl", "stop", name)


def test_never_ready_fails_the_unit_and_leaves_nothing(machine: Machine, go_server: Path) -> None:
    port, other = free_port(), free_port()
    name = "ready-never.service"
    exec_start = golaunch(
        "--ready-probe", f"tcp://127.0.0.1:{other}", "--ready-timeout", "2",
        "--", go_server, "-listen", f"127.0.0.1:{port}",
    )  # fmt: skip
    machine.install({name: unit(exec_start, "NotifyAccess=all")})
    started = time.monotonic()
    assert machine.start(name).returncode != 0
    assert time.monotonic() - started < 15
    assert machine.show(name)["ActiveState"] == "failed"
    entry = wait_until(
        "the ready-probe entry",
        lambda: machine.journal(
            "-u", name, f"MESSAGE_ID={MESSAGE_IDS[('ready-probe', Severity.FAIL)]}"
        ),
    )[0]
    assert entry["GOLAUNCH_PROBE"] == f"tcp://127.0.0.1:{other}" and entry["PRIORITY"] == "3"
    assert "did not succeed within 2 s" in entry["MESSAGE"]
    assert processes(machine, name) == []


def test_a_program_that_dies_first_takes_the_checker_with_it(
    machine: Machine, go_server: Path
) -> None:
    name = "ready-dies.service"
    exec_start = golaunch(
        "--ready-probe", f"tcp://127.0.0.1:{free_port()}", "--", go_server, "-listen", "bad address"
    )
    machine.install(
        {name: unit(exec_start.replace("bad address", '"bad address"'), "NotifyAccess=all")}
    )
    assert machine.start(name).returncode != 0
    assert machine.show(name)["ActiveState"] == "failed"
    wait_until("the helper to leave", lambda: processes(machine, name) == [])


def test_watchdog_pings_while_healthy_and_triggers_when_not(
    machine: Machine, go_server: Path
) -> None:
    name, flag = "watchdog-probe.service", "/run/sick"
    port, _, props = watched(machine, go_server, name, flag, "all")
    assert (props["ActiveState"], props["NRestarts"]) == ("active", "0")
    machine.write(flag, "")
    wait_until("the watchdog to fire", lambda: machine.show(name)["Result"] == "watchdog", 20)
    watchdog_id = MESSAGE_IDS[("watchdog", Severity.FAIL)]
    entries = wait_until(
        "the watchdog's entry in the unit's journal",
        lambda: machine.journal("-u", name, f"MESSAGE_ID={watchdog_id}"),
        5,
    )
    assert len(entries) == 1, machine.journal_text("-u", name)
    (entry,) = entries
    assert entry["GOLAUNCH_PROBE"] == f"http://127.0.0.1:{port}/health"
    (machine.root / "run" / "sick").unlink()


def test_wait_for_outlasts_the_start_timeout(machine: Machine, go_server: Path) -> None:
    """The dependency opens 12 s after the start; TimeoutStartSec=5; --wait-timeout 30."""
    port, dependency = free_port(), free_port()
    helper = golaunch(
        "--notify", "none", "--", go_server, "-listen", f"127.0.0.1:{dependency}", "-delay", "12s"
    )
    gated = golaunch(
        "--wait-for", f"tcp://127.0.0.1:{dependency}", "--wait-timeout", "30",
        "--", go_server, "-listen", f"127.0.0.1:{port}",
    )  # fmt: skip
    machine.install(
        {
            "dependency.service": unit(helper).replace("Type=notify", "Type=simple"),
            "gated.service": unit(gated, "TimeoutStartSec=5"),
        }
    )
    machine.run("systemctl", "start", "dependency.service")
    machine.start_ok("gated.service")
    assert machine.show("gated.service")["ActiveState"] == "active"
    assert http_get(port, "/health") == "ok\n"
    machine.run("systemctl", "stop", "gated.service", "dependency.service")


def test_a_dependency_that_never_comes_exits_75(machine: Machine, go_server: Path) -> None:
    name = "gated-never.service"
    exec_start = golaunch(
        "--wait-for", f"tcp://127.0.0.1:{free_port()}", "--wait-timeout", "1",
        "--", go_server, "-listen", f"127.0.0.1:{free_port()}",
    )  # fmt: skip
    machine.install({name: unit(exec_start)})
    assert machine.start(name).returncode != 0
    assert machine.show(name)["ExecMainStatus"] == "75"
    (entry,) = machine.journal("-u", name, f"MESSAGE_ID={MESSAGE_IDS[('wait', Severity.FAIL)]}")
    assert "exiting 75" in entry["MESSAGE"]


def test_a_stopped_program_ends_with_the_watchdog(machine: Machine, go_server: Path) -> None:
    """SIGSTOP: the kernel still accepts connections, but nothing answers the GET."""
    port = free_port()
    name = "watchdog-stopped.service"
    exec_start = golaunch(
        "--ready-probe", f"http://127.0.0.1:{port}/health", "--watchdog",
        "--", go_server, "-listen", f"127.0.0.1:{port}",
    )  # fmt: skip
    machine.install({name: unit(exec_start, "NotifyAccess=all", "WatchdogSec=2")})
    machine.start_ok(name)
    machine.run("kill", "-STOP", machine.show(name)["MainPID"])
    wait_until("the watchdog to fire", lambda: machine.show(name)["Result"] == "watchdog", 20)
    watchdog_id = MESSAGE_IDS[("watchdog", Severity.FAIL)]
    entries = machine.journal("-u", name, f"MESSAGE_ID={watchdog_id}")
    assert len(entries) == 1, machine.journal_text("-u", name)


@pytest.mark.usefixtures("system_bus")
def test_a_user_service_asks_the_manager_over_the_system_bus(
    machine: Machine, go_server: Path
) -> None:
    """As nobody, systemctl cannot use PID 1's private socket: only the bus answers. It
    did if golaunch knows NotifyAccess=main (an unanswered query is only a warning): under
    252 the start is refused, and from 254 on the version was asked too, and NotifyAccess=
    widened."""
    port = free_port()
    name = "ready-nobody.service"
    exec_start = slow_server(go_server, port, "--ready-probe", f"tcp://127.0.0.1:{port}")
    machine.install({name: unit(exec_start, "User=nobody", "CacheDirectory=ready-nobody")})
    if machine.version() >= 254:
        machine.start_ok(name)
        assert machine.show(name)["NotifyAccess"] == "main"
        assert machine.journal("-u", name, "PRIORITY=4") == []
        machine.run("systemctl", "stop", name)
    else:
        assert machine.start(name).returncode != 0
        assert machine.show(name)["ExecMainStatus"] == "78", machine.journal_text("-u", name)
        ready_id = MESSAGE_IDS[("ready-probe", Severity.FAIL)]
        (entry,) = machine.journal("-u", name, f"MESSAGE_ID={ready_id}")
        assert "NotifyAccess=main" in entry["MESSAGE"]
    machine.install(
        {name: unit(exec_start, "User=nobody", "CacheDirectory=ready-nobody", "NotifyAccess=all")}
    )
    machine.start_ok(name)
    warnings = machine.journal(
        "-u", name, f"MESSAGE_ID={MESSAGE_IDS[('ready-probe', Severity.WARN)]}"
    )
    assert warnings == []  # the manager answered
    machine.run("systemctl", "stop", name)
