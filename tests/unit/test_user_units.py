"""What a user manager gives its services, as the unit checks rebuild it."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from golaunch.cli import dispatch
from golaunch.findings import Finding, Severity
from golaunch.output.report import Report
from golaunch.status import ExitStatus, GolaunchError, PermissionRefused, Unfinished, UsageError
from golaunch.systemd.manager import UserManager
from golaunch.unitcheck.environment import rebuild, user_directories, user_identity
from golaunch.unitcheck.users import Gathered, as_user

USER = UserManager(1500, 1500, "deployer", "/home/deployer", "/bin/bash")


@pytest.mark.parametrize(
    ("systemd", "state"),
    [(252, "/home/deployer/.config"), (253, "/home/deployer/.config"),
     (254, "/home/deployer/.local/state"), (257, "/home/deployer/.local/state")],
)  # fmt: skip
def test_state_and_logs_moved_to_xdg_state_home_in_254(systemd: int, state: str) -> None:
    found = user_directories(USER, {}, systemd)
    assert found == {
        "RuntimeDirectory": "/run/user/1500",
        "StateDirectory": state,
        "CacheDirectory": "/home/deployer/.cache",
        "LogsDirectory": f"{state}/log",
        "ConfigurationDirectory": "/home/deployer/.config",
    }


def test_the_managers_own_xdg_directories_win() -> None:
    manager = {"XDG_CACHE_HOME": "/srv/cache", "XDG_STATE_HOME": "/srv/state"}
    found = user_directories(USER, manager, 257)
    assert found["CacheDirectory"] == "/srv/cache" and found["LogsDirectory"] == "/srv/state/log"


def test_a_user_units_environment() -> None:
    root = pwd.getpwuid(0)
    user = UserManager(0, root.pw_gid, root.pw_name, root.pw_dir, root.pw_shell)
    service = {"Type": "notify", "CacheDirectory": ["app"], "RuntimeDirectory": ["app"]}
    manager = ["PATH=/usr/bin:/bin", "XDG_RUNTIME_DIR=/run/user/0"]
    environment, _ = rebuild(service, manager, user_identity(user), None, 257, user=user)
    assert environment["CACHE_DIRECTORY"] == os.path.join(root.pw_dir, ".cache", "app")
    assert environment["RUNTIME_DIRECTORY"] == "/run/user/0/app"
    assert environment["NOTIFY_SOCKET"] == "/run/user/0/systemd/notify"
    assert environment["USER"] == root.pw_name and environment["HOME"] == root.pw_dir


def nothing(user: UserManager) -> Gathered:
    raise AssertionError("no child may be asked")


def test_user_of_needs_root_and_a_user(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="no such user"):
        as_user("no-such-user-here", nothing)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(PermissionRefused, match="needs root"):
        as_user("root", nothing)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="becoming another user needs root")


@needs_root
def test_user_of_asks_as_the_user_and_hands_the_reports_back() -> None:
    """The child has become the user; golaunch, still root, gets every report back as the
    child made it (the unit, its manager, its findings, when it was taken)."""

    def whoami(user: UserManager) -> Gathered:
        seen = f"{os.getuid()} {os.geteuid()} {os.getgid()} {os.getgroups()}"
        finding = Finding("program", Severity.FAIL, seen, {"GOLAUNCH_X": "\udcff"})
        report = Report(
            "/opt/\udcfe", [finding], {"A": "1"}, unit="a.service", manager=user.name,
            checked_at=12.5, known=True,
        )  # fmt: skip
        unknown = Report(None, [Finding("unit", Severity.SKIP, "?")], unit="b", known=False)
        return [report, unknown], ["gone.service"]

    nobody = pwd.getpwnam("nobody")
    reports, gone = as_user("nobody", whoami)
    uid, euid, gid, groups = reports[0].findings[0].message.split(" ", 3)
    assert (int(uid), int(euid), int(gid)) == (nobody.pw_uid,) * 2 + (nobody.pw_gid,)
    assert groups == str(os.getgrouplist("nobody", nobody.pw_gid))
    assert reports[0].unit == "a.service" and reports[0].manager == "nobody"
    assert reports[0].program == "/opt/\udcfe" and reports[0].environment == {"A": "1"}
    assert reports[0].findings[0].fields == {"GOLAUNCH_X": "\udcff"}
    assert reports[0].checked_at == 12.5 and not reports[0].ok
    assert reports[1].known is False and gone == ["gone.service"]
    assert os.geteuid() == 0  # golaunch itself stays root, to write the output


@needs_root
def test_user_of_passes_on_the_childs_failure_with_its_status() -> None:
    def unreachable(user: UserManager) -> Gathered:
        from golaunch.status import ManagerUnavailable

        raise ManagerUnavailable(f"no bus for {user.name}")

    with pytest.raises(GolaunchError, match="no bus for nobody") as failure:
        as_user("nobody", unreachable)
    assert failure.value.status == ExitStatus.UNAVAILABLE

    def crashed(user: UserManager) -> Gathered:
        raise KeyError(user.name)

    with pytest.raises(GolaunchError, match="KeyError") as failure:
        as_user("nobody", crashed)
    assert failure.value.status == ExitStatus.SOFTWARE

    def unserializable(user: UserManager) -> Gathered:
        return [], [object()]  # type: ignore[list-item]

    with pytest.raises(GolaunchError, match="not JSON serializable"):
        as_user("nobody", unserializable)

    def vanished(user: UserManager) -> Gathered:
        os._exit(3)

    with pytest.raises(GolaunchError, match="--user-of nobody: the checks' process gave no"):
        as_user("nobody", vanished)


@needs_root
def test_user_of_gives_up_on_a_child_the_user_stopped() -> None:
    """The user's own processes can stop the child (kill -STOP -1): nothing is known."""
    import signal

    def stopped(user: UserManager) -> Gathered:
        os.kill(os.getpid(), signal.SIGSTOP)
        return [], []

    with pytest.raises(Unfinished, match=r"did not finish within 0\.5 s") as failure:
        as_user("nobody", stopped, timeout=0.5)
    assert failure.value.status == ExitStatus.TEMPFAIL


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--check", "--user"], "add --unit NAME"),
        (["--check", "--unit", "a.service", "--user", "--user-of", "root"], "exclude each other"),
        (["--check", "--unit", "a.service", "--user", "--candidate", "/bin/true"], "needs root"),
        (["--user", "--", "/bin/true"], "--user only applies to --check"),
    ],
)
def test_options_that_do_not_fit_are_refused(argv: list[str], words: str) -> None:
    with pytest.raises(UsageError, match=words):
        dispatch(argv, {"PATH": "/usr/bin:/bin"})


