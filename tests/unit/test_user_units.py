"""What a user manager gives its services, as the unit checks rebuild it."""

from __future__ import annotations

import os
import pwd

import pytest

from golaunch.cli import dispatch
from golaunch.status import PermissionRefused, UsageError
from golaunch.systemd.manager import UserManager
from golaunch.unitcheck.environment import rebuild, user_directories, user_identity
from golaunch.unitcheck.users import become

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


def test_user_of_needs_root_and_a_user(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="no such user"):
        become("no-such-user-here")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(PermissionRefused, match="needs root"):
        become("root")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--check", "--user"], "add --unit NAME"),
        (["--check", "--unit", "a.service", "--user", "--user-of", "root"], "exclude each other"),
        (["--check", "--all-units", "--user", "--format", "prometheus"], "text or json"),
        (["--check", "--unit", "a.service", "--user", "--candidate", "/bin/true"], "needs root"),
        (["--user", "--", "/bin/true"], "--user only applies to --check"),
    ],
)
def test_options_that_do_not_fit_are_refused(argv: list[str], words: str) -> None:
    with pytest.raises(UsageError, match=words):
        dispatch(argv, {"PATH": "/usr/bin:/bin"})
