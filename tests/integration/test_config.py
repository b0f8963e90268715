"""Configuration files as golaunch meets them: exit 78 and a `config` finding naming the file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from golaunch.config.file import ConfigFile, read_config_file
from golaunch.config.validate import ConfigInvalid, validate
from tests.helpers.process import as_user, run_golaunch


def _check_json(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    result = run_golaunch("--check", "--json", *args, env=env)
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.mkdir(), "is a directory, not a regular file"),
        (os.mkfifo, "is a FIFO, not a regular file"),
        (lambda p: p.symlink_to(p), "too many levels of symbolic links"),
        (lambda p: None, "no such file"),
        (lambda p: p.write_bytes(b"#" * (1 << 20 + 1)), "is too large"),
    ],
    ids=["directory", "fifo", "symlink-loop", "missing", "huge"],
)
def test_unusable_config_file_exits_78_naming_it(
    tmp_path: Path,
    make: Callable[[Path], object],
    expected: str,
) -> None:
    path = tmp_path / "golaunch.toml"
    make(path)
    code, report = _check_json("--config", str(path), "--", "/bin/true")
    assert code == 78
    (finding,) = report["findings"]
    assert finding["check"] == "config" and finding["severity"] == "fail"
    assert str(path) in finding["message"] and expected in finding["message"]


def test_golaunch_config_variable_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    path.write_text('program = "/bin/true"\n[go]\nrequired = true\ngoroot = "/nonexistent"\n')
    code, report = _check_json(env={"GOLAUNCH_CONFIG": str(path)})
    assert code == 78
    assert report["program"] == "/bin/true"
    assert any(
        f["check"] == "goroot" and "/nonexistent" in f["message"] for f in report["findings"]
    )


def test_non_utf8_file_names_the_byte() -> None:
    with pytest.raises(ConfigInvalid) as error:
        validate({}, {}, ConfigFile("/x.toml", b'program = "\xff"\n'))
    assert error.value.findings[0].message == "/x.toml: not UTF-8 at byte 11"


def test_empty_config_path_says_so() -> None:
    code, report = _check_json("--config", "", "--", "/bin/true")
    assert code == 78
    (finding,) = report["findings"]
    assert finding["message"] == "an empty path names no file; point --config at a TOML file"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_unreadable_config_file(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    path = tmp_path / "golaunch.toml"
    path.write_text('program = "/bin/true"\n')
    path.chmod(0o600)
    outcome = as_user(65534, lambda: str(read_config_file(str(path))))
    assert (
        outcome
        == f"ConfigFileError: {path}: permission denied; make it readable by the service's user"
    )
