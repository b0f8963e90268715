"""The checks, in the order they run and are reported.

A check is a function from the launch context to findings. It never raises for
a problem with the host; it reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from golaunch.checks.caches import check_gocache, check_gomodcache
from golaunch.checks.launch import check_exec_size
from golaunch.checks.program import check_interpreter, check_libraries, check_program
from golaunch.checks.runtime import check_match_binary, check_tzdata
from golaunch.checks.security import check_security
from golaunch.checks.toolchain import check_go_version, check_goroot
from golaunch.context import LaunchContext
from golaunch.findings import Finding

Check = Callable[[LaunchContext], list[Finding]]

CHECKS: Sequence[Check] = (
    check_program,
    check_interpreter,
    check_libraries,
    check_goroot,
    check_go_version,
    check_match_binary,
    check_gocache,
    check_gomodcache,
    check_tzdata,
    check_exec_size,
    check_security,
)


def run_checks(ctx: LaunchContext, checks: Sequence[Check] = CHECKS) -> list[Finding]:
    findings: list[Finding] = []
    for check in checks:
        findings.extend(check(ctx))
    return findings
