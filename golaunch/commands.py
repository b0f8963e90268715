"""What golaunch can be asked to do: launch, check, print the environment, or refuse.

Each takes a validated configuration (or, for refuse, the findings that say why
there is none) and returns the exit status. `launch` hands its side effects to
golaunch.launch.startup; `check_units` has its own (a child per unit, staged
credentials), inside golaunch.unitcheck; the others only print.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from golaunch.config.file import ConfigFile
from golaunch.config.schema import Config
from golaunch.findings import Finding
from golaunch.host.context import build_context, resolve_notify_mode
from golaunch.status import ExitStatus, OutputFileError, StandardOutputError


def launch(config: Config, environ: Mapping[str, str], config_path: str | None) -> int:
    from golaunch.launch.effects import system_effects
    from golaunch.launch.startup import start

    ctx = build_context(config, environ, config_path=config_path)
    return start(ctx, system_effects(config.log.target, environ))


def launch_validated(
    argv: Sequence[str], environ: Mapping[str, str], config_file: ConfigFile | None, config: Config
) -> int:
    """Launch a configuration validated just now, and remember it for the next start."""
    from golaunch.config import cache

    cache.store(argv, environ, config_file, config)
    return launch(config, environ, config_file.path if config_file else None)


def check(
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
    names: Sequence[str], all_units: bool, report_format: str, output: str | None
) -> int:
    """--check --unit NAME / --all-units: each unit as systemd would start it
    (golaunch.unitcheck). Unlike the other commands it forks, becomes each unit's user and
    stages credentials, all inside golaunch.unitcheck.run."""
    from golaunch.unitcheck.run import check_units as collect

    reports = collect(names, all_units)
    if report_format == "openmetrics":
        import time

        from golaunch.output.metrics import render_openmetrics

        text = render_openmetrics(reports, time.time())
    else:
        from golaunch.output.report import render_units

        single = len(names) == 1 and not all_units
        text = render_units(reports, report_format == "json", single)
    # Metrics are for node_exporter, another user: world-readable. The other formats
    # hold the services' environments, so they keep the file's mode or the umask's.
    _emit(text, output, 0o644 if report_format == "openmetrics" else None)
    return ExitStatus.OK if all(r.ok for r in reports) else ExitStatus.CONFIG


def print_env(config: Config, environ: Mapping[str, str]) -> int:
    ctx = build_context(config, environ)
    _write("".join(f"{k}={v}\n" for k, v in sorted(ctx.shown_environment.items())))
    return ExitStatus.OK


def refuse(
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
    from golaunch.launch.effects import system_effects
    from golaunch.launch.startup import refuse_start

    notify_mode = resolve_notify_mode(options["notify"] or "auto", environ)
    effects = system_effects(options["log_target"] or "auto", environ)
    return refuse_start(findings, program or "(unknown)", notify_mode, environ, effects)


def _print_report(report: Any, as_json: bool, output: str | None = None) -> None:
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
