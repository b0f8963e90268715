"""Credentials as variables: read from $CREDENTIALS_DIRECTORY, never shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from golaunch.checks import credentials as credentials_check
from golaunch.config.schema import Config, CredentialsConfig, EnvironmentConfig
from golaunch.config.validate import ConfigInvalid, validate
from golaunch.findings import Severity
from golaunch.host.context import LaunchContext, build_context
from golaunch.output.report import Report, render_json, render_text

SECRET = "hunter2-\u00e9-very-secret"


def context(directory: Path | None, **credentials: dict[str, str]) -> LaunchContext:
    config = Config(
        program="/bin/true",
        credentials=CredentialsConfig(**credentials),
        environment=EnvironmentConfig(path="/usr/sbin"),
    )
    inherited = {"CREDENTIALS_DIRECTORY": str(directory)} if directory else {}
    return build_context(config, inherited)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    (tmp_path / "db").write_text(SECRET + "\n")
    return tmp_path


def test_contents_become_the_variable_and_never_a_report(directory: Path) -> None:
    ctx = context(directory, env={"DB_PASSWORD": "db"}, file_env={"DB_PASSWORD_FILE": "db"})
    assert ctx.environment["DB_PASSWORD"] == SECRET  # one trailing newline dropped
    assert ctx.environment["DB_PASSWORD_FILE"] == str(directory / "db")
    size = len(SECRET.encode())
    assert ctx.shown_environment["DB_PASSWORD"] == f"<credential db, {size} bytes>"
    (finding,) = credentials_check.check(ctx)
    assert finding.severity is Severity.PASS and SECRET not in finding.message
    report = Report("/bin/true", [finding], ctx.shown_environment)
    assert SECRET not in render_text(report) and SECRET not in render_json(report)
    assert SECRET not in json.dumps(json.loads(render_json(report)))


@pytest.mark.parametrize(
    ("setup", "name", "says"),
    [
        (None, "db", "there is no $CREDENTIALS_DIRECTORY"),
        (lambda d: None, "absent", "is not in $CREDENTIALS_DIRECTORY; add LoadCredential="),
        (lambda d: (d / "big").write_bytes(b"x" * ((1 << 20) + 1)), "big", "larger than 1048576"),
        (lambda d: (d / "nul").write_bytes(b"a\0b"), "nul", "contains a NUL byte"),
        (lambda d: (d / "dir").mkdir(), "dir", "is a directory, not a regular file"),
    ],
    ids=["no-directory", "missing", "too-large", "nul", "directory"],
)
def test_each_bad_credential_is_a_finding(
    tmp_path: Path,
    setup: Callable[[Path], object] | None,
    name: str,
    says: str,
) -> None:
    if setup:
        setup(tmp_path)
    ctx = context(tmp_path if setup else None, env={"VAR": name})
    (finding,) = credentials_check.check(ctx)
    assert finding.severity is Severity.FAIL and says in finding.message, finding.message
    assert finding.fields == {"GOLAUNCH_CREDENTIAL": name, "GOLAUNCH_VARIABLE": "VAR"}
    assert "VAR" not in ctx.environment


@pytest.mark.parametrize(
    ("credentials", "environment", "says"),
    [
        ({"env": {"A": "../etc/shadow"}}, {}, "is not a credential name"),
        ({"env": {"A": ""}}, {}, "is not a credential name"),
        ({"env": {"A=B": "x"}}, {}, "contains '='"),
        ({"env": {"A": "x"}, "file_env": {"A": "y"}}, {}, "A is also set by credentials.env"),
        ({"env": {"A": "x"}}, {"set": {"A": "1"}}, "A is also in environment.set"),
    ],
)
def test_bad_credential_settings_are_config_findings(
    credentials: dict[str, dict[str, str]], environment: dict[str, object], says: str
) -> None:
    with pytest.raises(ConfigInvalid) as raised:
        validate({"credentials": credentials, "environment": environment}, {}, None)
    assert any(says in f.message for f in raised.value.findings), raised.value.findings
