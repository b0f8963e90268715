"""The child of a unit check: it becomes the unit's user, parses the unit's golaunch
command line and configuration exactly as the service's golaunch would
(golaunch.config.commandline), runs the checks, and sends its report back as JSON
(never pickle: it ran as someone else).
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from golaunch.findings import Finding, failed
from golaunch.host.cgroups import Limits
from golaunch.output.report import Report, document
from golaunch.status import ExitStatus, UsageError
from golaunch.unitcheck.candidate import Candidate, enter_candidate_view
from golaunch.unitcheck.environment import NAME, Identity
from golaunch.unitcheck.private import enter_service_view


class Job(NamedTuple):
    """What the child needs to check a unit as its service's golaunch would."""

    unit: str
    argv: list[str]
    environment: dict[str, str]
    notify_access: str
    limits: Limits
    working_directory: str
    private: dict[str, list[str]]  # DynamicUser=: private roots and the unit's own dirs
    service_type: str = "simple"  # Type=
    systemd: int | None = None  # the manager's major version
    candidate: Candidate | None = None  # --candidate: the build to bind over INSTALLED
    installed: str = ""  # (golaunch.unitcheck.candidate)


# A unit's check takes well under a second; its user can stop or slow the child, which
# runs as that user (kill(-1, SIGSTOP)), so the parent waits this long at the most.
CHILD_TIMEOUT = 30.0


def in_child(job: Job, who: Identity, timeout: float = CHILD_TIMEOUT) -> dict[str, Any]:
    """The child's report, or {"unknown": why} when it gave none within TIMEOUT seconds."""
    load_everything_first()
    data, finished = forked(lambda: json.dumps(_check_as_user(job, who)).encode(), timeout)
    if not finished:
        return {
            "unknown": f"the check did not answer within {timeout:g} s and was stopped; the "
            "unit's user can stop or slow the processes of its uid, the check's among them"
        }
    try:
        return dict(json.loads(data))
    except ValueError:
        return {"error": "the check's child process gave no report"}


def forked(work: Callable[[], bytes], timeout: float) -> tuple[bytes, bool]:
    """What WORK, done in a child process, wrote back, and whether that came within
    TIMEOUT seconds: a child that did not is killed (a stopped one too). Nothing of the
    child's goes past its exit: no traceback, no return into the caller's code."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = ExitStatus.SOFTWARE
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as out:
                out.write(work())
            status = ExitStatus.OK
        finally:
            os._exit(status)
    os.close(write_end)
    data, finished = read_within(read_end, timeout)
    os.close(read_end)
    if not finished:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return data, finished


def _check_as_user(job: Job, who: Identity) -> dict[str, Any]:
    """In the child: become the unit's user and check; whatever happens, an answer."""
    try:
        blind = _service_view(job.private)
        unseen = _candidate_view(job)
        _become(who)
        problem = working_directory(job.working_directory, job.environment)
        answer = document(Report(None, [problem])) if problem else _check_as_service(job)
        if blind:
            answer = _unseen_private(answer, blind)
        if unseen:  # what was judged is the installed program: no verdict on the build
            answer = {"unknown": unseen}
    except BaseException as e:  # whatever happens, the parent gets a finding
        answer = {"error": f"{type(e).__name__}: {e}"}
    return answer


def read_within(fd: int, timeout: float) -> tuple[bytes, bool]:
    """Everything FD gives until end of file, and whether that came within TIMEOUT."""
    deadline = time.monotonic() + timeout
    poll = select.poll()
    poll.register(fd, select.POLLIN | select.POLLHUP)
    chunks: list[bytes] = []
    while (left := deadline - time.monotonic()) > 0:
        if poll.poll(int(left * 1000) + 1):
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks), True
            chunks.append(chunk)
    return b"".join(chunks), False


def load_everything_first() -> None:
    """Import, as root, all a check imports: the unit's user may be unable to read the
    interpreter's or golaunch's files (a development install in /root), and a check
    must not fail for that. Validating once makes pydantic load its lazy parts too."""
    import codecs
    import contextlib
    import importlib

    from golaunch.config.validate import ConfigInvalid, load

    for module in _CHECK_IMPORTS:
        importlib.import_module(module)
    for codec in _CHECK_CODECS:  # codecs load their module at first use
        codecs.lookup(codec)
    with contextlib.suppress(ConfigInvalid):
        load({"program": "/"}, {}, None)


