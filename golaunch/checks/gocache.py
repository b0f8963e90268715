"""The gocache check: GOCACHE: where the go command keeps build outputs."""

from __future__ import annotations

from golaunch.checks.cachedir import judge
from golaunch.findings import Finding
from golaunch.host.context import LaunchContext

NAME = "gocache"


def check(ctx: LaunchContext) -> list[Finding]:
    return judge(ctx, ctx.gocache, ctx.gomodcache)
