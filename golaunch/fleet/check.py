"""Check a unit from outside: ask the manager, rebuild what systemd would give the service,
and run golaunch's own checks in a child that has become the unit's user.

The child parses the unit's golaunch command line and configuration exactly as
the service's golaunch would, and sends its report back as JSON (never pickle:
it ran as someone else). The parent only renders.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from golaunch.findings import Finding, Severity, failed
from golaunch.fleet.cmdline import expand_command
from golaunch.fleet.credentials import Staged, stage
from golaunch.fleet.environment import NAME, Identity, identity, rebuild
from golaunch.fleet.limits import unit_limits
from golaunch.host.cgroups import Limits
from golaunch.report import Report
from golaunch.status import PermissionRefused, UsageError
from golaunch.systemd.manager import Manager, ServiceUnit


def golaunch_command(unit: ServiceUnit) -> list[str] | None:
    """The argv of the unit's ExecStart= command that launches a program through golaunch.

    A golaunch command line that launches nothing (--check, --print-env, --help,
    --version) is not a launcher: golaunch-check.service itself is one of those."""
    for path, argv in unit.exec_start:
        if os.path.basename(path) == "golaunch":
            command = argv
        elif argv[1:3] == ["-m", "golaunch"] or argv[1:4] == ["-I", "-m", "golaunch"]:
            command = [argv[0], *argv[argv.index("golaunch") + 1 :]]
        else:
            continue
        return command if launches(command[1:]) else None
    return None


def launches(arguments: Sequence[str]) -> bool:
    """Whether golaunch with ARGUMENTS would exec a program. A command line golaunch would
    refuse still counts: its refusal is what the check reports."""
    from golaunch.cli import parse

    try:
        options = parse(arguments)
    except UsageError:
        return True
    return options is not None and not (options["check"] or options["print_env"])


def check_unit(manager: Manager, name: str, manager_environment: Sequence[str]) -> Report:
    unit = manager.service(name)
    argv = golaunch_command(unit)
    if argv is None:
        shown = " ".join(unit.exec_start[0][1]) if unit.exec_start else "nothing"
        raise UsageError(f"--unit {unit.name}: its ExecStart= runs {shown}, not golaunch")
    return check_loaded(manager, unit, argv, manager_environment)


def check_loaded(
    manager: Manager, unit: ServiceUnit, argv: list[str], manager_environment: Sequence[str]
) -> Report:
    who, notes = identity(unit.service, unit.main_pid)
    if os.geteuid() != 0 and who.uid != os.geteuid():
        raise PermissionRefused(
            f"--unit {unit.name} runs as uid {who.uid}; checking it as that user needs root"
        )
    staged = stage(unit.service, who)
    staged_path, service_path = staged.directory, f"/run/credentials/{unit.name}"
    try:
        where = service_path if staged_path else None
        environment, more = rebuild(unit.service, manager_environment, who, where)
        if staged_path:
            environment["CREDENTIALS_DIRECTORY"] = staged_path
        job = Job(
            unit.name,
            expand_command(argv, environment),
            environment,
            str(unit.service.get("NotifyAccess", "none")),
            unit_limits(manager, unit),
            str(unit.service.get("WorkingDirectory") or ""),
        )
        document = _in_child(job, who)
    finally:
        staged.remove()

    def as_the_service_sees(text: str) -> str:
        return text.replace(staged_path, service_path) if staged_path else text

    report = _report(document, unit.name)
    findings = [
        *notes,
        *staged.findings,
        *more,
        *(
            _unstaged(dataclasses.replace(f, message=as_the_service_sees(f.message)), staged)
            for f in report.findings
        ),
    ]
    shown = {k: as_the_service_sees(v) for k, v in report.environment.items()}
    return Report(report.program, findings, shown, report.binary, report.probes, unit=unit.name)


def _unstaged(finding: Finding, staged: Staged) -> Finding:
    """A credential the child could not read because it was deliberately not staged: a skip
    that says why, not the failure the child saw."""
    name = finding.fields.get("GOLAUNCH_CREDENTIAL")
    if finding.check != "credentials" or name not in staged.unstaged:
        return finding
    variable = finding.fields.get("GOLAUNCH_VARIABLE", "a variable")
    why = staged.unstaged[name]
    return dataclasses.replace(
        finding,
        severity=Severity.SKIP,
        message=f"{variable} wants credential {name!r}: {why}",
    )


class Job(NamedTuple):
    """What the child needs to check a unit as its service's golaunch would."""

    unit: str
    argv: list[str]
    environment: dict[str, str]
    notify_access: str
    limits: Limits
    working_directory: str


