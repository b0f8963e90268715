"""golaunch in real units under the machine's systemd 252 and journald."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from golaunch.findings import MESSAGE_IDS, Severity
from golaunch.systemd.journal import LAUNCH_MESSAGE_ID
from tests.helpers.toolchain import Toolchain
from tests.system.conftest import (
    GOLAUNCH,
    WORK,
    Machine,
    free_port,
    http_get,
    install_program,
    reach_this_tree,
    wait_until,
)


def service(exec_start: str, *extra: str, kind: str = "notify") -> str:
    # No default dependencies: they would pull in sysinit.target (see conftest).
    lines = ["[Unit]", "DefaultDependencies=no", "[Service]", f"Type={kind}"]
    return "\n".join([*lines, f"ExecStart={exec_start}", *extra, ""])


def golaunch(*args: object) -> str:
    return " ".join(str(a) for a in (GOLAUNCH, *args))


def serve(server: Path, port: int, *options: object) -> str:
    """golaunch OPTIONS -- the Go server on 127.0.0.1:PORT."""
    return golaunch(*options, "--", server, "-listen", f"127.0.0.1:{port}")


@pytest.fixture(scope="module")
def catalog(machine: Machine) -> None:
    """units/golaunch.catalog where systemd 252 looks, compiled (private to the namespace)."""
    from tests.helpers.paths import CATALOG

    machine.write("/usr/local/lib/systemd/catalog/golaunch.catalog", CATALOG.read_text())
    machine.run("journalctl", "--update-catalog")


@pytest.fixture(scope="module")
def missing_interpreter_program() -> Path:
    data = Path("/bin/true").read_bytes()
    patched = data.replace(b"/lib64/ld-linux-x86-64.so.2\0", b"/nonexist/ld-linux-x86.so.2\0")
    assert patched != data
    path = WORK / "no-interp"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(patched)
    return install_program(path, "no-interp")


def test_success_ready_same_pid_sanitized_environment_own_identifier(
    machine: Machine, go_server: Path, go_new: Toolchain
) -> None:
    port = free_port()
    unit = "ok.service"
    machine.install(
        {
            unit: service(
                serve(go_server, port, "--goroot", go_new.goroot),
                "Environment=LD_PRELOAD=/nonexistent/evil.so SECRET_TOKEN=hunter2",
                "CacheDirectory=ok",
            )
        }
    )
    machine.start_ok(unit)
    props = machine.show(unit)
    assert (props["ActiveState"], props["SubState"]) == ("active", "running")
    assert props["StatusText"] == f"golaunch: checks passed, running {go_server}"
    main_pid = int(props["MainPID"])
    assert int(http_get(port, "/pid")) == main_pid  # the Go program is the main process

    environ = machine.environ(main_pid)
    for name in ("LD_PRELOAD", "SECRET_TOKEN", "NOTIFY_SOCKET"):
        assert name not in environ
    assert environ["GOROOT"] == str(go_new.goroot)
    assert environ["GOCACHE"] == "/var/cache/ok/go-build"
    assert environ["INVOCATION_ID"] == props["InvocationID"]

    launch = wait_until(
        "the launch entry", lambda: machine.journal("-u", unit, f"MESSAGE_ID={LAUNCH_MESSAGE_ID}")
    )
    assert int(launch[0]["_PID"]) == main_pid
    assert launch[0]["SYSLOG_IDENTIFIER"] == "golaunch"
    # The program's own output: its stream is named after it, and JOURNAL_STREAM says so.
    line = wait_until(
        "the server's first line",
        lambda: machine.journal("-u", unit, "SYSLOG_IDENTIFIER=server"),
    )
    assert line[0]["MESSAGE"].startswith(f"server: pid {main_pid} serving on")
    assert line[0]["PRIORITY"] == "6" and int(line[0]["_PID"]) == main_pid
    stdout = (machine.root / "proc" / str(main_pid) / "fd" / "1").stat()
    assert environ["JOURNAL_STREAM"] == f"{stdout.st_dev}:{stdout.st_ino}"
    machine.run("systemctl", "stop", unit)


def test_unit_syslog_identifier_wins(machine: Machine, go_server: Path) -> None:
    port = free_port()
    unit = "named.service"
    machine.install(
        {
            unit: service(
                golaunch("--", go_server, "-listen", f"127.0.0.1:{port}"),
                "SyslogIdentifier=billing",
                "CacheDirectory=named",  # /usr/bin/go is on PATH: a toolchain is in play
            )
        }
    )
    machine.start_ok(unit)
    http_get(port, "/health")
    entries = wait_until(
        "the server's first line", lambda: machine.journal("-u", unit, "SYSLOG_IDENTIFIER=billing")
    )
    assert any("serving on" in e["MESSAGE"] for e in entries)
    assert not machine.journal("-u", unit, "SYSLOG_IDENTIFIER=server")
    machine.run("systemctl", "stop", unit)


RESTART = ("Restart=on-failure", "RestartSec=100ms", "RestartPreventExitStatus=78")

# check -> (golaunch arguments before --, extra unit lines, fields the entry must carry)
FAILURES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "goroot": ("--goroot /nonexistent/go", (), "GOROOT=/nonexistent/go"),
    "go-version": (
        "--goroot {goroot} --go-version >=1.99",
        ("CacheDirectory=fail-go-version",),
        "GOLAUNCH_GO_VERSION_REQUIRED=>=1.99",
    ),
    "gocache": (
        "--goroot {goroot}",
        ("Environment=GOCACHE=relative/cache",),
        "GOCACHE=relative/cache",
    ),
    "library": ("", (), "GOLAUNCH_LIBRARY=libgone.so.1"),
    "interpreter": ("", (), "GOLAUNCH_PATH=/nonexist/ld-linux-x86.so.2"),
}
# What `journalctl -x` must show from the catalog, fields substituted.
CATALOG_SUBJECTS = {
    "goroot": "No usable GOROOT for {program}",
    "go-version": "Go toolchain {version} does not satisfy >=1.99",
    "gocache": "GOCACHE is not usable for {program}",
    "library": "Shared library libgone.so.1 cannot be loaded",
    "interpreter": "The ELF interpreter /nonexist/ld-linux-x86.so.2 is missing or unusable",
}


@pytest.fixture(scope="module")
def failing_programs(
    go_server: Path, missing_library_program: Path, missing_interpreter_program: Path
) -> dict[str, Path]:
    programs = dict.fromkeys(FAILURES, go_server)
    programs |= {"library": missing_library_program, "interpreter": missing_interpreter_program}
    return programs


@pytest.mark.parametrize("check", sorted(FAILURES))
def test_failed_check_exits_78_with_an_explained_journal_entry(
    machine: Machine,
    catalog: None,
    check: str,
    failing_programs: dict[str, Path],
    go_new: Toolchain,
) -> None:
    options, extra, field = FAILURES[check]
    program = failing_programs[check]
    unit = f"fail-{check}.service"
    exec_start = golaunch(options.format(goroot=go_new.goroot), "--", program)
    machine.install({unit: service(exec_start, *extra, *RESTART)})
    assert machine.start(unit).returncode != 0

    time.sleep(1)  # ten RestartSec= periods: a restart loop would show by now
    props = machine.show(unit)
    assert props["ActiveState"] == "failed"
    assert (props["Result"], props["ExecMainStatus"], props["NRestarts"]) == (
        "exit-code",
        "78",
        "0",
    )
    assert props["StatusText"].startswith(f"golaunch: {check} check failed: ")

    entries = machine.journal("-u", unit, f"GOLAUNCH_CHECK={check}")
    assert len(entries) == 1, entries
    entry = entries[0]
    assert entry["MESSAGE_ID"] == MESSAGE_IDS[(check, Severity.FAIL)]
    assert entry["PRIORITY"] == "3"
    assert entry["SYSLOG_IDENTIFIER"] == "golaunch"
    assert entry["GOLAUNCH_PROGRAM"] == str(program)
    name, _, value = field.partition("=")
    assert entry[name] == value
    assert not machine.journal("-u", unit, f"MESSAGE_ID={LAUNCH_MESSAGE_ID}")

    explained = machine.journal_text("-x", "-u", unit, f"GOLAUNCH_CHECK={check}")
    subject = CATALOG_SUBJECTS[check].format(program=program, version=go_new.version)
    assert f"░░ Subject: {subject}" in explained
    assert "░░ Documentation: man:golaunch(1)" in explained
    assert "exits with status 78 (EX_CONFIG)" in " ".join(explained.replace("░░", "").split())


def test_without_restart_prevention_the_same_failure_loops(
    machine: Machine, missing_library_program: Path
) -> None:
    """The control for the test above: the restart settings are what stop the loop."""
    unit = "loop.service"
    machine.install(
        {
            unit: service(
                golaunch("--", missing_library_program),
                "Restart=on-failure",
                "RestartSec=100ms",
                "[Unit]",
                "StartLimitIntervalSec=0",
            )
        }
    )
    machine.start(unit)
    wait_until("a restart", lambda: int(machine.show(unit)["NRestarts"]) >= 2)
    machine.run("systemctl", "stop", unit)


def test_passthrough_program_sends_ready_itself(machine: Machine, go_server: Path) -> None:
    port = free_port()
    unit = "passthrough.service"
    exec_start = golaunch(
        "--notify", "passthrough", "--", go_server, "-notify", "-listen", f"127.0.0.1:{port}"
    )
    machine.install({unit: service(exec_start, "CacheDirectory=passthrough")})
    machine.start_ok(unit)
    props = machine.show(unit)
    assert props["StatusText"] == "server: serving"  # the program's own READY=1 message
    assert "NOTIFY_SOCKET" in machine.environ(int(props["MainPID"]))
    machine.run("systemctl", "stop", unit)


def test_socket_activation_reaches_the_program(machine: Machine, go_server: Path) -> None:
    port = free_port()
    machine.install(
        {
            "activated.socket": "\n".join(
                [
                    "[Unit]",
                    "DefaultDependencies=no",
                    "[Socket]",
                    f"ListenStream=127.0.0.1:{port}",
                    "",
                ]
            ),
            "activated.service": service(golaunch("--", go_server), "CacheDirectory=activated"),
        }
    )
    machine.start_ok("activated.socket")
    assert machine.show("activated.service")["ActiveState"] == "inactive"
    pid = int(http_get(port, "/pid"))  # the first connection starts the service
    env = dict(line.split("=", 1) for line in http_get(port, "/env").splitlines() if "=" in line)
    assert (env["LISTEN_FDS"], env["LISTEN_PID"]) == ("1", str(pid))
    assert int(machine.show("activated.service")["MainPID"]) == pid
    machine.run("systemctl", "stop", "activated.socket", "activated.service")


def test_a_newer_managers_variables_reach_the_program(machine: Machine, go_server: Path) -> None:
    """systemd 254 sets FDSTORE= for FileDescriptorStoreMax=: the program, which is the main
    process, may use the store, so golaunch's sanitizing passes it on (252 sets none)."""
    port = free_port()
    machine.install(
        {"fdstore.service": service(serve(go_server, port), "FileDescriptorStoreMax=4")}
    )
    machine.start_ok("fdstore.service")
    env = dict(line.split("=", 1) for line in http_get(port, "/env").splitlines() if "=" in line)
    machine.run("systemctl", "stop", "fdstore.service")
    assert env.get("FDSTORE") == ("4" if machine.version() >= 254 else None)


