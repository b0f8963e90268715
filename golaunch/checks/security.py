"""The security check: files that decide what runs as root must be root's alone.

As sshd's StrictModes does for a user's keys: when golaunch runs as root, the
program, GOROOT, the configuration file (it names the program) and the
directories of the program and the file must not be writable by anyone but
root, or whoever can write them runs code as the service. A warning, or a
failure with security.strict. A service with User= runs golaunch as that user,
and then the files are that user's business.
"""

from __future__ import annotations

import os
import stat

from golaunch.findings import Finding, failed, passed, skipped, warned
from golaunch.host.context import LaunchContext

NAME = "security"


def writable_by_others(path: str) -> str | None:
    """Who other than root can write PATH, or None."""
    try:
        info = os.stat(path)
    except OSError:
        return None  # missing files are the other checks' findings
    if info.st_uid != 0:
        return f"its owner, uid {info.st_uid}"
    if info.st_mode & stat.S_IWGRP and info.st_gid != 0:
        return f"group {info.st_gid}"
    if info.st_mode & stat.S_IWOTH:
        sticky = (
            " (sticky, but a new file can still be put in it)"
            if stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX
            else ""
        )
        return f"everyone{sticky}"
    return None


def check(ctx: LaunchContext) -> list[Finding]:
    if ctx.euid != 0:
        return [skipped(NAME, "golaunch runs as the service's own user, not root")]
    guarded = []
    if ctx.program:
        guarded += [ctx.program, os.path.dirname(ctx.program) or "/"]
    if ctx.goroot:
        guarded.append(ctx.goroot.path)
    if ctx.config_path:
        path = os.path.abspath(ctx.config_path)
        guarded += [path, os.path.dirname(path)]
    report = failed if ctx.config.security.strict else warned
    findings = []
    for path in guarded:
        who = writable_by_others(path)
        if who:
            findings.append(
                report(
                    NAME,
                    f"{path} is writable by {who}, and golaunch runs as root: whoever can write "
                    f"it can run code as this service; chmod go-w and chown root {path}",
                    GOLAUNCH_PATH=path,
                )
            )
    return findings or [passed(NAME, f"{', '.join(guarded) or 'nothing'}: root's alone")]