def _in_child(job: Job, who: Identity) -> dict[str, Any]:
    _load_everything_first()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become the unit's user, check, report, exit
        os.close(read_end)
        status = 0
        try:
            _become(who)
            problem = working_directory(job.working_directory, job.environment)
            document = _as_document(Report(None, [problem])) if problem else _check_as_service(job)
        except BaseException as e:  # whatever happens, the parent gets a finding
            document = {"error": f"{type(e).__name__}: {e}"}
            status = 70
        data = json.dumps(document).encode()
        with os.fdopen(write_end, "wb") as out:
            out.write(data)
        os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as source:
        data = source.read()
    os.waitpid(pid, 0)
    try:
        return dict(json.loads(data))
    except ValueError:
        return {"error": "the check's child process gave no report"}


def _load_everything_first() -> None:
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
    "tomllib",
    "golaunch.checks",
    "golaunch.cli",
    "golaunch.commands",
    "golaunch.host.credentials",
    "golaunch.host.program",
    "golaunch.probes",
)
_CHECK_CODECS = ("ascii", "latin-1", "unicode_escape", "utf-8")


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
    from golaunch.cli import cli_values, parse
    from golaunch.commands import check_report
    from golaunch.config.file import locate_config_file
    from golaunch.config.validate import ConfigInvalid, load
    from golaunch.host.context import build_context
    from golaunch.report import render_json
    from golaunch.systemd.manager import KnownView, UnitView

    try:
        options = parse(job.argv[1:])
    except UsageError as e:
        message = str(e).splitlines()[0]
        return _as_document(Report(None, [failed("config", f"ExecStart=: {message}")]))
    if options is None:
        return _as_document(Report(None, [failed("config", "ExecStart= only asks for help")]))
    values = cli_values(options)
    environment = job.environment
    path = locate_config_file(options["config_path"], environment)
    try:
        config, _ = load(values, environment, path)
    except ConfigInvalid as e:
        return _as_document(Report(values.get("program"), e.findings))
    if config.program is None:
        return _as_document(Report(None, [failed("config", "no program in ExecStart= or config")]))
    ctx = build_context(config, environment, config_path=path, limits=job.limits)
    view = KnownView(UnitView(job.unit, {"NotifyAccess": job.notify_access}, None))
    report = check_report(dataclasses.replace(ctx, manager=view))
    return dict(json.loads(render_json(report)))


def _as_document(report: Report) -> dict[str, Any]:
    from golaunch.report import render_json

    return dict(json.loads(render_json(report)))


def _report(document: Mapping[str, Any], unit: str) -> Report:
    """A Report again from the child's JSON (non-UTF-8 strings came as byte lists)."""
    if "error" in document:
        return Report(None, [failed(NAME, f"checking {unit} failed: {document['error']}")])
    findings = [
        Finding(f["check"], Severity(f["severity"]), _text(f["message"]), _texts(f["fields"]))
        for f in document["findings"]
    ]
    return Report(
        _text(document["program"]) if document["program"] is not None else None,
        findings,
        _texts(document.get("environment") or {}),
        document.get("binary"),
        document.get("probes") or (),
    )


def _text(value: Any) -> str:
    if isinstance(value, list):
        return bytes(value).decode("utf-8", "surrogateescape")
    return str(value)


def _texts(values: Mapping[str, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in values.items()}


def golaunch_units(manager: Manager) -> list[ServiceUnit]:
    """Every loaded service unit whose ExecStart= launches through golaunch. A unit that
    is gone between the listing and the loading is not one any more: skipped."""
    units = []
    for name in manager.service_names():
        try:
            units.append(manager.service(name))
        except UsageError:
            continue
    return [u for u in units if golaunch_command(u) is not None]


def check_each(
    manager: Manager, units: Sequence[ServiceUnit], manager_environment: Sequence[str]
) -> list[Report]:
    """One report per unit: what goes wrong checking one unit is that unit's failure,
    never the end of the whole run (the manager itself going away still is)."""
    reports = []
    for unit in units:
        try:
            report = check_loaded(manager, unit, golaunch_command(unit) or [], manager_environment)
        except (UsageError, PermissionRefused, OSError, ValueError) as e:
            why = getattr(e, "strerror", None) or str(e)
            report = Report(
                None, [failed(NAME, f"checking {unit.name} failed: {why}")], unit=unit.name
            )
        reports.append(report)
    return reports
