"""Whose service manager --check --unit asks: PID 1, or a user's (--user, --user-of).

A user's manager answers on that user's bus, which takes only that user. So for
--user-of, a child of golaunch becomes the user before it asks anything, as
`machinectl shell` or `runuser` would: everything it does, the checks' children too,
runs as the user, which is who a user manager's services run as. The child hands its
reports back as JSON, and golaunch writes them as it runs: root's metrics file is
root's to write, never the user's.
"""

from __future__ import annotations

import json
import os
import pwd
from collections.abc import Callable
from typing import Any

from golaunch.output.report import Report, document, from_document
from golaunch.status import ExitStatus, GolaunchError, PermissionRefused, Unfinished, UsageError
from golaunch.systemd.manager import UserManager
from golaunch.unitcheck.child import forked, load_everything_first

Gathered = tuple[list[Report], list[str]]  # the reports, and the units asked for that are gone

# A user's processes are the user's to stop (kill -STOP -1), the asking child's among
# them; golaunch-check.service gives a run over every unit ten minutes, as here.
USER_RUN_TIMEOUT = 600.0


def calling_user() -> UserManager:
    """--user: the manager of the user golaunch runs as."""
    return _of(pwd.getpwuid(os.geteuid()))


def as_user(
    name: str, work: Callable[[UserManager], Gathered], timeout: float = USER_RUN_TIMEOUT
) -> Gathered:
    """--user-of NAME: what WORK gathers from NAME's manager, done by a child that has
    become NAME (root only). Its failure is raised here with its exit status; a child
    that gives no answer within TIMEOUT leaves nothing known (exit 75)."""
    entry = _entry(name)
    load_everything_first()  # as root: the user may be unable to read golaunch's files
    data, finished = forked(lambda: _gather_as(entry, work), timeout)
    if not finished:
        raise Unfinished(
            f"--user-of {name}: the checks did not finish within {timeout:g} s and were "
            f"stopped; {name}'s own processes can stop or slow them"
        )
    return _gathered(name, data)


def _gather_as(entry: pwd.struct_passwd, work: Callable[[UserManager], Gathered]) -> bytes:
    """The child's answer: the reports (JSON, never pickle: it ran as the user), or what
    stopped it with its exit status."""
    answer: dict[str, Any]
    try:
        _become(entry)
        reports, gone = work(_of(entry))
        shipped = [{"report": document(r), "checked_at": r.checked_at} for r in reports]
        return json.dumps({"reports": shipped, "gone": gone}).encode()
    except GolaunchError as e:
        answer = {"status": e.status, "error": str(e)}
    except BaseException as e:  # whatever happens, the parent gets it as an error
        answer = {"status": ExitStatus.SOFTWARE, "error": f"{type(e).__name__}: {e}"}
    return json.dumps(answer).encode()


def _gathered(name: str, data: bytes) -> Gathered:
    try:
        answer = json.loads(data)
        if "error" in answer:
            failure = GolaunchError(str(answer["error"]))
            failure.status = int(answer["status"])
            raise failure
        reports = [
            _checked(from_document(shipped["report"]), shipped["checked_at"])
            for shipped in answer["reports"]
        ]
        return reports, [str(unit) for unit in answer["gone"]]
    except (ValueError, KeyError, TypeError):
        raise GolaunchError(f"--user-of {name}: the checks' process gave no report") from None


def _checked(report: Report, at: float | None) -> Report:
    import dataclasses

    return dataclasses.replace(report, checked_at=at)


def lookup(name: str) -> pwd.struct_passwd:
    """--user-of NAME's password entry (NAME may be a uid)."""
    try:
        return pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except KeyError:
        raise UsageError(f"--user-of {name}: no such user") from None


def _entry(name: str) -> pwd.struct_passwd:
    entry = lookup(name)
    if os.geteuid() != 0:
        raise PermissionRefused(
            f"--user-of {name} needs root; as {entry.pw_name} itself, use --user"
        )
    return entry


def _become(entry: pwd.struct_passwd) -> None:
    os.setgroups(os.getgrouplist(entry.pw_name, entry.pw_gid))
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)


def _of(entry: pwd.struct_passwd) -> UserManager:
    return UserManager(entry.pw_uid, entry.pw_gid, entry.pw_name, entry.pw_dir, entry.pw_shell)
