"""Check units from outside: ask the manager, rebuild what systemd would give each
service, and have a child that has become the unit's user run golaunch's own checks
(golaunch.unitcheck.child). This side turns the child's JSON back into a Report.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from golaunch.findings import Finding, Severity, failed, skipped
from golaunch.output.report import SYSTEM, Report, from_document
from golaunch.status import ManagerUnavailable, PermissionRefused, UsageError
from golaunch.systemd.manager import Manager, ServiceUnit, UserManager
from golaunch.unitcheck.candidate import (
    Candidate,
    candidate_note,
    installed_program,
    open_candidate,
)
from golaunch.unitcheck.child import Job, in_child
from golaunch.unitcheck.cmdline import expand_command
from golaunch.unitcheck.credentials import Staged, stage
from golaunch.unitcheck.environment import NAME, identity, rebuild, user_identity
from golaunch.unitcheck.limits import unit_limits
from golaunch.unitcheck.private import private_directories


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
    from golaunch.config.commandline import parse

    try:
        options = parse(arguments)
    except UsageError:
        return True
    return options is not None and not (
        options["check"] or options["print_env"] or options["reload_pid"] is not None
    )


def unit_reports(
    names: Sequence[str],
    all_units: bool,
    *,
    missing_ok: bool = False,
    candidate: str | None = None,
    for_program: str | None = None,
    user: UserManager | None = None,
) -> tuple[list[Report], list[str]]:
    """A report for every golaunch unit (ALL_UNITS; with FOR_PROGRAM, those that run it),
    then for each of NAMES; and, with MISSING_OK, the NAMES that are no golaunch unit (any
    more), instead of a UsageError. CANDIDATE: a build to judge in each program's place."""
    if for_program and not os.path.isfile(for_program):
        raise UsageError(f"--for-program {for_program}: no such file")
    build = open_candidate(candidate) if candidate else None
    try:
        manager = Manager(user)
        environment = manager.environment()
        reports = []
        if all_units:
            units = golaunch_units(manager)
            reports = check_each(manager, units, environment, build, for_program)
            if for_program and not reports:
                raise UsageError(
                    f"--for-program {for_program}: no loaded golaunch unit runs it; "
                    "golaunch --check --all-units lists the units and their programs"
                )
        gone = []
        for name in names:
            try:
                reports.append(check_unit(manager, name, environment, build))
            except UsageError:
                if not missing_ok:
                    raise
                gone.append(name)
    finally:
        if build:
            os.close(build.fd)
    return reports, gone


def check_unit(
    manager: Manager,
    name: str,
    manager_environment: Sequence[str],
    candidate: Candidate | None = None,
) -> Report:
    unit = manager.service(name)
    argv = golaunch_command(unit)
    if argv is None:
        shown = " ".join(unit.exec_start[0][1]) if unit.exec_start else "nothing"
        raise UsageError(
            f"--unit {unit.name}: its ExecStart= runs {shown}, which launches no program "
            "through golaunch"
        )
    report = check_loaded(manager, unit, argv, manager_environment, candidate=candidate)
    assert report is not None  # only a FOR_PROGRAM that does not match gives none
    return report


