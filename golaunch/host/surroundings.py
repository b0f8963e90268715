"""Where golaunch runs, since each place has its own fixes: a service of a manager,
a container, or a shell.

systemd sets INVOCATION_ID for every unit it starts, so a service is recognized
first: a unit's advice holds even on a host that is itself a container. A
container is what podman marks (/run/.containerenv, and `container=` in the
environment, as OCI runtimes and systemd-nspawn set it) or a process that is PID 1
of its PID namespace (an entrypoint without an init). A shell gets the unit's
advice: that is what `--check` is run to prepare.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

UNIT = "unit"
CONTAINER = "container"
SHELL = "shell"


def surroundings(inherited: Mapping[str, str]) -> str:
    if "INVOCATION_ID" in inherited:
        return UNIT
    if inherited.get("container") or os.path.exists("/run/.containerenv") or os.getpid() == 1:
        return CONTAINER
    return SHELL


def cache_fix(name: str, where: str) -> str:
    """How to give the program a writable cache NAME (GOCACHE, GOMODCACHE) here."""
    if where == CONTAINER:
        return (
            f"pass -e {name}=DIR with DIR on a volume the container's user can write (podman "
            "run -v VOLUME:DIR); a --read-only container, or a --user without a HOME, has "
            "nowhere else to write"
        )
    return f"add CacheDirectory= to the unit (systemd then sets {name} under it)"
