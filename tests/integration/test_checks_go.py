"""The goroot, go-version, gocache and gomodcache checks, on real and deliberately broken trees."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from golaunch.checks import run_checks
from golaunch.config.schema import Config, GoConfig
from golaunch.findings import Finding, Severity
from golaunch.host.context import build_context
from golaunch.launch.effects import system_effects
from golaunch.launch.startup import prepare
from tests.helpers.toolchain import Toolchain


def findings(go: GoConfig, inherited: dict[str, str] | None = None) -> dict[str, Finding]:
    ctx = build_context(Config(program="/bin/true", go=go), inherited or {})
    return {f.check: f for f in run_checks(ctx)}


def fake_goroot(tmp_path: Path, version: str = "go1.22.3\ntime 2024\n") -> Path:
    root = tmp_path / "goroot"
    (root / "bin").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "pkg").mkdir()
    (root / "bin" / "go").write_text("#!/bin/sh\n")
    (root / "bin" / "go").chmod(0o755)
    (root / "VERSION").write_text(version)
    root.chmod(0o755)
    return root


def test_real_toolchains_pass(toolchain: Toolchain, tmp_path: Path) -> None:
    result = findings(
        GoConfig(
            goroot=str(toolchain.goroot),
            version=f"=={toolchain.version}",
            gocache=str(tmp_path / "c"),
            gomodcache=str(tmp_path / "m"),
        )
    )
    assert result["goroot"].severity is Severity.PASS
    assert result["go-version"].severity is Severity.PASS
    assert result["go-version"].fields["GOLAUNCH_GO_VERSION"] == toolchain.version


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda r: shutil.rmtree(r / "src"), "lacks src/"),
        (lambda r: (r / "bin" / "go").unlink(), "has no executable bin/go"),
        (lambda r: (r / "bin" / "go").chmod(0o644), "has no executable bin/go"),
        (
            lambda r: (r / "VERSION").write_text("devel +abc\n"),
            "starts with 'devel +abc', not a Go version",
        ),
        (lambda r: (r / "VERSION").unlink(), "cannot read"),
    ],
    ids=["no-src", "no-go", "go-not-executable", "bad-version", "no-version"],
)
def test_broken_goroot_fails(
    tmp_path: Path,
    breakage: Callable[[Path], object],
    message: str,
) -> None:
    root = fake_goroot(tmp_path)
    breakage(root)
    finding = findings(GoConfig(goroot=str(root)))["goroot"]
    assert finding.severity is Severity.FAIL
    assert message in finding.message and finding.fields["GOROOT"] == str(root)


@pytest.mark.parametrize(
    ("goroot", "message"),
    [
        ("relative/go", "is not an absolute path"),
        ("~/go", "is not an absolute path"),
        ("/nonexistent/go", "does not exist"),
        ("/etc/hostname", "is not a directory"),
    ],
)
def test_goroot_that_is_not_a_directory(goroot: str, message: str) -> None:
    finding = findings(GoConfig(goroot=goroot))["goroot"]
    assert finding.severity is Severity.FAIL and message in finding.message


def test_group_writable_goroot_warns(tmp_path: Path) -> None:
    root = fake_goroot(tmp_path)
    root.chmod(0o775)
    finding = findings(GoConfig(goroot=str(root)))["goroot"]
    assert finding.severity is Severity.WARN and "chmod go-w" in finding.message


def test_no_toolchain_is_skipped_unless_required() -> None:
    nothing = {"PATH": "/nonexistent"}
    config = Config(
        program="/bin/true", environment=type(Config().environment)(path="/nonexistent")
    )
    skipped = {f.check: f for f in run_checks(build_context(config, nothing))}
    assert skipped["goroot"].severity is Severity.SKIP
    assert skipped["gocache"].severity is Severity.SKIP
    required = Config(
        program="/bin/true", go=GoConfig(required=True), environment=config.environment
    )
    failing = {f.check: f for f in run_checks(build_context(required, nothing))}
    assert failing["goroot"].severity is Severity.FAIL and "go.goroot" in failing["goroot"].message


def test_version_mismatch_names_both(go_119: Toolchain) -> None:
    finding = findings(GoConfig(goroot=str(go_119.goroot), version=">=1.22, <1.28"))["go-version"]
    assert finding.severity is Severity.FAIL
    assert finding.fields["GOLAUNCH_GO_VERSION"] == "go1.19.8"
    assert finding.fields["GOLAUNCH_GO_VERSION_REQUIRED"] == ">=1.22, <1.28"
    assert "go1.19.8" in finding.message and ">=1.22, <1.28" in finding.message


def _cache_finding(tmp_path: Path, go_new: Toolchain, **go: Any) -> Finding:
    settings: dict[str, Any] = {
        "goroot": str(go_new.goroot),
        "gocache": str(tmp_path / "c"),
        "gomodcache": str(tmp_path / "m"),
    }
    settings.update(go)
    return findings(GoConfig(**settings))["gocache"]


def test_checks_create_nothing(tmp_path: Path, go_new: Toolchain) -> None:
    finding = _cache_finding(tmp_path, go_new, gocache=str(tmp_path / "later"))
    assert finding.severity is Severity.PASS and "launch creates it" in finding.message
    assert not (tmp_path / "later").exists()


def test_launch_creates_the_cache_private(tmp_path: Path, go_new: Toolchain) -> None:
    """The one write before exec: startup.prepare, after every check passed."""
    cache = tmp_path / "new" / "go-build"
    go = GoConfig(goroot=str(go_new.goroot), gocache=str(cache), gomodcache=str(tmp_path / "m"))
    ctx = build_context(Config(program="/bin/true", go=go), {})
    assert prepare(ctx, system_effects("stderr", {})) == ([], True)
    assert cache.stat().st_mode & 0o777 == 0o700 and (tmp_path / "m").is_dir()


@pytest.mark.parametrize(
    ("setup", "go", "message"),
    [
        (None, {"gocache": "off"}, "disables the build cache"),
        (None, {"gocache": "cache"}, "is not an absolute path"),
        (None, {"gocache": "~/.cache/go-build"}, "does not expand"),
        (None, {"create_dirs": False}, "go.create_dirs is false"),
        (lambda p: (p / "c").write_text(""), {}, "exists but is not a directory"),
        (lambda p: (p / "c").mkdir(mode=0o777) or (p / "c").chmod(0o777), {}, "world-writable"),
        (lambda p: (p / "c").mkdir(), {"min_free_mb": 1 << 40}, "less than go.min_free_mb"),
        (None, {"gomodcache": "SAME"}, "is the same directory as GOMODCACHE"),
    ],
    ids=["off", "relative", "tilde", "no-create", "file", "world-writable", "full", "same-dir"],
)
def test_bad_cache(
    tmp_path: Path,
    go_new: Toolchain,
    setup: Callable[[Path], object] | None,
    go: dict[str, object],
    message: str,
) -> None:
    if setup:
        setup(tmp_path)
    if go.get("gomodcache") == "SAME":
        go = {"gomodcache": str(tmp_path / "c")}
    finding = _cache_finding(tmp_path, go_new, **go)
    assert finding.severity is Severity.FAIL, finding
    assert message in finding.message
    assert "GOCACHE" in finding.fields


def test_cache_inside_goroot_fails(tmp_path: Path) -> None:
    root = fake_goroot(tmp_path)
    finding = findings(GoConfig(goroot=str(root), gocache=str(root / "cache")))["gocache"]
    assert finding.severity is Severity.FAIL and "inside GOROOT" in finding.message


def test_version_constraint_without_any_toolchain_fails_once() -> None:
    from golaunch.config.schema import EnvironmentConfig

    ctx = build_context(
        Config(
            program="/bin/true",
            go=GoConfig(version=">=1.21"),
            environment=EnvironmentConfig(path="/nonexistent"),
        ),
        {},
    )
    result = {f.check: f for f in run_checks(ctx)}
    # Asking for a version means asking for a toolchain: goroot says none was found.
    assert result["goroot"].severity is Severity.FAIL
    assert "no Go toolchain found" in result["goroot"].message
    assert result["go-version"].severity is Severity.SKIP
