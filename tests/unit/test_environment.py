"""The sanitized environment: what may be inherited, what never is, what golaunch adds."""

from __future__ import annotations

from typing import Any

import pytest

from golaunch.checks import config as config_check
from golaunch.config.schema import Config, EnvironmentConfig
from golaunch.findings import Severity
from golaunch.host.context import build_context


def environment_for(inherited: dict[str, str], **env_config: Any) -> dict[str, str]:
    config = Config(program="/bin/true", environment=EnvironmentConfig(**env_config))
    return dict(build_context(config, inherited).environment)


@pytest.mark.parametrize(
    "name",
    [
        "LISTEN_FDS",
        "LISTEN_PID",
        "LISTEN_FDNAMES",
        "INVOCATION_ID",
        "JOURNAL_STREAM",
        "RUNTIME_DIRECTORY",
        "STATE_DIRECTORY",
        "LOGS_DIRECTORY",
        "CONFIGURATION_DIRECTORY",
        "CREDENTIALS_DIRECTORY",
        "SYSTEMD_EXEC_PID",
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "LC_TIME",
        "TZ",
        "HOME",
        "USER",
        "LOGNAME",
        "GOMAXPROCS",
        "GOMEMLIMIT",
        "GOGC",
        "GODEBUG",
        "GOTRACEBACK",
        "GOPROXY",
        "GOPRIVATE",
        "GONOPROXY",
        "GONOSUMDB",
        "GOSUMDB",
        "GOFLAGS",
        "GOENV",
    ],
)
def test_inherited(name: str) -> None:
    assert environment_for({name: "v"})[name] == "v"


@pytest.mark.parametrize(
    "name",
    [
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "LD_AUDIT",
        "GCONV_PATH",
        "GETCONF_DIR",
        "GLIBC_TUNABLES",
        "HOSTALIASES",
        "LOCALDOMAIN",
        "LOCPATH",
        "MALLOC_CHECK_",
        "NIS_PATH",
        "NLSPATH",
        "RESOLV_HOST_CONF",
        "RES_OPTIONS",
        "PYTHONPATH",
        "PYTHONHOME",
        "GOLAUNCH_CONFIG",
    ],
)
def test_never_inherited_even_when_keep_matches(name: str) -> None:
    assert name not in environment_for({name: "v"}, keep=("*", name, name[:3] + "*"))


@pytest.mark.parametrize("name", ["LD_LIBRARY_PATH", "GCONV_PATH", "PYTHONPATH"])
def test_only_an_explicit_set_puts_a_dangerous_name_in(name: str) -> None:
    assert environment_for({name: "inherited"}, set={name: "/chosen"})[name] == "/chosen"


def test_unlisted_variables_need_keep() -> None:
    inherited = {"MYAPP_MODE": "prod", "MYAPP_X": "1", "SECRET": "s", "SHELL": "/bin/sh"}
    env = environment_for(inherited, keep=("MYAPP_*",))
    assert {k: v for k, v in env.items() if k in inherited} == {
        "MYAPP_MODE": "prod",
        "MYAPP_X": "1",
    }


def test_path_is_replaced_and_set_comes_last() -> None:
    env = environment_for(
        {"PATH": "/home/u/bin:/usr/bin", "GOMAXPROCS": "8"},
        path="/usr/bin:/bin",
        set={"GOMAXPROCS": "2"},
    )
    assert env["PATH"] == "/usr/bin:/bin"
    assert env["GOMAXPROCS"] == "2"


@pytest.mark.parametrize(
    ("mode", "kept"), [("passthrough", True), ("ready", False), ("none", False)]
)
def test_notify_socket_only_in_passthrough(mode: str, kept: bool) -> None:
    """The watchdog's variables travel with the socket: a program that gets no socket
    cannot ping, and would only be misled into thinking it should (sd_watchdog_enabled)."""
    config = Config(program="/bin/true")
    config = Config(program="/bin/true", notify=type(config.notify)(mode=mode))  # type: ignore[arg-type]
    inherited = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}
    env = build_context(config, inherited).environment
    for name in inherited:
        assert (name in env) is kept, name
    kept_anyway = environment_for(inherited, keep=("*", "WATCHDOG_USEC"))
    assert "WATCHDOG_USEC" not in kept_anyway and "WATCHDOG_PID" not in kept_anyway


def test_an_entry_without_a_name_is_never_inherited() -> None:
    """An environment block may hold "=x"; `--keep-env '*'` must not hand it to execve."""
    environment = environment_for({"": "x", "KEPT": "1"}, keep=("*",))
    assert "" not in environment and environment["KEPT"] == "1"


@pytest.mark.parametrize(
    ("pattern", "warns"),
    [
        ("LD_*", True),
        ("GOLAUNCH_*", True),
        ("LD_PRELOAD", True),
        ("PYTHON?ATH", True),
        ("MYAPP_*", False),
        ("L*", False),  # could match LANG
        ("TMPDIR", False),
        ("TZDIR", False),
    ],
)
def test_a_keep_pattern_that_can_never_match_is_a_warning(pattern: str, warns: bool) -> None:
    config = Config(program="/bin/true", environment=EnvironmentConfig(keep=(pattern,)))
    warnings = config_check.check(build_context(config, {}))
    assert bool(warnings) is warns
    assert all(f.severity is Severity.WARN and pattern in f.message for f in warnings)


@pytest.mark.parametrize("name", ["TMPDIR", "TZDIR"])
def test_tmpdir_and_tzdir_pass_only_through_keep(name: str) -> None:
    """glibc drops them for set-user-ID programs only; a service's own are legitimate."""
    assert name not in environment_for({name: "/var/tmp/app"})
    assert environment_for({name: "/var/tmp/app"}, keep=(name,))[name] == "/var/tmp/app"


def test_what_is_left_out_is_named_never_its_value() -> None:
    from golaunch.host.environment import dropped
    from golaunch.systemd.journal import launch_fields

    inherited = {
        "MYAPP_MODE": "prod",
        "DATABASE_URL": "postgres://u:secret@db/app",
        "LD_PRELOAD": "/x.so",  # never inherited: not something keep could pass
        "NOTIFY_SOCKET": "/run/x",  # follows --notify
        "PATH": "/usr/bin",  # replaced
        "LANG": "C.UTF-8",  # passed
    }
    env = environment_for(inherited)
    assert dropped(inherited, env) == ["DATABASE_URL", "MYAPP_MODE"]
    kept = environment_for(inherited, keep=("MYAPP_*",))
    assert dropped(inherited, kept) == ["DATABASE_URL"]
    fields = launch_fields("/opt/app", ("app",), 7, (), dropped(inherited, env))
    assert fields["GOLAUNCH_DROPPED"] == "DATABASE_URL MYAPP_MODE"
    assert "secret" not in str(fields) and "--keep-env" in fields["MESSAGE"]
