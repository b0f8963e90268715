"""The security check: as root, the program, its directory and GOROOT must be root's alone."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from golaunch.checks import security
from golaunch.config.schema import Config, SecurityConfig
from golaunch.findings import Severity
from golaunch.host.context import build_context
from tests.helpers.process import run_golaunch

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the check applies to root only")


@pytest.fixture
def program(tmp_path: Path) -> Path:
    directory = tmp_path / "app"
    directory.mkdir(mode=0o755)
    path = directory / "server"
    shutil.copy("/bin/true", path)
    path.chmod(0o755)
    return path


def findings(program: Path, strict: bool = False) -> list[tuple[Severity, str]]:
    config = Config(program=str(program), security=SecurityConfig(strict=strict))
    ctx = build_context(config, {"PATH": "/usr/bin:/bin"})
    return [(f.severity, f.fields.get("GOLAUNCH_PATH", "")) for f in security.check(ctx)]


def test_root_owned_files_pass(program: Path) -> None:
    assert findings(program) == [(Severity.PASS, "")]


def _nobody_group(path: Path, mode: int) -> None:
    """PATH with group nobody and MODE: writable by a group root does not control."""
    os.chown(path, -1, 65534)
    path.chmod(mode)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda p: p.chmod(0o757), "program"),
        (lambda p: p.parent.chmod(0o1777), "directory"),
        (lambda p: os.chown(p, 65534, -1), "program"),
        (lambda p: _nobody_group(p.parent, 0o775), "directory"),
    ],
    ids=["world-writable", "sticky-world-writable-dir", "owned-by-nobody", "group-writable-dir"],
)
def test_writable_by_others_warns_and_strict_fails(
    program: Path,
    change: Callable[[Path], object],
    where: str,
) -> None:
    change(program)
    path = str(program if where == "program" else program.parent)
    assert findings(program) == [(Severity.WARN, path)]
    assert findings(program, strict=True) == [(Severity.FAIL, path)]


def test_root_group_writable_is_still_root(program: Path) -> None:
    program.chmod(0o775)  # group 0 is root's
    assert findings(program) == [(Severity.PASS, "")]


def test_not_root_means_skipped(program: Path) -> None:
    ctx = build_context(Config(program=str(program)), {})
    (finding,) = security.check(dataclasses.replace(ctx, euid=1000))
    assert finding.severity is Severity.SKIP


def test_strict_from_the_environment_exits_78(program: Path) -> None:
    program.chmod(0o777)
    home = {"HOME": str(program.parent.parent)}  # caches for the go on PATH
    relaxed = run_golaunch("--check", "--", str(program), env=home)
    assert relaxed.returncode == 0, relaxed.stdout
    assert "warn  security" in relaxed.stdout
    strict = run_golaunch(
        "--check", "--", str(program), env={**home, "GOLAUNCH_SECURITY__STRICT": "true"}
    )
    assert strict.returncode == 78
    assert f"fail  security     {program} is writable by everyone" in strict.stdout


@pytest.fixture
def config_file(program: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "etc"
    directory.mkdir(mode=0o755)
    path = directory / "app.toml"
    path.write_text(f'program = "{program}"\n\n[security]\nstrict = true\n')
    path.chmod(0o644)
    return path


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda p: _nobody_group(p, 0o664), "file"),
        (lambda p: os.chown(p, 65534, -1), "file"),
        (lambda p: p.parent.chmod(0o777), "directory"),
    ],
    ids=["group-writable", "owned-by-nobody", "world-writable-dir"],
)
def test_a_config_file_others_can_write_is_refused_at_every_start(
    config_file: Path, private_cache: Path, change: Callable[[Path], object], where: str
) -> None:
    """Whoever can write the file names the program root runs: refused at every start."""
    change(config_file)
    path = config_file if where == "file" else config_file.parent
    env = {"CACHE_DIRECTORY": str(private_cache), "HOME": str(private_cache)}
    for start in ("first", "second"):
        result = run_golaunch("--log-target", "stderr", "-c", str(config_file), env=env)
        assert result.returncode == 78, (start, result.stderr)
        assert f"golaunch: security: {path} is writable by" in result.stderr


def test_a_root_owned_config_file_passes(config_file: Path) -> None:
    result = run_golaunch("--check", "-c", str(config_file), env={"HOME": "/root"})
    assert result.returncode == 0, result.stdout
    assert f"{config_file}, {config_file.parent}: root's alone" in result.stdout


def setfacl(*args: str) -> None:
    subprocess.run(["setfacl", *args], check=True, capture_output=True)


needs_setfacl = pytest.mark.skipif(
    shutil.which("setfacl") is None, reason="setfacl (Debian's acl) is not installed"
)


@needs_setfacl
@pytest.mark.parametrize(
    ("entry", "who"),
    [("u:nobody:rwx", "uid 65534 (through an ACL)"), ("g:nogroup:rwx", "group 65534")],
)
def test_an_acl_that_grants_write_is_seen(program: Path, entry: str, who: str) -> None:
    """The mode still reads drwxr-x---; the ACL lets another user replace the program."""
    program.parent.chmod(0o750)
    setfacl("-m", entry, str(program.parent))
    assert findings(program) == [(Severity.WARN, str(program.parent))]
    config = Config(program=str(program))
    (finding,) = security.check(build_context(config, {"PATH": "/usr/bin:/bin"}))
    assert who in finding.message and "setfacl -b" in finding.message


@needs_setfacl
def test_an_acl_whose_mask_withholds_write_is_not_a_writer(program: Path) -> None:
    setfacl("-m", "u:nobody:rwx,m::r-x", str(program.parent))
    assert findings(program) == [(Severity.PASS, "")]


def test_a_symlinked_program_is_judged_where_it_leads(program: Path, tmp_path: Path) -> None:
    """The link's directory is root's, the target's is not: $ORIGIN loads from there too."""
    links = tmp_path / "bin"
    links.mkdir()
    (links / "server").symlink_to(program)
    os.chown(program.parent, 65534, -1)
    assert findings(links / "server") == [(Severity.WARN, str(program.parent))]


def test_every_directory_up_to_the_root_is_judged(program: Path, tmp_path: Path) -> None:
    os.chown(tmp_path, 65534, -1)  # the program's grandparent: it could rename app/ away
    assert findings(program) == [(Severity.WARN, str(tmp_path))]