def test_watchdog_usec_reaches_a_program_that_pings(machine: Machine, go_server: Path) -> None:
    pinging, silent = free_port(), free_port()
    machine.install(
        {
            "pings.service": service(
                golaunch("--notify", "passthrough", "--", go_server, "-notify", "-listen")
                + f" 127.0.0.1:{pinging}",
                "WatchdogSec=1s",
                "CacheDirectory=pings",
            ),
            # The same watchdog for a program that could not ping (ready mode hides
            # NOTIFY_SOCKET from it): systemd would kill it every second, a restart
            # loop. golaunch refuses it with the fix named instead.
            "silent.service": service(
                golaunch("--", go_server, "-notify", "-listen", f"127.0.0.1:{silent}"),
                "WatchdogSec=1s",
                "CacheDirectory=silent",
            ),
        }
    )
    machine.start_ok("pings.service")
    assert machine.start("silent.service").returncode != 0
    env = http_get(pinging, "/env")
    assert "WATCHDOG_USEC=1000000" in env.splitlines()
    silent_props = machine.show("silent.service")
    assert (silent_props["Result"], silent_props["ExecMainStatus"]) == ("exit-code", "78")
    (entry,) = [
        e for e in machine.journal("-u", "silent.service") if e.get("GOLAUNCH_CHECK") == "config"
    ]
    assert "--watchdog" in entry["MESSAGE"] and "--notify passthrough" in entry["MESSAGE"]
    assert "WatchdogSec=" in silent_props["StatusText"] or "WatchdogSec=" in entry["MESSAGE"]
    props = machine.show("pings.service")
    assert (props["ActiveState"], props["Result"]) == ("active", "success")
    machine.run("systemctl", "stop", "pings.service", "silent.service")


