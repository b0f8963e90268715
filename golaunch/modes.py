"""The three things golaunch can do with a validated configuration."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from golaunch.app import Effects, check_report, fail_start, launch, real_execve
from golaunch.config import Config
from golaunch.context import build_context, resolve_notify_mode
from golaunch.exitcodes import ExitStatus
from golaunch.findings import Finding
from golaunch.journal import system_logger
from golaunch.notify import Notifier, NotifyError, connect_notifier


def system_effects(log_target: str, environ: Mapping[str, str]) -> Effects:
    return Effects(
        log=system_logger(log_target, environ).log,
        connect_notifier=connect_notifier,
        execve=real_execve,
        attach_output=_attach_program_streams,
    )


def _attach_program_streams(identifier: str, environ: Mapping[str, str]) -> str | None:
    from golaunch.streams import attach_program_streams

    return attach_program_streams(identifier, environ)


def launch_config(config: Config, environ: Mapping[str, str], config_path: str | None) -> int:
    ctx = build_context(config, environ, dry_run=False, config_path=config_path)
    return launch(ctx, system_effects(config.log.target, environ))


def check(
    config: Config, environ: Mapping[str, str], as_json: bool, config_path: str | None
) -> int:
    from golaunch.report import render_json, render_text

    report = check_report(build_context(config, environ, dry_run=True, config_path=config_path))
    _write(render_json(report) if as_json else render_text(report))
    return ExitStatus.OK if report.ok else ExitStatus.CONFIG


def print_env(config: Config, environ: Mapping[str, str]) -> int:
    ctx = build_context(config, environ, dry_run=True)
    _write("".join(f"{k}={v}\n" for k, v in sorted(ctx.environment.items())))
    return ExitStatus.OK


def invalid_config(
    findings: Sequence[Finding],
    values: Mapping[str, Any],
    options: Mapping[str, Any],
    environ: Mapping[str, str],
) -> int:
    """The configuration did not validate: report it as a launch or a check would."""
    from golaunch.report import Report, render_json, render_text

    program = values.get("program")
    if options["check"] or options["print_env"]:
        report = Report(program, findings)
        _write(render_json(report) if options["as_json"] else render_text(report))
        return ExitStatus.CONFIG
    effects = system_effects(options["log_target"] or "auto", environ)
    notifier: Notifier | None = None
    if resolve_notify_mode(options["notify"] or "auto", environ) == "ready":
        try:
            notifier = effects.connect_notifier(environ)
        except NotifyError:
            notifier = None
    return fail_start(findings, program or "(unknown)", notifier, effects)


def _write(text: str) -> None:
    # Names, values and paths are bytes on Linux; surrogateescape gives back the
    # exact bytes whatever the locale's encoding.
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    sys.stdout.buffer.flush()
