"""Where golaunch runs, since each place has its own fixes: a service of a manager,
a container, or a shell.

Each is decided from what this process can verify, never from a variable alone: a
caller sets variables, and they are inherited where they no longer hold (a
toolbox shell exports `container=oci`; `podman run --env-host` from a unit
carries INVOCATION_ID into the container).

- A unit: INVOCATION_ID, which systemd sets for every unit it starts, and a
  running systemd to have started it (sd_booted(3): /run/systemd/system is a
  directory). A unit's advice holds even on a host that is itself a container.
- A container: podman's /run/.containerenv, or /run/systemd/container, which
  systemd-nspawn and a systemd that is a container's init write, or `container=`
  in PID 1's own environment (where it can be read), or golaunch being PID 1 of
  its PID namespace (an entrypoint without an init). A toolbox container
  (/run/.toolboxenv) is a development shell on the host's files: a shell.
- A shell, otherwise: it gets the unit's advice, since that is what `--check` is
  run to prepare.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

UNIT = "unit"
CONTAINER = "container"
SHELL = "shell"

BOOTED = "/run/systemd/system"
CONTAINER_MARKS = ("/run/.containerenv", "/run/systemd/container")
TOOLBOX = "/run/.toolboxenv"


def surroundings(environ: Mapping[str, str]) -> str:
    """UNIT, CONTAINER or SHELL, as the module says."""
    if "INVOCATION_ID" in environ and os.path.isdir(BOOTED):
        return UNIT
    if os.getpid() == 1:
        return CONTAINER
    if os.path.exists(TOOLBOX):
        return SHELL
    if any(os.path.exists(mark) for mark in CONTAINER_MARKS) or _init_says():
        return CONTAINER
    return SHELL


def _init_says() -> bool:
    """Whether PID 1's environment has container= (LXC, nspawn); only root may read it."""
    try:
        with open("/proc/1/environ", "rb") as environ:
            return any(v.startswith(b"container=") for v in environ.read(1 << 16).split(b"\0"))
    except OSError:
        return False


def cache_fix(name: str, where: str) -> str:
    """How to give the program a writable cache NAME (GOCACHE, GOMODCACHE) here."""
    if where == CONTAINER:
        return (
            f"pass -e {name}=DIR with DIR on a volume the container's user can write (podman "
            "run -v VOLUME:DIR); a --read-only container, or a --user without a HOME, has "
            "nowhere else to write"
        )
    return f"add CacheDirectory= to the unit (systemd then sets {name} under it)"
