"""What golaunch can be asked to do: launch, check, print the environment, or refuse.

Each takes a validated configuration (or, for refuse, the findings that say why
there is none) and returns the exit status. Only `launch` has side effects
beyond printing, and it hands them to golaunch.startup.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from golaunch.config.file import ConfigFile
from golaunch.config.schema import Config
from golaunch.findings import Finding
from golaunch.host.context import LaunchContext, build_context, resolve_notify_mode
from golaunch.status import ExitStatus, OutputError, OutputFileError

if TYPE_CHECKING:
    from golaunch.report import Report


def launch(config: Config, environ: Mapping[str, str], config_path: str | None) -> int:
    from golaunch.effects import system_effects
    from golaunch.startup import launch as start

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
    report = check_report(build_context(config, environ, config_path=config_path))
    _print_report(report, report_format == "json", output)
    return ExitStatus.OK if report.ok else ExitStatus.CONFIG


def check_report(ctx: LaunchContext) -> Report:
    """Every check run over CTX, as --check reports it (also --check --unit's child)."""
    from golaunch.checks import run_checks
    from golaunch.host.program import binary_document
    from golaunch.report import Report

    return Report(
        ctx.program_label,
        run_checks(ctx),
        ctx.shown_environment,
        binary_document(ctx.inspection),
        probes_shown(ctx.config),
    )


def check_units(
    names: Sequence[str], all_units: bool, report_format: str, output: str | None
) -> int:
    """--check --unit NAME / --all-units: each unit as systemd would start it (golaunch.fleet)."""
    import time

    from golaunch.fleet.check import check_each, check_unit, golaunch_units
    from golaunch.report import render_json, render_text
    from golaunch.systemd.manager import Manager

    manager = Manager()
    environment = manager.environment()
    reports = []
    if all_units:
        reports += check_each(manager, golaunch_units(manager), environment)
    reports += [check_unit(manager, name, environment) for name in names]
    if report_format == "openmetrics":
        from golaunch.fleet.metrics import render_openmetrics

        text = render_openmetrics(reports, time.time())
    elif report_format == "json":
        documents = [json.loads(render_json(r)) for r in reports]
        single = len(names) == 1 and not all_units
        text = json.dumps(documents[0] if single else {"units": documents}, indent=2) + "\n"
    elif reports:
        text = "".join(render_text(r) for r in reports)
    else:
        text = "golaunch: no loaded service runs golaunch\n"
    # Metrics are for node_exporter, another user: world-readable. The other formats
    # hold the services' environments, so they keep the file's mode or the umask's.
    _emit(text, output, 0o644 if report_format == "openmetrics" else None)
    return ExitStatus.OK if all(r.ok for r in reports) else ExitStatus.CONFIG


def probes_shown(config: Config) -> list[dict[str, Any]]:
    """The configured probes as --check shows them: parsed, not run."""
    from golaunch.probes import parse_probe

    roles = [("wait", url) for url in config.wait.probes]
    if config.notify.probe:
        roles.append(("watchdog" if config.notify.watchdog else "ready", config.notify.probe))
    shown = []
    for role, url in roles:
        probe = parse_probe(url)  # validated already
        target = probe.path if probe.scheme in ("unix", "file") else f"{probe.host}:{probe.port}"
        if probe.scheme in ("http", "https"):
            target += probe.path
        shown.append({"role": role, "url": url, "scheme": probe.scheme, "target": target})
    return shown


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
    from golaunch.report import Report

    program = cli_values.get("program")
    if options["check"] or options["print_env"]:
        as_json = options["as_json"] or options.get("report_format") == "json"
        _print_report(Report(program, findings), as_json, options.get("output"))
        return ExitStatus.CONFIG
    from golaunch.effects import system_effects
    from golaunch.startup import refuse_start

    notify_mode = resolve_notify_mode(options["notify"] or "auto", environ)
    effects = system_effects(options["log_target"] or "auto", environ)
    return refuse_start(findings, program or "(unknown)", notify_mode, environ, effects)


def _print_report(report: Any, as_json: bool, output: str | None = None) -> None:
    from golaunch.report import render_json, render_text

    _emit(render_json(report) if as_json else render_text(report), output)


def _emit(text: str, output: str | None, mode: int | None = None) -> None:
    if output is None:
        _write(text)
        return
    from golaunch.fleet.metrics import write_atomically

    try:
        write_atomically(output, text, mode)
    except OSError as e:
        raise OutputFileError(f"cannot write {output}: {e.strerror or e}") from None


def _write(text: str) -> None:
    # Names, values and paths are bytes on Linux; surrogateescape gives back the
    # exact bytes whatever the locale's encoding (reports are escaped before this).
    if sys.stdout is None:
        raise OutputError("cannot write to standard output: it is closed")
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
        sys.stdout.buffer.flush()
    except OSError as e:
        # What is still buffered would fail again at exit (status 120): let it go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise OutputError(f"cannot write to standard output: {e.strerror or e}") from None
