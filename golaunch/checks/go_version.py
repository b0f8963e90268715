"""The go-version check: the toolchain against go.version and against the binary."""

from __future__ import annotations

from golaunch.findings import Finding, failed, noted, passed, skipped
from golaunch.host.context import LaunchContext
from golaunch.syntax.goversion import parse_constraint, parse_go_version, satisfies

NAME = "go-version"


def check(ctx: LaunchContext) -> list[Finding]:
    return check_constraint(ctx) + check_match_binary(ctx)


def check_constraint(ctx: LaunchContext) -> list[Finding]:
    spec = ctx.config.go.version
    if spec is None:
        return [skipped(NAME, "no go.version constraint")]
    if ctx.toolchain is None or ctx.toolchain.version is None or ctx.goroot is None:
        return [skipped(NAME, f"no toolchain version to compare with {spec!r}")]
    version = ctx.toolchain.version
    fields = {
        "GOROOT": ctx.goroot.path,
        "GOLAUNCH_GO_VERSION": version.text,
        "GOLAUNCH_GO_VERSION_REQUIRED": spec,
    }
    if satisfies(version, parse_constraint(spec)):
        return [passed(NAME, f"{version.text} satisfies {spec!r}", **fields)]
    return [
        failed(
            NAME,
            f"toolchain {version.text} in {ctx.goroot.path} does not satisfy go.version {spec!r}; "
            "install a matching Go or change go.goroot",
            **fields,
        )
    ]


def _differing_release(ctx: LaunchContext) -> list[Finding]:
    """Worth knowing in --check: the binary and the toolchain it will see differ in 1.N."""
    info = ctx.inspection.buildinfo if ctx.inspection else None
    toolchain = ctx.toolchain.version if ctx.toolchain else None
    built = parse_go_version(info.go_version) if info else None
    if built is None or toolchain is None or built.release == toolchain.release:
        return []
    return [
        noted(
            NAME,
            f"the binary was built with {info.go_version if info else ''} and will see toolchain "
            f'{toolchain.text} (go.match_binary = "release" would require them to match)',
        )
    ]


def check_match_binary(ctx: LaunchContext) -> list[Finding]:
    mode = ctx.config.go.match_binary
    info = ctx.inspection.buildinfo if ctx.inspection else None
    if mode == "off":
        return _differing_release(ctx)
    if info is None or ctx.toolchain is None or ctx.toolchain.version is None:
        return [skipped(NAME, f"go.match_binary={mode}: no Go binary and toolchain to compare")]
    built, toolchain = parse_go_version(info.go_version), ctx.toolchain.version
    fields = {
        "GOLAUNCH_GO_VERSION": toolchain.text,
        "GOLAUNCH_GO_VERSION_REQUIRED": info.go_version,
    }
    if built is None:
        return [
            failed(
                NAME,
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
                NAME,
                f"toolchain {toolchain.text} matches the binary's {info.go_version} ({mode})",
                **fields,
            )
        ]
    return [
        failed(
            NAME,
            f"toolchain {toolchain.text} does not match the binary, built with "
            f"{info.go_version} (go.match_binary={mode}); point go.goroot at "
            "the Go it was built with",
            **fields,
        )
    ]
