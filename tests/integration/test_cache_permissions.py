"""A cache is private: nobody but the service's user (or root) may write it, through the
mode, an ACL, or a symlink someone else can point elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from golaunch.checks import gocache
from golaunch.config.schema import Config, EnvironmentConfig, GoConfig
from golaunch.findings import Finding, Severity
from golaunch.host.context import build_context

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown and setfacl need root")


def judged(cache: Path, tmp_path: Path) -> Finding:
    go = GoConfig(gocache=str(cache), gomodcache=str(tmp_path / "mod"), min_free_mb=0)
    config = Config(program="/bin/true", go=go, environment=EnvironmentConfig(path="/usr/sbin"))
    (finding,) = gocache.check(build_context(config, {}))
    return finding


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    path = tmp_path / "cache"
    path.mkdir(mode=0o700)
    return path


def test_a_private_cache_passes(cache: Path, tmp_path: Path) -> None:
    assert judged(cache, tmp_path).severity is Severity.PASS


def test_a_group_writable_cache_fails(cache: Path, tmp_path: Path) -> None:
    os.chown(cache, -1, 65534)
    cache.chmod(0o770)
    finding = judged(cache, tmp_path)
    assert finding.severity is Severity.FAIL and "writable by group 65534" in finding.message


@pytest.mark.skipif(shutil.which("setfacl") is None, reason="setfacl is not installed")
def test_an_acl_writable_cache_fails(cache: Path, tmp_path: Path) -> None:
    subprocess.run(["setfacl", "-m", "u:nobody:rwx", str(cache)], check=True)
    finding = judged(cache, tmp_path)
    assert finding.severity is Severity.FAIL
    assert "uid 65534 (through an ACL)" in finding.message and "setfacl -b" in finding.message


def test_a_symlink_in_someone_elses_directory_fails(cache: Path, tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    (theirs / "go-build").symlink_to(cache)
    finding = judged(theirs / "go-build", tmp_path)
    assert finding.severity is Severity.FAIL
    assert f"is a symlink in {theirs}, which its owner, uid 65534 can write" in finding.message


def test_a_symlink_in_a_directory_of_ours_passes(cache: Path, tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(cache)
    assert judged(tmp_path / "link", tmp_path).severity is Severity.PASS
