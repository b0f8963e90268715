"""Rebuilding a service's environment from its unit's settings, without a manager."""

from __future__ import annotations

from pathlib import Path

from golaunch.findings import Severity
from golaunch.systemd.manager import ServiceUnit
from golaunch.unitcheck.environment import Identity, read_environment_file, rebuild
from golaunch.unitcheck.run import golaunch_command

MANAGER = ["LANG=C.UTF-8", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"]
ROOT = Identity(0, 0, [], None, None, None)


def test_the_order_systemd_merges_in(tmp_path: Path) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text(
        '# comment\n; also\nA=from-file\nQUOTED="x \\"y\\""\nSINGLE=\'a b\'\nLONG=one\\\ntwo\n'
    )
    service = {
        "Type": "notify",
        "CacheDirectory": ["app", "app/more"],
        "StateDirectory": ["app"],
        "Environment": ["A=from-unit", "B=2", "GONE=1", "KEEP=1"],
        "EnvironmentFiles": [(str(env_file), False), (str(tmp_path / "absent"), True)],
        "UnsetEnvironment": ["GONE", "KEEP=other"],
        "WatchdogUSec": 4_000_000,
    }
    who = Identity(1000, 1000, [], "app", "/home/app", "/bin/bash")
    environment, notes = rebuild(service, MANAGER, who, "/run/credentials/app", 257)
    assert notes == []
    assert environment["A"] == "from-file"  # files after Environment=
    assert (environment["QUOTED"], environment["SINGLE"], environment["LONG"]) == (
        'x "y"',
        "a b",
        "onetwo",
    )
    assert "GONE" not in environment and environment["KEEP"] == "1"
    assert environment["CACHE_DIRECTORY"] == "/var/cache/app:/var/cache/app/more"
    assert environment["STATE_DIRECTORY"] == "/var/lib/app"
    assert environment["CREDENTIALS_DIRECTORY"] == "/run/credentials/app"
    assert (environment["HOME"], environment["SHELL"], environment["USER"]) == (
        "/home/app",
        "/bin/bash",
        "app",
    )
    assert environment["NOTIFY_SOCKET"] == "/run/systemd/notify"
    assert environment["WATCHDOG_USEC"] == "4000000"
    assert environment["PATH"] == MANAGER[1].removeprefix("PATH=")


def test_what_systemd_leaves_out_and_cannot_be_rebuilt(tmp_path: Path) -> None:
    nobody = Identity(65534, 65534, [], "nobody", "/nonexistent", "/usr/sbin/nologin")
    service = {
        "EnvironmentFiles": [(str(tmp_path / "absent"), False)],
        "PrivateTmp": True,
        "ProtectSystem": "strict",
        "ProtectHome": "no",
        "WatchdogUSec": 2**64 - 1,
    }
    environment, notes = rebuild(service, MANAGER, nobody, None, 257)
    assert "HOME" not in environment and "SHELL" not in environment
    assert "WATCHDOG_USEC" not in environment and "NOTIFY_SOCKET" not in environment
    assert [(n.severity, n.message.split("=")[0]) for n in notes] == [
        (Severity.FAIL, "EnvironmentFile"),
        (Severity.SKIP, "PrivateTmp"),
        (Severity.SKIP, "ProtectSystem"),
    ]
    assert rebuild({}, MANAGER, ROOT, None, 257)[0].keys() == {
        "LANG",
        "PATH",
        "INVOCATION_ID",
    }


def test_which_exec_start_runs_golaunch() -> None:
    def unit(*commands: tuple[str, list[str]]) -> ServiceUnit:
        return ServiceUnit("x.service", 0, list(commands), {})

    assert golaunch_command(unit(("/usr/bin/golaunch", ["golaunch", "--", "/a"]))) == [
        "golaunch",
        "--",
        "/a",
    ]
    python = ("/usr/bin/python3", ["python3", "-m", "golaunch", "--", "/a"])
    assert golaunch_command(unit(python)) == ["python3", "--", "/a"]
    assert golaunch_command(unit(("/usr/bin/dbus-daemon", ["dbus-daemon"]))) is None
    assert golaunch_command(unit()) is None


def test_environment_file_edge_cases(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("=novalue\nNOEQUALS\n  SPACED = v  \nEMPTY=\n")
    assert read_environment_file(str(path), 257) == {"SPACED": "v", "EMPTY": ""}


def test_a_user_or_group_that_does_not_exist() -> None:
    from golaunch.unitcheck.environment import identity

    who, notes = identity({"User": "no-such-user-here"}, 0)
    assert who.uid == 65534
    assert [n.severity for n in notes] == [Severity.FAIL] and "217/USER" in notes[0].message
    who, notes = identity({"User": "root", "Group": "no-such-group-here"}, 0)
    assert (who.uid, who.gid) == (0, 0) and "216/GROUP" in notes[0].message