_CHECK_IMPORTS = (
    "difflib",  # click's "did you mean" for a misspelt option in ExecStart=
    "ipaddress",  # probe URLs' hosts
    "signal",  # [reload] signal names
    "tomllib",
    "urllib.parse",
    "golaunch.checks",
    "socket",  # the listeners systemd passed in
    "golaunch.host.listeners",
    "golaunch.syntax.pid",  # LISTEN_PID, by the listeners
    "golaunch.syntax.probeurl",
    "golaunch.config.commandline",
    "golaunch.output.report",
    "golaunch.host.credentials",
    "golaunch.host.program",
    "golaunch.readiness.probes",
)
_CHECK_CODECS = ("ascii", "latin-1", "unicode_escape", "utf-8")


def _service_view(private: Mapping[str, list[str]]) -> str | None:
    """Enter the DynamicUser= unit's view of its private directories (unitcheck.private);
    None, or why that was not possible (no CAP_SYS_ADMIN, no mount namespaces)."""
    if not private or os.geteuid() != 0:
        return None
    try:
        enter_service_view(private)
    except OSError as e:
        return str(e)
    return None


def _candidate_view(job: Job) -> str | None:
    """Enter the view with the candidate in place of the program (unitcheck.candidate);
    None, or why that was not possible."""
    if job.candidate is None:
        return None
    try:
        enter_candidate_view(job.candidate, job.installed)
    except OSError as e:
        return (
            f"the candidate could not be put in place of {job.installed} for the check ({e}); "
            "that needs root, CAP_SYS_ADMIN and mount namespaces"
        )
    return None


def _unseen_private(answer: dict[str, Any], why: str) -> dict[str, Any]:
    """Cache findings that failed only because the private directories could not be
    shown as the service sees them: a skip, never a false "would not start"."""
    for finding in answer.get("findings", []):
        if finding["check"] in ("gocache", "gomodcache") and finding["severity"] == "fail":
            finding["severity"] = "skip"
            finding["message"] = (
                f"not judged: DynamicUser='s private directories cannot be shown as the "
                f"service sees them ({why}); the check needs CAP_SYS_ADMIN and mount "
                f"namespaces. It said: {finding['message']}"
            )
    return answer


def _become(who: Identity) -> None:
    if os.geteuid() == 0 and who.uid != 0:
        os.setgroups(who.groups)
        os.setgid(who.gid)
        os.setuid(who.uid)


def working_directory(setting: str, environment: Mapping[str, str]) -> Finding | None:
    """chdir as systemd would to WorkingDirectory= (the bus shows its "-" prefix as "!",
    and "~" as the home); None, or the failure systemd would stop the start with."""
    missing_ok = setting.startswith("!")
    directory = setting.removeprefix("!") or "/"
    if directory == "~":
        directory = environment.get("HOME", "/")
    try:
        os.chdir(directory)
    except OSError as e:
        if missing_ok:
            os.chdir("/")  # systemd stays where it forked: PID 1's /
            return None
        prefix = "-" if missing_ok else ""
        return failed(
            NAME,
            f"WorkingDirectory={prefix}{setting.removeprefix('!')}: {e.strerror}; systemd would "
            "refuse to start the unit (200/CHDIR)",
        )
    return None


def _check_as_service(job: Job) -> dict[str, Any]:
    """What `golaunch --check --json` with the unit's options would say, in its environment."""
    from golaunch.config.commandline import configure, parse
    from golaunch.host.context import build_context
    from golaunch.output.report import check_report
    from golaunch.systemd.manager import KnownView, UnitView

    try:
        options = parse(job.argv[1:])
        configured = configure(options, job.environment) if options is not None else None
    except UsageError as e:
        message = str(e).splitlines()[0]
        return document(Report(None, [failed("config", f"ExecStart=: {message}")]))
    if configured is None:
        return document(Report(None, [failed("config", "ExecStart= only asks for help")]))
    config = configured.config
    if config is None:
        return document(Report(configured.values.get("program"), configured.findings))
    if config.program is None:
        return document(Report(None, [failed("config", "no program in ExecStart= or config")]))
    ctx = build_context(config, job.environment, config_path=configured.path, limits=job.limits)
    properties = {"NotifyAccess": job.notify_access, "Type": job.service_type}
    view = KnownView(UnitView(job.unit, properties, None), job.systemd)
    return document(check_report(dataclasses.replace(ctx, unit_view=view)))
