"""The config check: settings that validate but cannot do what they say here.

It warns about keep patterns that can never match, fails a probe with nobody to
tell (warns, when only the missing NOTIFY_SOCKET says so), and fails a watchdog
nothing would ping, or one whose WATCHDOG_USEC or WATCHDOG_PID systemd could not
have written. A configuration that does not validate never gets this far:
those failures are worded where validation happens (golaunch/config/validate.py,
golaunch/config/rules.py) and reported under the same check name.
"""

from __future__ import annotations

import os

from golaunch.findings import Finding, failed, warned
from golaunch.host.context import LaunchContext
from golaunch.host.environment import NEVER_INHERITED_PREFIXES, never_inherited
from golaunch.systemd.notify import watchdog_usec

NAME = "config"
_GLOB = frozenset("*?[")


def check(ctx: LaunchContext) -> list[Finding]:
    return _keep_warnings(ctx) + _notify_problems(ctx)


def _notify_problems(ctx: LaunchContext) -> list[Finding]:
    """A ready probe or a watchdog needs someone to tell: systemd, in ready mode."""
    notify = ctx.config.notify
    problems = []
    if notify.probe is not None and ctx.notify_mode != "ready":
        why = (
            f"notify.mode is {notify.mode}"
            if notify.mode != "auto"
            else "there is no NOTIFY_SOCKET (not under systemd, or not Type=notify)"
        )
        report = failed if notify.mode != "auto" else warned
        problems.append(
            report(NAME, f"notify.probe needs notify.mode ready, but {why}: nobody to tell")
        )
    return problems + _watchdog_problems(ctx)


def _watchdog_problems(ctx: LaunchContext) -> list[Finding]:
    """WatchdogSec= needs someone to ping: golaunch's readiness helper (--watchdog) or the program,
    which can only with the socket (--notify passthrough). Otherwise systemd kills the
    program every WatchdogSec=, a restart loop with no word of why."""
    notify = ctx.config.notify
    try:
        usec = watchdog_usec(ctx.environ, os.getpid())
    except ValueError as e:
        return [failed(NAME, f"{e}; golaunch cannot know how often to ping the watchdog")]
    if notify.watchdog and usec is None:
        # Outside systemd (--check from a shell) nothing sets it: said, not refused.
        report = failed if ctx.environ.get("NOTIFY_SOCKET") else warned
        return [report(NAME, "notify.watchdog needs WatchdogSec= in the unit (no WATCHDOG_USEC)")]
    if usec is not None and not notify.watchdog and ctx.notify_mode != "passthrough":
        return [
            failed(
                NAME,
                f"the unit sets WatchdogSec= ({usec / 1e6:g} s), but nothing would ping it: in "
                f"notify mode {ctx.notify_mode} the program gets no NOTIFY_SOCKET, so systemd "
                "would kill it every WatchdogSec=; add --watchdog with --ready-probe (golaunch "
                "pings while the probe passes) or --notify passthrough (the program pings), "
                "or remove WatchdogSec=",
                WATCHDOG_USEC=str(usec),
            )
        ]
    return []


def _keep_warnings(ctx: LaunchContext) -> list[Finding]:
    return [
        warned(
            NAME,
            f"environment.keep pattern {pattern!r} matches only variables golaunch never "
            "passes on (its own settings, and what changes how the loader or an interpreter "
            "loads code); set one on purpose with environment.set, or drop the pattern",
        )
        for pattern in ctx.config.environment.keep
        if _never_matches(pattern)
    ]


def _never_matches(pattern: str) -> bool:
    if not _GLOB & set(pattern):
        return never_inherited(pattern)
    literal = pattern[: min(pattern.index(c) for c in _GLOB if c in pattern)]
    return literal.startswith(NEVER_INHERITED_PREFIXES)
