"""The checks, in the order they run and are reported.

A check is a module in RUN_ORDER named after the finding it reports
(`checks/goroot.py` reports `goroot`), with NAME and `check(ctx) -> list[Finding]`;
`checks/cachedir.py` is not one: it is what the gocache and gomodcache checks
share. Checks only
read: they never raise for a problem with the host, and never change it.
The names and MESSAGE_IDs come from golaunch.findings.REGISTRY. Some findings
in it are not made here, since no check could see them in time: `config`
failures come from validation (golaunch.config), `notify` failures from the
start sequence (golaunch.launch.startup), `wait` from the dependency gate and
`watchdog` (and `ready-probe`'s give-up) from the readiness helper
(golaunch.readiness), and `unit` from the unit checks (golaunch.unitcheck).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

from golaunch.checks import (
    config,
    credentials,
    exec,
    go_version,
    gocache,
    gomodcache,
    goroot,
    interpreter,
    library,
    notify,
    program,
    ready_probe,
    runtime,
    security,
    tzdata,
)
from golaunch.findings import Finding
from golaunch.host.context import LaunchContext

RUN_ORDER: Sequence[ModuleType] = (
    config,
    program,
    interpreter,
    library,
    goroot,
    go_version,
    gocache,
    gomodcache,
    tzdata,
    runtime,
    credentials,
    exec,
    notify,
    security,
    ready_probe,
)


def run_checks(ctx: LaunchContext) -> list[Finding]:
    findings: list[Finding] = []
    for module in RUN_ORDER:
        findings.extend(module.check(ctx))
    return findings
