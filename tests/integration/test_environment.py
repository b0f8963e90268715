"""The sanitized environment: what may be inherited, what never is, what golaunch adds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.paths import BASE_PATH
from tests.helpers.process import run_golaunch


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
    assert "variable BIG is 140004 bytes" in result.stdout and "xxxx" not in result.stdout


def test_environment_larger_than_arg_max_fails_before_exec(tmp_path: Path) -> None:
    """golaunch's own arguments fit; the kept variables plus the config's `set` do not."""
    config = tmp_path / "big.toml"
    values = ", ".join(f'SET{i} = "{"s" * 120_000}"' for i in range(8))
    config.write_text(f'[environment]\nkeep = ["KEPT*"]\nset = {{ {values} }}\n')
    inherited = {f"KEPT{i}": "k" * 120_000 for i in range(10)}
    result = run_golaunch("--check", "-c", str(config), "--", "/bin/true", env=inherited)
    assert result.returncode == 78
    assert "more than ARG_MAX" in result.stdout and "E2BIG" in result.stdout


def test_what_set_env_gives_the_program_is_what_is_checked(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    result = run_golaunch(
        "--check", "--set-env", f"GOCACHE={shared}", "--set-env", "GOROOT=/nonexistent",
        "--", "/bin/true",
    )  # fmt: skip
    assert result.returncode == 78
    assert "fail  goroot       GOROOT /nonexistent" in result.stdout
    assert (
        f"fail  gocache      GOCACHE={shared}" in result.stdout
        and "world-writable" in result.stdout
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [({}, None), ({"LC_CTYPE": "C"}, "C"), ({"LANG": "C.UTF-8"}, None)],
    ids=["none", "C", "LANG-only"],
)
def test_the_program_gets_the_locale_the_unit_gave(
    given: dict[str, str], expected: str | None
) -> None:
    """CPython coerces a C locale to C.UTF-8 (PEP 538), even under -I: not for the program."""
    result = subprocess.run(
        [sys.executable, "-I", "-m", "golaunch", "--notify", "none", "--", "/usr/bin/env"],
        env={"PATH": BASE_PATH, **given},
        capture_output=True,
        text=True,
        check=True,
    )
    variables = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert variables.get("LC_CTYPE") == expected
