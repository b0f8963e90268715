"""The config check's warnings: settings that validate but cannot do what they say.

Its failures (a configuration that does not validate) are worded where validation
happens, in golaunch/config/validate.py and golaunch/config/rules.py.
"""

from __future__ import annotations

from golaunch.findings import Finding, failed, warned
from golaunch.host.context import LaunchContext
from golaunch.host.environment import NEVER_INHERITED_PREFIXES, never_inherited

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
    if notify.watchdog and not ctx.inherited.get("WATCHDOG_USEC"):
        # Outside systemd (--check from a shell) nothing sets it: said, not refused.
        report = failed if ctx.inherited.get("NOTIFY_SOCKET") else warned
        problems.append(
            report(NAME, "notify.watchdog needs WatchdogSec= in the unit (no WATCHDOG_USEC)")
        )
    return problems


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
