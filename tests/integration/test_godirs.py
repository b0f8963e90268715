"""GOROOT, GOCACHE and GOMODCACHE: golaunch's values against `go env -json` itself."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers.paths import BASE_PATH, REPO
from tests.helpers.process import run_golaunch
from tests.helpers.toolchain import Toolchain

COMPUTED = ("GOROOT", "GOCACHE", "GOMODCACHE")


def golaunch_env(toolchain: Toolchain, env: dict[str, str], *args: str) -> dict[str, str]:
    """The environment golaunch gives the program, finding the toolchain through PATH."""
    path = f"{toolchain.goroot / 'bin'}:{BASE_PATH}"
    result = run_golaunch(
        "--print-env", "--set-env", f"PATH={path}", *args, "--", "/bin/true", env=env
    )
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in result.stdout.splitlines())


def go_env(toolchain: Toolchain, env: dict[str, str]) -> dict[str, str]:
    """What the go command itself computes under ENV."""
    result = subprocess.run(
        [str(toolchain.go), "env", "-json", *COMPUTED],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(result.stdout) if result.stdout else {}


def scenarios(tmp: Path) -> dict[str, tuple[dict[str, str], tuple[str, ...]]]:
    home = tmp / "home"
    return {
        "home": ({"HOME": str(home)}, ()),
        "home-with-trailing-slash": ({"HOME": str(home) + "/"}, ()),
        "xdg-cache-home-kept": (
            {"HOME": str(home), "XDG_CACHE_HOME": str(tmp / "xdg")},
            ("--keep-env", "XDG_CACHE_HOME"),
        ),
        "xdg-not-kept-is-ignored": ({"HOME": str(home), "XDG_CACHE_HOME": str(tmp / "xdg")}, ()),
        "gopath": ({"HOME": str(home), "GOPATH": f"{tmp / 'gp1'}:{tmp / 'gp2'}"}, ()),
        "explicit": (
            {"HOME": str(home), "GOCACHE": str(tmp / "c"), "GOMODCACHE": str(tmp / "m")},
            (),
        ),
        "goenv-file": ({"HOME": str(home), "GOENV": str(tmp / "goenv")}, ()),
    }


@pytest.mark.parametrize(
    "scenario",
    [
        "home",
        "home-with-trailing-slash",
        "xdg-cache-home-kept",
        "xdg-not-kept-is-ignored",
        "gopath",
        "explicit",
        "goenv-file",
    ],
)
def test_agrees_with_go_env(toolchain: Toolchain, tmp_path: Path, scenario: str) -> None:
    (tmp_path / "goenv").write_text(
        f"GOCACHE={tmp_path / 'w-cache'}\nGOMODCACHE={tmp_path / 'w-mod'}\n"
    )
    env, args = scenarios(tmp_path)[scenario]
    ours = golaunch_env(toolchain, env, *args)
    # The go command's own answer, under the same environment minus what golaunch
    # computed, plus what the caller set on purpose.
    given = {k: v for k, v in env.items() if k in COMPUTED}
    theirs = go_env(toolchain, {k: v for k, v in ours.items() if k not in COMPUTED} | given)
    assert {k: ours[k] for k in COMPUTED} == theirs


def test_go_env_w_file_is_honoured(toolchain: Toolchain, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"HOME": str(home), "PATH": BASE_PATH, "GOROOT": str(toolchain.goroot)}
    subprocess.run(
        [str(toolchain.go), "env", "-w", f"GOCACHE={tmp_path / 'wcache'}"], env=env, check=True
    )
    ours = golaunch_env(toolchain, {"HOME": str(home)})
    assert ours["GOCACHE"] == str(tmp_path / "wcache")
    assert (
        go_env(toolchain, {k: v for k, v in ours.items() if k not in COMPUTED})["GOCACHE"]
        == ours["GOCACHE"]
    )


def test_cache_directory_replaces_home(toolchain: Toolchain, tmp_path: Path, noop: Path) -> None:
    """With CacheDirectory= and no HOME, the go command works with what golaunch exports."""
    cache = tmp_path / "cache"
    cache.mkdir()
    ours = golaunch_env(toolchain, {"CACHE_DIRECTORY": f"{cache}:{tmp_path / 'second'}"})
    assert ours["GOCACHE"] == f"{cache}/go-build"
    assert ours["GOMODCACHE"] == f"{cache}/mod"
    assert "HOME" not in ours
    # Without golaunch's values the go command has no cache at all; with them it builds.
    assert go_env(toolchain, {k: v for k, v in ours.items() if k not in COMPUTED})["GOCACHE"] in (
        "",
        "off",
    )
    src = REPO / "examples" / "noop"
    build = subprocess.run(
        [str(toolchain.go), "build", "-o", str(tmp_path / "out"), "."],
        cwd=src,
        env={**ours, "GOFLAGS": "-mod=mod", "GOPROXY": "off"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    assert any((cache / "go-build").iterdir())


def test_no_home_and_no_cache_directory_says_to_add_cachedirectory(toolchain: Toolchain) -> None:
    result = run_golaunch(
        "--check", "--json", "--goroot", str(toolchain.goroot), "--", "/bin/true", env={}
    )
    assert result.returncode == 78
    findings = {f["check"]: f for f in json.loads(result.stdout)["findings"]}
    for check in ("gocache", "gomodcache"):
        assert findings[check]["severity"] == "fail"
        assert "CacheDirectory=" in findings[check]["message"]
    assert go_env(toolchain, {"PATH": BASE_PATH, "GOROOT": str(toolchain.goroot)})["GOCACHE"] in (
        "",
        "off",
    )
