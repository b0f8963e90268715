"""Exit statuses and the one exception family: the only place either is defined.

Statuses follow BSD sysexits(3), as systemd.exec(5) documents them. Expected
problems with the host are findings, not exceptions; a GolaunchError means
"cannot continue" and carries its status, which `golaunch.__main__`, the one
place that maps errors to exit statuses, returns. Only the unit checks catch some
on the way (golaunch.unitcheck.run): there a usage or permission error about one
unit becomes that unit's failure, so that the others are still checked.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final


class ExitStatus:
    """The statuses, as plain ints: an enum would cost every start 3 ms of imports."""

    OK: Final = 0  # --check found nothing failed; --print-env; --version; --help
    USAGE: Final = 64  # EX_USAGE: the command line is wrong (also: --unit names no golaunch unit)
    UNAVAILABLE: Final = 69  # EX_UNAVAILABLE: --unit: the service manager cannot be asked
    SOFTWARE: Final = 70  # EX_SOFTWARE: a bug in golaunch; please report it
    OSERR: Final = 71  # EX_OSERR: execve(2) of the program failed
    CANTCREAT: Final = 73  # EX_CANTCREAT: --output FILE could not be written
    TEMPFAIL: Final = 75  # EX_TEMPFAIL: a dependency (--wait-for) did not come up in time
    NOPERM: Final = 77  # EX_NOPERM: --unit: the unit runs as another user, and golaunch is not root
    CONFIG: Final = 78  # EX_CONFIG: a check failed or the configuration is invalid


class GolaunchError(Exception):
    status: int = ExitStatus.SOFTWARE


class UsageError(GolaunchError):
    status = ExitStatus.USAGE


class ManagerUnavailable(GolaunchError):
    status = ExitStatus.UNAVAILABLE


class PermissionRefused(GolaunchError):
    status = ExitStatus.NOPERM


class OutputFileError(GolaunchError):
    """--output FILE could not be written: unlike a failed check, never masked by a unit's
    SuccessExitStatus=78."""

    status = ExitStatus.CANTCREAT


class StandardOutputError(GolaunchError):
    """The report or environment could not be written: nothing was checked for anyone."""

    status = ExitStatus.CONFIG
