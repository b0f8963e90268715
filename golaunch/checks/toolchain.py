"""Checks of the Go toolchain the program will see: GOROOT and its version."""

from __future__ import annotations

import os
import stat

from golaunch.context import LaunchContext
from golaunch.findings import Finding, failed, passed, skipped, warned
from golaunch.goversion import parse_constraint, satisfies


def _toolchain_needed(ctx: LaunchContext) -> bool:
    return ctx.config.go.required or ctx.config.go.version is not None


def check_goroot(ctx: LaunchContext) -> list[Finding]:
    if ctx.goroot is None:
        if _toolchain_needed(ctx):
            return [
                failed(
                    "goroot",
                    "no Go toolchain found: set go.goroot (or --goroot), pass GOROOT, or put "
                    "`go` in environment.path",
                )
            ]
        return [
            skipped("goroot", "no Go toolchain in play (none configured, inherited or on PATH)")
        ]
    root, source = ctx.goroot.path, ctx.goroot.source
    problem = goroot_problem(root)
    if problem:
        return [failed("goroot", f"GOROOT {root} (from {source}) {problem}", GOROOT=root)]
    if ctx.toolchain is None or ctx.toolchain.error:
        error = ctx.toolchain.error if ctx.toolchain else "no VERSION"
        return [failed("goroot", f"GOROOT {root}: {error}", GOROOT=root)]
    mode = os.stat(root).st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return [
            warned(
                "goroot",
                f"GOROOT {root} is writable by group or others ({stat.filemode(mode)}): anyone "
                f"who can write it can change the toolchain; chmod go-w {root}",
                GOROOT=root,
            )
        ]
    return [
        passed("goroot", f"GOROOT {root} ({ctx.toolchain.first_line}, from {source})", GOROOT=root)
    ]


def goroot_problem(root: str) -> str | None:
    """Why ROOT is not a usable GOROOT, or None."""
    if not os.path.isabs(root):
        return "is not an absolute path; golaunch expands no ~ or variables"
    if not os.path.isdir(root):
        return "is not a directory" if os.path.exists(root) else "does not exist"
    go = os.path.join(root, "bin", "go")
    if not (os.path.isfile(go) and os.access(go, os.X_OK)):
        return "has no executable bin/go; is it a Go installation?"
    missing = [d for d in ("src", "pkg") if not os.path.isdir(os.path.join(root, d))]
    if missing:
        return f"lacks {' and '.join(d + '/' for d in missing)}; the installation is incomplete"
    return None


def check_go_version(ctx: LaunchContext) -> list[Finding]:
    spec = ctx.config.go.version
    if spec is None:
        return [skipped("go-version", "no go.version constraint")]
    if ctx.toolchain is None or ctx.toolchain.version is None or ctx.goroot is None:
        return [skipped("go-version", f"no toolchain version to compare with {spec!r}")]
    version = ctx.toolchain.version
    fields = {
        "GOROOT": ctx.goroot.path,
        "GOLAUNCH_GO_VERSION": version.text,
        "GOLAUNCH_GO_VERSION_REQUIRED": spec,
    }
    if satisfies(version, parse_constraint(spec)):
        return [passed("go-version", f"{version.text} satisfies {spec!r}", **fields)]
    return [
        failed(
            "go-version",
            f"toolchain {version.text} in {ctx.goroot.path} does not satisfy go.version {spec!r}; "
            "install a matching Go or change go.goroot",
            **fields,
        )
    ]
