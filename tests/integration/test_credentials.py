"""Credentials as variables, golaunch as a real process: the program gets the secret;
stdout, stderr, --check, --check --json and --print-env never show it."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.paths import BASE_PATH
from tests.helpers.process import run_golaunch

SECRET = "s3cr3t-golaunch-credential-7731"


def test_the_program_gets_it_and_nothing_else_shows_it(tmp_path: Path) -> None:
    (tmp_path / "db").write_text(SECRET + "\n")
    env = {"PATH": BASE_PATH, "CREDENTIALS_DIRECTORY": str(tmp_path)}
    options = ["--credential-env", "DB_PASSWORD=db", "--credential-file-env", "DB_FILE=db"]
    launched = run_golaunch(
        "--log-target", "stderr", "--notify", "none", *options, "--", "/usr/bin/env", env=env
    )
    assert launched.returncode == 0
    assert f"DB_PASSWORD={SECRET}\n" in launched.stdout  # the program's own output
    assert f"DB_FILE={tmp_path / 'db'}\n" in launched.stdout
    assert SECRET not in launched.stderr
    for mode in (["--check"], ["--check", "--json"], ["--print-env"]):
        shown = run_golaunch(*mode, *options, "--", "/usr/bin/env", env=env)
        assert shown.returncode == 0 and SECRET not in shown.stdout + shown.stderr
        assert "<credential db, 31 bytes>" in shown.stdout or mode == ["--check"]


def test_a_missing_credential_exits_78_naming_it(tmp_path: Path) -> None:
    env = {"PATH": BASE_PATH, "CREDENTIALS_DIRECTORY": str(tmp_path)}
    result = run_golaunch(
        "--log-target", "stderr", "--notify", "none", "--credential-env", "TOKEN=api",
        "--", "/bin/true", env=env,
    )  # fmt: skip
    assert result.returncode == 78
    assert "golaunch: credentials: TOKEN wants credential 'api', which is not in" in result.stderr
