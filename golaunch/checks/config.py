"""The config check's warnings: settings that validate but cannot do what they say.

Its failures (a configuration that does not validate) are worded where validation
happens, in golaunch/config/validate.py and golaunch/config/rules.py.
"""

from __future__ import annotations

from golaunch.findings import Finding, warned
from golaunch.host.context import LaunchContext
from golaunch.host.environment import NEVER_INHERITED_PREFIXES, never_inherited

NAME = "config"
_GLOB = frozenset("*?[")


def check(ctx: LaunchContext) -> list[Finding]:
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
