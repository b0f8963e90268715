"""Checks of the program file itself."""

from __future__ import annotations

import errno
import os
import stat

from golaunch.context import LaunchContext
from golaunch.findings import Finding, failed, passed


def check_program(ctx: LaunchContext) -> list[Finding]:
    fields = {"GOLAUNCH_PATH": ctx.program or ctx.argv[0]}
    if ctx.program is None:
        path = ctx.environment.get("PATH", "")
        return [
            failed(
                "program",
                f"{ctx.argv[0]!r} is not in PATH={path}; give an absolute path or set "
                "environment.path",
                **fields,
            )
        ]
    problem = file_problem(ctx.program)
    if problem:
        return [failed("program", f"{ctx.program} {problem}", **fields)]
    return [passed("program", f"{ctx.program} is an executable file", **fields)]


def file_problem(path: str) -> str | None:
    """Why PATH cannot be executed by the effective user, or None."""
    try:
        info = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "is a symlink loop"
        if e.errno == errno.ENOENT:
            return "does not exist" if not os.path.islink(path) else "is a dangling symlink"
        return f"cannot be examined: {e.strerror}"
    if stat.S_ISDIR(info.st_mode):
        return "is a directory, not a program"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if not os.access(path, os.X_OK, effective_ids=os.access in os.supports_effective_ids):
        return (
            f"is not executable by uid {os.geteuid()} ({stat.filemode(info.st_mode)}); chmod +x it"
        )
    return None