def test_a_users_refresh_drops_only_that_users_units(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--user --unit app.service --merge: the file's other units of the same manager are
    asked about (old.service is gone) on that manager, and the system's units of the same
    names are neither asked about nor touched (issue 34)."""
    from golaunch import commands
    from golaunch.output.metrics import Fleet, from_text, render
    from golaunch.unitcheck import run, users

    alice = UserManager(1600, 1600, "alice", "/home/alice", "/bin/sh")
    asked: list[tuple[list[str], UserManager | None]] = []

    def not_golaunch_units(names: list[str], user: UserManager | None = None) -> list[str]:
        asked.append((names, user))
        return names

    app = Report("/opt/app", [Finding("program", Severity.PASS, "ok")], unit="app.service",
                 manager="alice", checked_at=300.0)  # fmt: skip
    monkeypatch.setattr(users, "calling_user", lambda: alice)
    monkeypatch.setattr(run, "unit_reports", lambda *args, **kw: ([app], []))
    monkeypatch.setattr(run, "not_golaunch_units", not_golaunch_units)
    units = [("system", "app.service"), ("system", "old.service"), ("alice", "old.service")]
    output = tmp_path / "golaunch.prom"
    held = Fleet(dict.fromkeys(units, 1.0), {}, {"system": 100.0}, dict.fromkeys(units, 100.0))
    output.write_text(render(held, "prometheus"))
    status = commands.check_units(["app.service"], False, "prometheus", str(output),
                                  merge=True, user="")  # fmt: skip
    assert status == ExitStatus.OK
    assert asked == [(["old.service"], alice)]
    fleet = from_text(output.read_text())
    assert set(fleet.startable) == {*units[:2], ("alice", "app.service")}
    assert fleet.checked[("alice", "app.service")] == 300.0
    assert fleet.timestamps == {"system": 100.0}  # a refresh is no run over every unit
