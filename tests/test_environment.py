"""The sanitized environment: what may be inherited, what never is, what golaunch adds."""

from __future__ import annotations

from pathlib import Path

import pytest

from golaunch.config import Config, EnvironmentConfig
from golaunch.context import build_context
from tests.conftest import run_golaunch


def environment_for(inherited: dict[str, str], **env_config: object) -> dict[str, str]:
    config = Config(program="/bin/true", environment=EnvironmentConfig(**env_config))  # type: ignore[arg-type]
    return dict(build_context(config, inherited, dry_run=True).environment)


@pytest.mark.parametrize(
    "name",
    [
        "LISTEN_FDS",
        "LISTEN_PID",
        "LISTEN_FDNAMES",
        "WATCHDOG_USEC",
        "WATCHDOG_PID",
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
    config = Config(program="/bin/true")
    config = Config(program="/bin/true", notify=type(config.notify)(mode=mode))  # type: ignore[arg-type]
    inherited = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}
    env = build_context(config, inherited, dry_run=True).environment
    assert ("NOTIFY_SOCKET" in env) is kept
    assert env["WATCHDOG_USEC"] == "1000" and env["WATCHDOG_PID"] == "1"


def test_print_env_is_sorted_name_value_lines() -> None:
    result = run_golaunch(
        "--print-env",
        "--set-env",
        "B=2",
        "--set-env",
        "A=x=y",
        "--",
        "/bin/true",
        env={"HOME": "/root", "LD_PRELOAD": "/evil.so", "ZZ": "no"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == sorted(lines)
    assert "A=x=y" in lines and "B=2" in lines and "HOME=/root" in lines
    assert not any(line.startswith(("LD_PRELOAD=", "ZZ=")) for line in lines)


@pytest.mark.parametrize(
    ("option", "message"),
    [("NOEQUALS", "expected NAME=VALUE"), ("=v", "must not be empty"), ("A B=1", "whitespace")],
)
def test_bad_set_env_is_a_usage_error(option: str, message: str) -> None:
    result = run_golaunch("--print-env", "--set-env", option, "--", "/bin/true")
    assert result.returncode == 64
    assert message in result.stderr and "Traceback" not in result.stderr


def test_one_string_longer_than_max_arg_strlen_fails_before_exec(tmp_path: Path) -> None:
    config = tmp_path / "big.toml"
    config.write_text(f'[environment]\nset = {{ BIG = "{"x" * 140_000}" }}\n')
    result = run_golaunch("--check", "-c", str(config), "--", "/bin/true")
    assert result.returncode == 78
    assert "  fail  exec" in result.stdout and "MAX_ARG_STRLEN" in result.stdout


def test_environment_larger_than_arg_max_fails_before_exec(tmp_path: Path) -> None:
    """golaunch's own arguments fit; the kept variables plus the config's `set` do not."""
    config = tmp_path / "big.toml"
    values = ", ".join(f'SET{i} = "{"s" * 120_000}"' for i in range(8))
    config.write_text(f'[environment]\nkeep = ["KEPT*"]\nset = {{ {values} }}\n')
    inherited = {f"KEPT{i}": "k" * 120_000 for i in range(10)}
    result = run_golaunch("--check", "-c", str(config), "--", "/bin/true", env=inherited)
    assert result.returncode == 78
    assert "more than ARG_MAX" in result.stdout and "E2BIG" in result.stdout
