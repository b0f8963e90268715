"""The security check: files that decide what runs as root must be root's alone.

As sshd's StrictModes does for a user's keys: when golaunch runs as root, the
program (as named, and where its symlinks lead), every directory up to / of
where it leads, GOROOT, the configuration file (it names the program) and the
directories of the program and the file must not be writable by anyone but
root, through the mode or an ACL, or whoever can write them runs code as the
service. A warning, or a failure with security.strict. A service with User=
runs golaunch as that user, and then the files are that user's business.
"""

from __future__ import annotations

import os

from golaunch.findings import Finding, failed, passed, skipped, warned
from golaunch.host.context import LaunchContext
from golaunch.host.permissions import other_writers

NAME = "security"


def writable_by_others(path: str, sticky_is_safe: bool = False) -> str | None:
    """Who other than root can write PATH, or None."""
    try:
        info = os.stat(path)
    except OSError:
        return None  # missing files are the other checks' findings
    who = other_writers(path, info, uids=(0,), gids=(0,), sticky_is_safe=sticky_is_safe)
    return ", ".join(who) or None


def guarded_paths(ctx: LaunchContext) -> dict[str, bool]:
    """What decides what runs, each with whether a sticky world-writable directory is safe
    there: the program as named and as resolved (where $ORIGIN libraries load from too),
    each directory up to / of the resolved path, GOROOT, and the configuration file."""
    guarded: dict[str, bool] = {}
    if ctx.program:
        real = os.path.realpath(ctx.program)
        for path in (ctx.program, real):
            guarded.setdefault(path, False)
            guarded.setdefault(os.path.dirname(path) or "/", False)
        ancestor = os.path.dirname(os.path.dirname(real))
        while True:
            # Above the program's own directory only replacing matters, which the
            # sticky bit prevents.
            guarded.setdefault(ancestor, True)
            if ancestor == "/":
                break
            ancestor = os.path.dirname(ancestor)
    if ctx.goroot:
        guarded.setdefault(ctx.goroot.path, False)
    if ctx.config_path:
        path = os.path.abspath(ctx.config_path)
        guarded.setdefault(path, False)
        guarded.setdefault(os.path.dirname(path), False)
    return guarded


def check(ctx: LaunchContext) -> list[Finding]:
    if ctx.euid != 0:
        return [skipped(NAME, "golaunch runs as the service's own user, not root")]
    guarded = guarded_paths(ctx)
    report = failed if ctx.config.security.strict else warned
    findings = []
    for path, sticky_is_safe in guarded.items():
        who = writable_by_others(path, sticky_is_safe)
        if who:
            findings.append(
                report(
                    NAME,
                    f"{path} is writable by {who}, and golaunch runs as root: whoever can write "
                    f"it can run code as this service; chmod go-w and chown root {path}, and "
                    "remove ACL entries that grant write (setfacl -b)",
                    GOLAUNCH_PATH=path,
                )
            )
    return findings or [passed(NAME, f"{', '.join(guarded) or 'nothing'}: root's alone")]
