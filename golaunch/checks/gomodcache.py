"""The gomodcache check: GOMODCACHE: where the go command keeps downloaded modules."""

from __future__ import annotations

from golaunch.checks.cachedir import judge
from golaunch.findings import Finding
from golaunch.host.context import LaunchContext

NAME = "gomodcache"


def check(ctx: LaunchContext) -> list[Finding]:
    return judge(ctx, ctx.gomodcache, ctx.gocache)