def test_non_root_user_gets_caches_from_cache_directory(
    machine: Machine, go_server: Path, go_new: Toolchain
) -> None:
    port = free_port()
    unit = "nobody.service"
    machine.install(
        {
            unit: service(
                serve(go_server, port, "--goroot", go_new.goroot),
                "User=nobody",
                "CacheDirectory=gonobody",
            )
        }
    )
    machine.start_ok(unit)
    env = dict(line.split("=", 1) for line in http_get(port, "/env").splitlines() if "=" in line)
    assert env["CACHE_DIRECTORY"] == "/var/cache/gonobody"
    assert (env["GOCACHE"], env["GOMODCACHE"]) == (
        "/var/cache/gonobody/go-build",
        "/var/cache/gonobody/mod",
    )
    for directory in (env["GOCACHE"], env["GOMODCACHE"]):
        info = (machine.root / directory.lstrip("/")).stat()
        assert (info.st_uid, info.st_mode & 0o777) == (65534, 0o700)
    machine.run("systemctl", "stop", unit)


def shipped_unit_dropin(unit_file: str, exec_start: str) -> str:
    """Run a unit from units/ as shipped, with only ExecStart= pointing at this tree."""
    lines = ["[Service]", "ExecStart=", f"ExecStart={exec_start}", *reach_this_tree()]
    return "\n".join(lines) + "\n"