def check_loaded(
    manager: Manager,
    unit: ServiceUnit,
    argv: list[str],
    manager_environment: Sequence[str],
    *,
    candidate: Candidate | None = None,
    for_program: str | None = None,
) -> Report | None:
    """The unit's report; None when FOR_PROGRAM is given and the unit runs another program."""
    checked_at = time.time()  # the verdict is the host as it was from here on
    user = manager.user
    who, notes = (user_identity(user), []) if user else identity(unit.service, unit.main_pid)
    if os.geteuid() != 0 and who.uid != os.geteuid():
        raise PermissionRefused(
            f"--unit {unit.name} runs as uid {who.uid}; checking it as that user needs root"
        )
    staged = stage(unit.service, who)
    runtime = user.runtime if user else "/run"
    staged_path, service_path = staged.directory, f"{runtime}/credentials/{unit.name}"
    try:
        where = service_path if staged_path else None
        systemd = manager.version()
        environment, more = rebuild(
            unit.service, manager_environment, who, where, systemd, user=user
        )
        if staged_path:
            environment["CREDENTIALS_DIRECTORY"] = staged_path
        job = Job(
            unit.name,
            expand_command(argv, environment),
            environment,
            str(unit.service.get("NotifyAccess", "none")),
            unit_limits(manager, unit),
            str(unit.service.get("WorkingDirectory") or ""),
            private_directories(unit.service),
            str(unit.service.get("Type") or "simple"),
            systemd,
        )
        if for_program:
            try:
                installed = installed_program(unit.name, job.argv, job.environment)
            except UsageError:
                return None  # which program it runs cannot be told: not one of those asked
            if not os.path.samefile(installed, for_program):
                return None
        elif candidate:
            installed = installed_program(unit.name, job.argv, job.environment)
        if candidate:
            job = job._replace(candidate=candidate, installed=installed)
        answer = in_child(job, who)
    finally:
        staged.remove()

    def as_the_service_sees(text: str) -> str:
        return text.replace(staged_path, service_path) if staged_path else text

    report = _report(answer, unit.name)
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
    if candidate:
        findings.insert(0, candidate_note(candidate.path, job.installed))
    return Report(
        candidate.path if candidate and report.program else report.program,
        findings,
        shown,
        report.binary,
        report.probes,
        unit=unit.name,
        known=report.known,
        checked_at=checked_at,
        manager=user.name if user else SYSTEM,
    )


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


def not_golaunch_units(names: Sequence[str], user: UserManager | None = None) -> list[str]:
    """The NAMES (units of USER's manager, or PID 1's) that are no golaunch unit any more:
    deleted (not found once loaded), or no longer launching through golaunch. A unit that
    is merely stopped still is one."""
    if not names:
        return []
    manager = Manager(user)
    found = []
    for name in names:
        try:
            if golaunch_command(manager.service(name)) is None:
                found.append(name)
        except UsageError:
            found.append(name)
    return found


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


def unit_programs(
    manager: Manager, units: Sequence[ServiceUnit], manager_environment: Sequence[str]
) -> dict[str, str]:
    """{unit: the program file its golaunch runs}, for each of UNITS where that can be
    told (its configuration names one, and it is installed). Credentials are not staged:
    a program is found on PATH, not in a secret."""
    systemd = manager.version()
    found = {}
    for unit in units:
        argv = golaunch_command(unit)
        if argv is None:
            continue
        user = manager.user
        who = user_identity(user) if user else identity(unit.service, unit.main_pid)[0]
        environment, _ = rebuild(unit.service, manager_environment, who, None, systemd, user=user)
        try:
            found[unit.name] = installed_program(
                unit.name, expand_command(argv, environment), environment
            )
        except UsageError:
            continue
    return found


def check_each(
    manager: Manager,
    units: Sequence[ServiceUnit],
    manager_environment: Sequence[str],
    candidate: Candidate | None = None,
    for_program: str | None = None,
) -> list[Report]:
    """One report per unit (that runs FOR_PROGRAM, when given): what goes wrong checking one
    unit is that unit's failure, never the end of the whole run (the manager itself going
    away still is)."""
    reports = []
    for unit in units:
        argv = golaunch_command(unit) or []
        try:
            report = check_loaded(
                manager,
                unit,
                argv,
                manager_environment,
                candidate=candidate,
                for_program=for_program,
            )
        except ManagerUnavailable:
            raise
        except Exception as e:  # one unit's trouble, whatever it is, is that unit's alone
            why = getattr(e, "strerror", None) or f"{type(e).__name__}: {e}"
            report = Report(
                None,
                [failed(NAME, f"checking {unit.name} failed: {why}")],
                unit=unit.name,
                manager=manager.user.name if manager.user else SYSTEM,
            )
        if report is not None:
            reports.append(report)
    return reports


def _report(document: Mapping[str, Any], unit: str) -> Report:
    """A Report again from the child's JSON."""
    if "error" in document:
        return Report(None, [failed(NAME, f"checking {unit} failed: {document['error']}")])
    if "unknown" in document:
        return Report(None, [skipped(NAME, f"not checked: {document['unknown']}")], known=False)
    return from_document(document)
