"""A container's fixes in a container, a unit's in a unit (issue 25, item 5), each decided
from what golaunch can verify (issue 31, item 17).

Each case runs golaunch as a real process in a private mount namespace whose /run is
empty (tests.helpers.namespace), with the marks that place would have: podman's
/run/.containerenv, systemd-nspawn's /run/systemd/container, toolbox's /run/.toolboxenv,
a booted systemd's /run/systemd/system. The variables a caller sets (container=,
INVOCATION_ID) are given with and without the marks: alone they decide nothing.
"""

from __future__ import annotations

import os
import sys

import pytest

from tests.helpers.namespace import Isolated, run_isolated
from tests.helpers.paths import BASE_PATH
from tests.helpers.toolchain import Toolchain

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a mount namespace needs root")

UNIT_ID = {"INVOCATION_ID": "0123456789abcdef0123456789abcdef"}
TOOLBOX_SHELL = {"container": "oci"}  # what toolbox and distrobox shells export
MARKS = {
    "booted": [["mkdir", "-p", "/run/systemd/system"]],
    "podman": [["touch", "/run/.containerenv"]],
    "nspawn": [
        ["mkdir", "-p", "/run/systemd"],
        ["sh", "-c", "echo nspawn >/run/systemd/container"],
    ],
    "toolbox": [["touch", "/run/.containerenv"], ["touch", "/run/.toolboxenv"]],
    "nothing": [],
}
WHERE = "import os; from golaunch.host.surroundings import surroundings as s; print(s(os.environ))"


def where(marks: str, env: dict[str, str]) -> str:
    result = run_isolated([sys.executable, "-c", WHERE], env, setup=MARKS[marks])
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("marks", "env", "expected"),
    [
        ("booted", UNIT_ID, "unit"),
        # A unit inside a container that runs systemd is still a unit.
        ("booted", {**UNIT_ID, "container": "podman"}, "unit"),
        # INVOCATION_ID inherited into a container (podman run --env-host from a unit).
        ("podman", UNIT_ID, "container"),
        ("nspawn", UNIT_ID, "container"),
        ("podman", {}, "container"),
        # container= alone, in a shell on the host: nothing to verify it by.
        ("nothing", TOOLBOX_SHELL, "shell"),
        ("nothing", UNIT_ID, "shell"),
        ("toolbox", TOOLBOX_SHELL, "shell"),
        ("nothing", {}, "shell"),
    ],
)
def test_surroundings_come_from_what_can_be_verified(
    marks: str, env: dict[str, str], expected: str
) -> None:
    assert where(marks, env) == expected


def golaunch(
    marks: str, env: dict[str, str], *args: str, mounts: list[tuple[str, str, str]] | None = None
) -> Isolated:
    argv = [sys.executable, "-m", "golaunch", *args]
    return run_isolated(
        argv, {"PATH": BASE_PATH, "LANG": "C.UTF-8", **env}, mounts=mounts or [], setup=MARKS[marks]
    )


def check_without_home(go_new: Toolchain, marks: str, env: dict[str, str]) -> str:
    """--check of a program that needs Go, where nothing gives it a cache directory."""
    result = golaunch(marks, env, "--check", "--goroot", str(go_new.goroot), "--", "/bin/true")
    assert result.returncode == 78, result.stdout + result.stderr
    return result.stdout


def test_no_cache_directory_gets_the_fix_of_where_golaunch_runs(go_new: Toolchain) -> None:
    in_container = check_without_home(go_new, "podman", {})
    assert "-e GOCACHE=DIR with DIR on a volume" in in_container
    assert "no HOME here" in in_container and "CacheDirectory" not in in_container
    for marks, env in (("booted", UNIT_ID), ("nothing", TOOLBOX_SHELL)):
        elsewhere = check_without_home(go_new, marks, env)
        assert "add CacheDirectory= to the unit" in elsewhere and "-e GOCACHE" not in elsewhere


def test_a_read_only_cache_place_gets_the_fix_of_where_golaunch_runs(go_new: Toolchain) -> None:
    """A --read-only container: the cache would be made on a read-only filesystem."""
    mount = "/run/read-only"
    args = ["--check", "--goroot", str(go_new.goroot), "--gocache", f"{mount}/go-build"]
    args += ["--gomodcache", f"{mount}/mod", "--", "/bin/true"]
    said = {}
    for marks, env in (("podman", {}), ("booted", UNIT_ID)):
        result = golaunch(marks, env, *args, mounts=[("tmpfs", "ro,mode=0755", mount)])
        assert result.returncode == 78, result
        said[marks] = result.stdout
    assert "read-only filesystem; pass -e GOCACHE=DIR" in said["podman"]
    assert "read-only filesystem; add CacheDirectory= to the unit" in said["booted"]


def test_a_probe_in_a_container_asks_no_service_manager() -> None:
    """conmon relays READY=1 from any process: NotifyAccess= is a unit's question, and a
    shell that merely says container= still gets it (issue 31, item 17)."""
    probe = ("--check", "--ready-probe", "tcp://127.0.0.1:9", "--", "/bin/true")
    env = {"HOME": "/run"}
    in_container = golaunch("podman", env, *probe)
    assert "relayed by the container's runtime" in in_container.stdout
    assert "NotifyAccess" not in in_container.stdout + in_container.stderr
    for marks, marked in (("booted", {**UNIT_ID, **env}), ("nothing", {**TOOLBOX_SHELL, **env})):
        elsewhere = golaunch(marks, marked, *probe)
        assert "NotifyAccess" in elsewhere.stdout, elsewhere
        assert "relayed" not in elsewhere.stdout
