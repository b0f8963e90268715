"""The runtime check: GOMEMLIMIT and GOMAXPROCS, exported from the cgroup's limits or not, and why.

The decision is golaunch.host.goruntime's; this words it. Only a value the Go
runtime would refuse (and die on) fails the start.
"""

from __future__ import annotations

from golaunch.findings import Finding, failed, noted, passed, skipped, warned
from golaunch.host.context import LaunchContext
from golaunch.host.goruntime import Setting

NAME = "runtime"


def check(ctx: LaunchContext) -> list[Finding]:
    if ctx.inspection is None or ctx.inspection.buildinfo is None:
        return [skipped(NAME, "not a Go program: GOMEMLIMIT and GOMAXPROCS mean nothing to it")]
    return [_finding(setting) for setting in ctx.runtime]


def _finding(s: Setting) -> Finding:
    fields = {"GOLAUNCH_VARIABLE": s.variable}
    source = ""
    if s.limit is not None:
        fields["GOLAUNCH_PATH"] = s.limit.file
        source = f" (from {s.limit.file})"
    if s.outcome == "set":
        return noted(NAME, f"{s.variable}={s.value}: {s.reason}{source}", **fields)
    if s.outcome == "malformed":
        return failed(NAME, f"{s.variable}={s.value!r}: {s.reason}", **fields)
    if s.outcome == "above":
        assert s.limit is not None
        return warned(
            NAME,
            f"{s.variable}={s.value}: {s.reason} limit of {s.limit.amount} bytes{source}, so "
            "the kernel kills the program before the GC holds back; lower it, or unset it "
            "and golaunch derives it from the limit",
            **fields,
        )
    if s.outcome == "unreadable":
        return warned(NAME, f"{s.variable} not set: {s.reason}", **fields)
    if s.value is not None:
        return passed(NAME, f"{s.variable}={s.value}: {s.reason}{source}", **fields)
    return skipped(NAME, f"{s.variable} not set: {s.reason}{source}", **fields)
