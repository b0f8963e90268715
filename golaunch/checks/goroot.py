"""The goroot check: the Go toolchain the program will see."""

from __future__ import annotations

import os
import stat

from golaunch.findings import Finding, failed, passed, skipped, warned
from golaunch.host.context import LaunchContext

NAME = "goroot"


def check(ctx: LaunchContext) -> list[Finding]:
    if ctx.goroot is None:
        if ctx.toolchain_required:  # golaunch.host.context.requires_toolchain says why
            return [
                failed(
                    NAME,
                    "no Go toolchain found: set go.goroot (or --goroot), pass GOROOT, or put "
                    "`go` in environment.path",
                )
            ]
        return [skipped(NAME, "no Go toolchain in play (none configured, inherited or on PATH)")]
    root, source = ctx.goroot.path, ctx.goroot.source
    problem = goroot_problem(root)
    if problem is None and (ctx.toolchain is None or ctx.toolchain.error):
        problem = f"is unusable: {ctx.toolchain.error if ctx.toolchain else 'no VERSION'}"
    if problem and ctx.toolchain_required:
        return [failed(NAME, f"GOROOT {root} (from {source}) {problem}", GOROOT=root)]
    if problem:
        # Only discovered: exported as found, but nothing asked for a toolchain.
        message = f"GOROOT {root} (from {source}) {problem}; not required, nothing asked for Go"
        return [warned(NAME, message, GOROOT=root)]
    assert ctx.toolchain is not None
    mode = os.stat(root).st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return [
            warned(
                NAME,
                f"GOROOT {root} is writable by group or others ({stat.filemode(mode)}): anyone "
                f"who can write it can change the toolchain; chmod go-w {root}",
                GOROOT=root,
            )
        ]
    return [passed(NAME, f"GOROOT {root} ({ctx.toolchain.first_line}, from {source})", GOROOT=root)]


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
