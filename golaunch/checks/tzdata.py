"""The tzdata check: where time.LoadLocation will find the zone database."""

from __future__ import annotations

import os

from golaunch.findings import Finding, passed, skipped, warned
from golaunch.host.context import LaunchContext

NAME = "tzdata"
# Where Go's time package looks for the system database (zoneinfo_unix.go).
PLATFORM_ZONEINFO = (
    "/usr/share/zoneinfo/",
    "/usr/share/lib/zoneinfo/",
    "/usr/lib/locale/TZ/",
    "/etc/zoneinfo",
)


def check(ctx: LaunchContext) -> list[Finding]:
    info = ctx.inspection.buildinfo if ctx.inspection else None
    if info is None:
        return [skipped(NAME, "not a Go program")]
    if "timetzdata" in info.settings.get("-tags", "").split(","):
        return [passed(NAME, "the binary embeds the time zone database (-tags timetzdata)")]
    zoneinfo = ctx.environment.get("ZONEINFO")
    if zoneinfo and os.path.exists(zoneinfo):
        return [passed(NAME, f"ZONEINFO={zoneinfo}", GOLAUNCH_PATH=zoneinfo)]
    found = next((d for d in PLATFORM_ZONEINFO if os.path.isdir(d)), None)
    if found:
        return [passed(NAME, f"system time zone database in {found}", GOLAUNCH_PATH=found)]
    goroot = ctx.environment.get("GOROOT", "")
    fallback = os.path.join(goroot, "lib", "time", "zoneinfo.zip") if goroot else ""
    state = (
        f"{fallback} exists, so zones load from the toolchain"
        if fallback and os.path.exists(fallback)
        else f"{fallback or '$GOROOT/lib/time/zoneinfo.zip'} does not exist, "
        "so time.LoadLocation fails"
    )
    return [
        warned(
            NAME,
            "no time zone database (no ZONEINFO, no /usr/share/zoneinfo, not built "
            f"with -tags timetzdata): Go falls back to {state}; install tzdata",
            GOLAUNCH_PATH=fallback,
        )
    ]