def test_template_unit_runs_the_program_its_config_names(machine: Machine, go_server: Path) -> None:
    from tests.helpers.paths import UNITS

    port = free_port()
    machine.write(
        "/etc/golaunch/billing.toml",
        f'program = "{go_server}"\nargs = ["-listen", "127.0.0.1:{port}"]\n',
    )
    machine.write(
        "/run/systemd/system/golaunch@.service.d/test.conf",
        shipped_unit_dropin("golaunch@.service", f"{GOLAUNCH} --config /etc/golaunch/%i.toml"),
    )
    machine.install({"golaunch@.service": (UNITS / "golaunch@.service").read_text()})
    machine.start_ok("golaunch@billing.service")
    props = machine.show("golaunch@billing.service")
    assert int(http_get(port, "/pid")) == int(props["MainPID"])
    env = http_get(port, "/env").splitlines()
    # DynamicUser= and CacheDirectory=golaunch/%i, as shipped.
    assert "GOCACHE=/var/cache/golaunch/billing/go-build" in env
    assert int(props["ExecMainPID"]) == int(props["MainPID"])
    machine.run("systemctl", "stop", "golaunch@billing.service")


def test_template_without_its_config_fails_with_78(machine: Machine) -> None:
    from tests.helpers.paths import UNITS

    machine.install({"golaunch@.service": (UNITS / "golaunch@.service").read_text()})
    assert machine.start("golaunch@typo.service").returncode != 0
    props = machine.show("golaunch@typo.service")
    assert props["ExecMainStatus"] == "78"
    entry = machine.journal("-u", "golaunch@typo.service", "GOLAUNCH_CHECK=config")[0]
    assert "/etc/golaunch/typo.toml" in entry["MESSAGE"]


def test_example_unit_with_all_its_hardening(
    machine: Machine, go_server: Path, go_new: Toolchain
) -> None:
    from tests.helpers.paths import UNITS

    port = free_port()
    machine.write(
        "/etc/golaunch/example.toml",
        f'[go]\ngoroot = "{go_new.goroot}"\nversion = ">=1.21"\nmatch_binary = "release"\n',
    )
    exec_start = golaunch(
        "--config /etc/golaunch/example.toml --", go_server, "-listen", f"127.0.0.1:{port}"
    )
    machine.write(
        "/run/systemd/system/example.service.d/test.conf",
        shipped_unit_dropin("golaunch-example.service", exec_start),
    )
    machine.install({"example.service": (UNITS / "golaunch-example.service").read_text()})
    machine.start_ok("example.service")
    props = machine.show("example.service")
    assert int(http_get(port, "/pid")) == int(props["MainPID"])
    assert props["DynamicUser"] == "yes"
    status = (machine.root / "proc" / props["MainPID"] / "status").read_text()
    uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
    assert int(uid) >= 61184  # systemd's dynamic user range
    env = http_get(port, "/env").splitlines()
    assert "GOMODCACHE=/var/cache/example/mod" in env
    assert f"GOROOT={go_new.goroot}" in env
    machine.run("systemctl", "stop", "example.service")


NODE_EXPORTER = Path("/usr/bin/prometheus-node-exporter")


@pytest.mark.skipif(not NODE_EXPORTER.exists(), reason="Debian's prometheus-node-exporter")
def test_a_go_program_nobody_here_wrote_starts_beside_golang_go(machine: Machine) -> None:
    """No User= (so no HOME) and /usr/bin/go on the default PATH: the exporter never runs
    go, so a toolchain golaunch only discovered must not stop it (issue 13, part 1)."""
    assert Path("/usr/bin/go").exists(), "make test installs golang-go"
    port = free_port()
    unit = "node-exporter.service"
    exporter = (
        f"{NODE_EXPORTER} --web.listen-address=127.0.0.1:{port} "
        "--collector.disable-defaults --collector.time"
    )
    machine.install({unit: service(golaunch("--", exporter))})
    machine.start_ok(unit)
    assert "node_time_seconds" in http_get(port, "/metrics")
    assert machine.show(unit)["ActiveState"] == "active"
    # A skip is no journal entry: only the launch entry carries a GOLAUNCH_CHECK.
    checks = {
        e["GOLAUNCH_CHECK"] for e in machine.journal("-u", unit, "SYSLOG_IDENTIFIER=golaunch")
    }
    assert checks == {"exec"}
    machine.run("systemctl", "stop", unit)
