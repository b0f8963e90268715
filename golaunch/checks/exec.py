"""The exec check: what execve(2) itself will be given, and what it said when it failed."""

from __future__ import annotations

import os

from golaunch.findings import Finding, failed, noted, passed
from golaunch.host.context import LaunchContext
from golaunch.host.environment import (
    MAX_ARG_STRLEN,
    arg_max,
    dropped,
    exec_size,
    exec_strings,
)

NAME = "exec"

# launch may hand the program a new stream: its dev:ino, at most two 20-digit numbers
LONGEST_JOURNAL_STREAM = f"{2**64 - 1}:{2**64 - 1}"


def check(ctx: LaunchContext) -> list[Finding]:
    environment = dict(ctx.environment)
    if "JOURNAL_STREAM" in environment:
        environment["JOURNAL_STREAM"] = LONGEST_JOURNAL_STREAM
    strings = exec_strings(ctx.argv, environment)
    longest = max(range(len(strings)), key=lambda i: len(strings[i]))
    if len(strings[longest]) + 1 > MAX_ARG_STRLEN:
        # Named, never quoted: a variable may hold a credential.
        names = [f"argument {i}" for i in range(len(ctx.argv))]
        names += [f"variable {name}" for name in environment]
        return [
            failed(
                NAME,
                f"{names[longest]} is {len(strings[longest])} bytes, more than the kernel's "
                f"MAX_ARG_STRLEN={MAX_ARG_STRLEN}; execve would fail with E2BIG",
            )
        ]
    size, limit = exec_size(ctx.program or ctx.argv[0], strings), arg_max()
    if size > limit:
        return [
            failed(
                NAME,
                f"arguments and environment take {size} bytes, more than ARG_MAX={limit}; "
                "execve would fail with E2BIG: shorten them",
            )
        ]
    fit = passed(NAME, f"arguments and environment fit ({size} of {limit} bytes)")
    left_out = dropped(ctx.environ, ctx.environment)
    return [fit, *([noted(NAME, dropped_message(left_out))] if left_out else [])]


def dropped_message(names: list[str], shown: int = 12) -> str:
    """Names only: a value may be a secret."""
    listed = ", ".join(names[:shown]) + (
        f" and {len(names) - shown} more" if len(names) > shown else ""
    )
    return f"not passed to the program: {listed}; --keep-env NAME (environment.keep) passes one on"


def execve_failed(program: str, error: OSError) -> Finding:
    """What launch reports when execve(2) itself failed, after READY=1."""
    code = error.errno or 0
    return failed(
        NAME,
        f"execve {program} failed: {os.strerror(code)} (errno {code})",
        ERRNO=str(code),
        GOLAUNCH_PATH=program,
    )
