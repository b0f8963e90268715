"""How the booted namespace gets this checkout and this interpreter back: the plan boot.sh
carries out, for clones where a newcomer would make them (issue 21)."""

from __future__ import annotations

import pytest

from tests.helpers.machine import exposure_plan

HOMES = {"/root", "/home/dev"}  # 0700: nobody else may enter


def searchable(path: str) -> bool:
    return path not in HOMES


@pytest.mark.parametrize(
    ("exposed", "plan"),
    [
        # Directly under a masked /tmp: nothing to make, the fresh /tmp is there.
        (["/tmp/fresh"], []),
        # Deeper: the fresh /tmp lacks the parents, which a find on them once took
        # for "not searchable", mounting a tmpfs on a directory that did not exist.
        (["/tmp/work/golaunch"], ["mkdir:/tmp/work"]),
        (["/tmp/a/b/golaunch"], ["mkdir:/tmp/a", "mkdir:/tmp/a/b"]),
        # A home clone and pyenv's interpreter in the same 0700 home: one tmpfs.
        (["/root/.pyenv", "/root/src"], ["tmpfs:/root"]),
        (["/home/dev/src"], ["tmpfs:/home/dev"]),
        # Below a 0700 home, deeper: the tmpfs hides the rest of the way.
        (["/root/src/x/golaunch"], ["tmpfs:/root", "mkdir:/root/src", "mkdir:/root/src/x"]),
        # /srv is reachable as it is: nothing at all.
        ([], []),
        # A checkout in the runtime directory of a masked /run.
        (["/run/user/0/golaunch"], ["mkdir:/run/user", "mkdir:/run/user/0"]),
    ],
)
def test_exposure_plan(exposed: list[str], plan: list[str]) -> None:
    assert exposure_plan(exposed, searchable=searchable) == plan
