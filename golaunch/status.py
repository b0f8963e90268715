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

    # --check found nothing failed; --print-env; --version; --help; --reload confirmed
    OK: Final = 0
    # EX_USAGE: the command line is wrong; --unit names no golaunch unit; --reload is not
    # told how the program reloads
    USAGE: Final = 64
    # EX_DATAERR: --reload: the program rejected the reload (its new configuration)
    DATAERR: Final = 65
    # EX_UNAVAILABLE: --unit: the service manager cannot be asked; --reload: the program is
    # not running, or died of the signal
    UNAVAILABLE: Final = 69
    SOFTWARE: Final = 70  # EX_SOFTWARE: a bug in golaunch; please report it
    OSERR: Final = 71  # EX_OSERR: execve(2) of the program failed
    CANTCREAT: Final = 73  # EX_CANTCREAT: --output FILE could not be written
    # EX_TEMPFAIL: a dependency (--wait-for) did not come up in time; --reload: no
    # confirmation in time; --unit/--all-units: no unit failed, some unit's check did not
    # finish (its state is unknown)
    TEMPFAIL: Final = 75
    # EX_NOPERM: --unit: the unit runs as another user, and golaunch is not root; --reload:
    # the PID is not this unit's
    NOPERM: Final = 77
    # EX_CONFIG: a check failed, or golaunch's configuration is invalid (--reload's too)
    CONFIG: Final = 78
    INTERRUPTED: Final = 128 + 2  # SIGINT (Ctrl-C) before the program started
    TERMINATED: Final = 128 + 15  # SIGTERM before the program started, or during --reload


class Terminated(BaseException):
    """SIGTERM (systemd stopping golaunch, or podman stop): a BaseException, so that nothing
    on the way swallows it. Its argument says what was under way, when not a start."""


class GolaunchError(Exception):
    status: int = ExitStatus.SOFTWARE


class UsageError(GolaunchError):
    status = ExitStatus.USAGE


class ManagerUnavailable(GolaunchError):
    status = ExitStatus.UNAVAILABLE


class PermissionRefused(GolaunchError):
    status = ExitStatus.NOPERM


class NotRunning(GolaunchError):
    """--reload: the process is gone, or a zombie: there is nothing to reload."""

    status = ExitStatus.UNAVAILABLE


class Unfinished(GolaunchError):
    """Work handed to another process gave no answer in time: nothing is known, so try
    again."""

    status = ExitStatus.TEMPFAIL


class OutputFileError(GolaunchError):
    """--output FILE could not be written: unlike a failed check, never masked by a unit's
    SuccessExitStatus=78."""

    status = ExitStatus.CANTCREAT


class StandardOutputError(GolaunchError):
    """The report or environment could not be written: nothing was checked for anyone."""

    status = ExitStatus.CONFIG
