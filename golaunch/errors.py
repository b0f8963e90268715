"""The one exception family golaunch raises, each member carrying its exit status.

Expected problems with the host are findings, not exceptions; these are for
"cannot continue", and `golaunch.__main__` is the only place that catches them.
"""

from __future__ import annotations

from golaunch.exitcodes import ExitStatus


class GolaunchError(Exception):
    status = ExitStatus.SOFTWARE


class UsageError(GolaunchError):
    status = ExitStatus.USAGE


class ConfigError(GolaunchError):
    status = ExitStatus.CONFIG
