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
from golaunch.fleet.credentials import stage
from golaunch.fleet.environment import NAME, Identity, identity, rebuild
from golaunch.fleet.limits import unit_limits
from golaunch.host.cgroups import Limits
from golaunch.report import Report
from golaunch.status import PermissionRefused, UsageError
from golaunch.systemd.manager import Manager, ServiceUnit


def golaunch_command(unit: ServiceUnit) -> list[str] | None:
    """The argv of the unit's ExecStart= command that runs golaunch, if one does."""
    for path, argv in unit.exec_start:
        if os.path.basename(path) == "golaunch":
            return argv
        if argv[1:3] == ["-m", "golaunch"] or argv[1:4] == ["-I", "-m", "golaunch"]:
            return [argv[0], *argv[argv.index("golaunch") + 1 :]]
    return None


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
            argv,
            environment,
            str(unit.service.get("NotifyAccess", "none")),
            unit_limits(manager, unit),
            str(unit.service.get("WorkingDirectory") or "/"),
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
        *(dataclasses.replace(f, message=as_the_service_sees(f.message)) for f in report.findings),
    ]
    shown = {k: as_the_service_sees(v) for k, v in report.environment.items()}
    return Report(report.program, findings, shown, report.binary, report.probes, unit=unit.name)


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
            _become(who, job.working_directory, job.environment)
            document = _check_as_service(job)
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
    import contextlib
    import importlib

    from golaunch.config.validate import ConfigInvalid, load

    for module in _CHECK_IMPORTS:
        importlib.import_module(module)
    with contextlib.suppress(ConfigInvalid):
        load({"program": "/"}, {}, None)


_CHECK_IMPORTS = (
    "golaunch.checks",
    "golaunch.cli",
    "golaunch.commands",
    "golaunch.host.credentials",
    "golaunch.host.program",
    "golaunch.probes",
)


def _become(who: Identity, directory: str, environment: Mapping[str, str]) -> None:
    if os.geteuid() == 0 and who.uid != 0:
        os.setgroups(who.groups)
        os.setgid(who.gid)
        os.setuid(who.uid)
    if directory.startswith("~"):
        directory = environment.get("HOME", "/")
    os.chdir(directory.lstrip("!-") or "/")


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
    """Every loaded service unit whose ExecStart= runs golaunch."""
    units = [manager.service(name) for name in manager.service_names()]
    return [u for u in units if golaunch_command(u) is not None]
