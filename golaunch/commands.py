"""What golaunch can be asked to do, one function each, each returning the exit status:
launch (check, then exec), check_program (print a report), check_units (a report per
unit, or metrics), reload (signal a running program and confirm), print_env, and
refuse_configuration (a configuration that did not validate, reported as the launch or
check it was meant for).

Each takes what it works on: launch, check_program, reload and print_env a validated
configuration; check_units the unit names; refuse_configuration the findings that say
why there is no configuration. Side effects live where they belong: a launch's and a
refusal's in golaunch.launch (the journal, STATUS=, the exec), check_units' in
golaunch.unitcheck (a child per unit, staged credentials), reload's in golaunch.reload
(the signal); the rest print, or write --output.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from golaunch.config import METRICS_FORMATS
from golaunch.config.file import ConfigFile
from golaunch.config.schema import Config
from golaunch.findings import Finding
from golaunch.host.context import build_context
from golaunch.host.execution import resolve_notify_mode
from golaunch.status import ExitStatus, OutputFileError, StandardOutputError

if TYPE_CHECKING:
    from golaunch.config.plain import PlainConfig
    from golaunch.output.metrics import Fleet, Listing
    from golaunch.output.report import Report
    from golaunch.systemd.manager import UserManager


def launch(
    config: Config,
    environ: Mapping[str, str],
    config_path: str | None,
    plain: PlainConfig | None = None,
    argv: Sequence[str] = (),
) -> int:
    """Check and start the program. PLAIN, when given, is the configuration as this start
    read it (golaunch.config.plain), with golaunch's command line ARGV: a start that
    launches then keeps its verdict for the next one (golaunch.launch.plan)."""
    import contextlib

    from golaunch.launch.effects import system_effects
    from golaunch.launch.keeper import keeper
    from golaunch.launch.startup import start

    effects = system_effects(config.log.target, environ)
    keeping = keeper(argv, environ, plain)
    with keeping.recorder if keeping else contextlib.nullcontext():
        ctx = build_context(config, environ, config_path=config_path)
    return start(ctx, effects, keeping)


def launch_read(argv: Sequence[str], environ: Mapping[str, str], plain: PlainConfig) -> int | None:
    """Launch the configuration this start read without validating it (golaunch.config.plain);
    None when the rules find a problem in it, which validation then words."""
    from golaunch.config.rules import semantic_problems
    from golaunch.config.schema import from_plain

    config = from_plain(plain.values)
    if semantic_problems(config):
        return None
    return launch(config, environ, plain.path, plain, argv)


def launch_validated(
    environ: Mapping[str, str], config_file: ConfigFile | None, config: Config
) -> int:
    """Launch a configuration the command line's path validated (click, pydantic): one the
    plain reading does not take, so no plan is kept for it."""
    return launch(config, environ, config_file.path if config_file else None)


def check_program(
    config: Config,
    environ: Mapping[str, str],
    report_format: str,
    config_path: str | None,
    output: str | None = None,
) -> int:
    from golaunch.output.report import check_report

    report = check_report(build_context(config, environ, config_path=config_path))
    _print_report(report, report_format == "json", output)
    return ExitStatus.OK if report.ok else ExitStatus.CONFIG


def check_units(
    names: Sequence[str],
    all_units: bool,
    report_format: str,
    output: str | None,
    *,
    merge: bool = False,
    candidate: str | None = None,
    for_program: str | None = None,
    user: str | None = None,
) -> int:
    """--check --unit NAME / --all-units: each unit as systemd would start it
    (golaunch.unitcheck). Unlike the other commands it forks, becomes each unit's user and
    stages credentials, all inside golaunch.unitcheck. MERGE: refresh these units'
    series in OUTPUT; a unit that is gone loses its series. CANDIDATE: the build to judge
    in place of each unit's program; FOR_PROGRAM: only the units that run that program.
    USER: ask a user's manager instead of PID 1: "" the caller's (--user), or the name of
    a user whose manager a child asks as that user (--user-of, root only), while the
    report is written as golaunch runs."""
    import time

    from golaunch.output.report import SYSTEM

    # A refresh drops the series of units gone from the manager: those the file holds,
    # read here, as whoever writes it (a --user-of child may be unable to read it).
    held = list(_existing(output).startable) if merge and output else None

    def gather(scope: UserManager | None) -> tuple[list[Report], list[str]]:
        return _gather(
            names, all_units, scope, held=held, candidate=candidate, for_program=for_program
        )

    listed_at = time.time()
    if user:
        from golaunch.unitcheck.users import as_user, lookup

        manager = lookup(user).pw_name
        reports, gone = as_user(user, gather)
    else:
        from golaunch.unitcheck.users import calling_user

        scope = calling_user() if user is not None else None
        manager = scope.name if scope else SYSTEM
        reports, gone = gather(scope)
    if report_format in METRICS_FORMATS:
        from golaunch.output.metrics import Listing, unit_of

        listing = None if merge else Listing(listed_at, manager, [unit_of(r) for r in reports])
        _emit_metrics(reports, [(manager, u) for u in gone], report_format, output, listing)
    else:
        from golaunch.output.report import render_units

        single = len(names) == 1 and not all_units
        # Text and JSON hold the services' environments: the file keeps its mode.
        _emit(render_units(reports, report_format == "json", single), output)
    if not all(r.ok for r in reports):
        return ExitStatus.CONFIG
    # A unit whose check could not finish: nothing is known of it, so try again.
    return ExitStatus.OK if all(r.known for r in reports) else ExitStatus.TEMPFAIL


def _gather(
    names: Sequence[str],
    all_units: bool,
    user: UserManager | None,
    *,
    held: Sequence[tuple[str, str]] | None,
    candidate: str | None,
    for_program: str | None,
) -> tuple[list[Report], list[str]]:
    """The reports of the units asked for, from USER's manager or PID 1's, and the units
    that are no golaunch unit (any more): with HELD, the (manager, unit) series of the
    file a refresh merges into, those of the units asked for and of the others the file
    holds for the same manager, whose series go."""
    from golaunch.output.metrics import unit_of
    from golaunch.output.report import SYSTEM
    from golaunch.unitcheck.run import not_golaunch_units, unit_reports

    reports, gone = unit_reports(
        names,
        all_units,
        missing_ok=held is not None,
        candidate=candidate,
        for_program=for_program,
        user=user,
    )
    if held is not None:
        manager = user.name if user else SYSTEM
        seen = {unit_of(r) for r in reports} | set(gone)
        others = sorted(u for m, u in held if m == manager and u not in seen)
        gone = [*gone, *not_golaunch_units(others, user)]
    return reports, gone


def _emit_metrics(
    reports: Sequence[Report],
    gone: Sequence[tuple[str, str]],
    fmt: str,
    output: str | None,
    listing: Listing | None,
) -> None:
    """Metrics for node_exporter, another user: world-readable. Writers of one file take
    turns (the hourly run and each refresh), and each keeps, unit by unit, the newest
    verdict (golaunch.output.metrics.combined). GONE: (manager, unit) of units that are no
    golaunch units any more. LISTING: the run over every unit of a manager; None for a
    refresh."""
    from golaunch.output import metrics

    fresh = metrics.from_reports(reports, listing)
    if output is None:
        _write(metrics.render(fresh, fmt))
        return
    from golaunch.output.atomic import exclusive

    try:
        with exclusive(output):
            written = metrics.combined(_existing(output), fresh, gone, listing)
            _emit(metrics.render(written, fmt), output, 0o644)
    except OSError as e:
        raise OutputFileError(f"cannot write {output}: {e.strerror or e}") from None


def _existing(path: str) -> Fleet:
    """The series already in PATH; none when it is missing or not one golaunch wrote."""
    from golaunch.output import metrics
    from golaunch.readfile import read_regular_file

    try:
        return metrics.from_text(read_regular_file(path, 64 << 20).decode("utf-8", "replace"))
    except (OSError, ValueError):
        return metrics.empty()


def reload(config: Config, pid: int, environ: Mapping[str, str]) -> int:
    """--reload PID, as a unit's ExecReload= (golaunch.reload), answering before systemd's
    own timeout for it (the unit's TimeoutStartSec=) runs out."""
    from golaunch.reload.run import (
        Deadline,
        environment_notifier,
        process_age,
        reload_budget,
        reload_program,
    )
    from golaunch.systemd.journal import finding_fields, system_logger
    from golaunch.systemd.manager import own_start_timeout

    logger = system_logger(config.log.target, environ)
    program = config.program or f"PID {pid}"
    import time

    seconds, note = reload_budget(config.reload.timeout, own_start_timeout())
    deadline = Deadline(seconds, note, since=time.monotonic() - process_age())

    def log(finding: Finding) -> None:
        logger.log(finding_fields(finding, program))

    notifier = environment_notifier(environ)
    return reload_program(config.reload, pid, notifier, log, deadline=deadline)


def print_env(config: Config, environ: Mapping[str, str]) -> int:
    ctx = build_context(config, environ)
    _write("".join(f"{k}={v}\n" for k, v in sorted(ctx.shown_environment.items())))
    return ExitStatus.OK


def refuse_configuration(
    findings: Sequence[Finding],
    cli_values: Mapping[str, Any],
    options: Mapping[str, Any],
    environ: Mapping[str, str],
) -> int:
    """The configuration did not validate: report it as a launch or a check would."""
    from golaunch.output.report import Report

    program = cli_values.get("program")
    if options["check"] or options["print_env"]:
        as_json = options["as_json"] or options.get("report_format") == "json"
        _print_report(Report(program, findings), as_json, options.get("output"))
        return ExitStatus.CONFIG
    from golaunch.launch import finish
    from golaunch.launch.effects import system_effects
    from golaunch.launch.startup import connect

    notify_mode = resolve_notify_mode(options["notify"] or "auto", environ)
    effects = system_effects(options["log_target"] or "auto", environ)
    notifier, _ = connect(notify_mode, environ, effects, None)
    return finish.refuse(findings, program or "(unknown)", notifier, effects)


def _print_report(report: Report, as_json: bool, output: str | None = None) -> None:
    from golaunch.output.report import render_json, render_text

    _emit(render_json(report) if as_json else render_text(report), output)


def _emit(text: str, output: str | None, mode: int | None = None) -> None:
    if output is None:
        _write(text)
        return
    from golaunch.output.atomic import write_atomically

    try:
        write_atomically(output, text, mode)
    except OSError as e:
        raise OutputFileError(f"cannot write {output}: {e.strerror or e}") from None


def _write(text: str) -> None:
    # Names, values and paths are bytes on Linux; surrogateescape gives back the
    # exact bytes whatever the locale's encoding (reports are escaped before this).
    if sys.stdout is None:
        raise StandardOutputError("cannot write to standard output: it is closed")
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
        sys.stdout.buffer.flush()
    except OSError as e:
        # What is still buffered would fail again at exit (status 120): let it go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise StandardOutputError(f"cannot write to standard output: {e.strerror or e}") from None
