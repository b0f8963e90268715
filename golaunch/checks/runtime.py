"""Checks of what a Go program needs at run time: its toolchain match and time zone data."""

from __future__ import annotations

import os

from golaunch.context import LaunchContext
from golaunch.findings import Finding, failed, passed, skipped, warned
from golaunch.goversion import parse_go_version

# Where Go's time package looks for the system database (zoneinfo_unix.go).
PLATFORM_ZONEINFO = (
    "/usr/share/zoneinfo/",
    "/usr/share/lib/zoneinfo/",
    "/usr/lib/locale/TZ/",
    "/etc/zoneinfo",
)


def check_match_binary(ctx: LaunchContext) -> list[Finding]:
    mode = ctx.config.go.match_binary
    info = ctx.inspection.buildinfo if ctx.inspection else None
    if mode == "off":
        return []
    if info is None or ctx.toolchain is None or ctx.toolchain.version is None:
        return [
            skipped("go-version", f"go.match_binary={mode}: no Go binary and toolchain to compare")
        ]
    built, toolchain = parse_go_version(info.go_version), ctx.toolchain.version
    fields = {
        "GOLAUNCH_GO_VERSION": toolchain.text,
        "GOLAUNCH_GO_VERSION_REQUIRED": info.go_version,
    }
    if built is None:
        return [
            failed(
                "go-version",
                f"the binary's Go version {info.go_version!r} is not a release",
                **fields,
            )
        ]
    same = (
        built.release == toolchain.release
        if mode == "release"
        else built.sort_key() == toolchain.sort_key()
    )
    if same:
        return [
            passed(
                "go-version",
                f"toolchain {toolchain.text} matches the binary's {info.go_version} ({mode})",
                **fields,
            )
        ]
    return [
        failed(
            "go-version",
            f"toolchain {toolchain.text} does not match the binary, built with "
            f"{info.go_version} (go.match_binary={mode}); point go.goroot at "
            "the Go it was built with",
            **fields,
        )
    ]


def check_tzdata(ctx: LaunchContext) -> list[Finding]:
    info = ctx.inspection.buildinfo if ctx.inspection else None
    if info is None:
        return [skipped("tzdata", "not a Go program")]
    if "timetzdata" in info.settings.get("-tags", "").split(","):
        return [passed("tzdata", "the binary embeds the time zone database (-tags timetzdata)")]
    zoneinfo = ctx.environment.get("ZONEINFO")
    if zoneinfo and os.path.exists(zoneinfo):
        return [passed("tzdata", f"ZONEINFO={zoneinfo}", GOLAUNCH_PATH=zoneinfo)]
    found = next((d for d in PLATFORM_ZONEINFO if os.path.isdir(d)), None)
    if found:
        return [passed("tzdata", f"system time zone database in {found}", GOLAUNCH_PATH=found)]
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
            "tzdata",
            "no time zone database (no ZONEINFO, no /usr/share/zoneinfo, not built "
            f"with -tags timetzdata): Go falls back to {state}; install tzdata",
            GOLAUNCH_PATH=fallback,
        )
    ]
