"""A container's fixes in a container, a unit's in a unit (issue 25, item 5).

podman marks its containers with `container=podman` in the environment and
/run/.containerenv; systemd marks every service with INVOCATION_ID, which wins
(this development machine is itself a container). golaunch runs here as a real
process with those environments.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from golaunch.host.surroundings import CONTAINER, SHELL, UNIT, surroundings
from tests.helpers.namespace import run_isolated
from tests.helpers.paths import BASE_PATH
from tests.helpers.process import run_golaunch
from tests.helpers.toolchain import Toolchain

UNIT_ID = {"INVOCATION_ID": "0123456789abcdef0123456789abcdef"}
PODMAN = {"container": "podman"}


def test_a_service_is_a_unit_even_inside_a_container() -> None:
    assert surroundings({**UNIT_ID, **PODMAN}) == UNIT
    assert surroundings(PODMAN) == CONTAINER
    # This machine has neither marker, and the test runner is not PID 1.
    assert not Path("/run/.containerenv").exists()
    assert surroundings({}) == SHELL


def check_without_home(go_new: Toolchain, env: dict[str, str], *args: str) -> str:
    """--check of a program that needs Go, where nothing gives it a cache directory."""
    result = run_golaunch(
        "--check", "--goroot", str(go_new.goroot), *args, "--", "/bin/true", env=env
    )
    assert result.returncode == 78, result.stdout + result.stderr
    return result.stdout


def test_no_cache_directory_gets_the_fix_of_where_golaunch_runs(go_new: Toolchain) -> None:
    in_container = check_without_home(go_new, PODMAN)
    assert "-e GOCACHE=DIR with DIR on a volume" in in_container
    assert "no HOME here" in in_container and "CacheDirectory" not in in_container
    in_unit = check_without_home(go_new, UNIT_ID)
    assert "add CacheDirectory= to the unit" in in_unit and "-e GOCACHE" not in in_unit


@pytest.mark.skipif(os.geteuid() != 0, reason="a read-only mount needs root")
def test_a_read_only_cache_place_gets_the_fix_of_where_golaunch_runs(go_new: Toolchain) -> None:
    """A --read-only container: the cache would be made on a read-only filesystem."""
    mount = "/run/read-only"
    argv = [sys.executable, "-m", "golaunch", "--check", "--goroot", str(go_new.goroot)]
    argv += ["--gocache", f"{mount}/go-build", "--gomodcache", f"{mount}/mod", "--", "/bin/true"]
    said = {}
    for name, marker in (("container", PODMAN), ("unit", UNIT_ID)):
        env = {"PATH": BASE_PATH, "LANG": "C.UTF-8", **marker}
        result = run_isolated(argv, env, mounts=[("tmpfs", "ro,mode=0755", mount)])
        assert result.returncode == 78, result
        said[name] = result.stdout
    assert "read-only filesystem; pass -e GOCACHE=DIR" in said["container"]
    assert "read-only filesystem; add CacheDirectory= to the unit" in said["unit"]


def test_a_probe_in_a_container_asks_no_service_manager(tmp_path: Path) -> None:
    """conmon relays READY=1 from any process: NotifyAccess= is a unit's question."""
    env = {**PODMAN, "HOME": str(tmp_path)}
    probe = ("--ready-probe", "tcp://127.0.0.1:9")
    result = run_golaunch("--check", *probe, "--", "/bin/true", env=env)
    assert "relayed by the container's runtime" in result.stdout
    assert "NotifyAccess" not in result.stdout + result.stderr
    in_unit = run_golaunch("--check", *probe, "--", "/bin/true", env={**UNIT_ID, **env})
    assert "NotifyAccess" in in_unit.stdout
