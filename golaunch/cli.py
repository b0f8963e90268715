"""The command line: parse and configure (golaunch.config.commandline), check that the
options agree, dispatch to golaunch.commands. Nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from golaunch.config import METRICS_FORMATS
from golaunch.config.commandline import Configured, configure, parse
from golaunch.config.plain import DEFAULT_CONFIG_FILE
from golaunch.status import ExitStatus, UsageError

FLAGS = {
    "report_format": "format",
    "all_units": "all-units",
    "user_manager": "user",
    "user_of": "user-of",
}


def _report_format(options: Mapping[str, Any]) -> str:
    """--format, with --json as its short form; both only with --check."""
    chosen = options["report_format"]
    if options["as_json"]:
        if chosen not in (None, "json"):
            raise UsageError(f"--json and --format {chosen} contradict each other")
        chosen = "json"
    for option in (
        "report_format", "output", "unit", "all_units", "merge", "candidate", "user_manager",
        "user_of",
    ):  # fmt: skip
        if options[option] and not options["check"]:
            flag = FLAGS.get(option, option)
            raise UsageError(f"--{flag} only applies to --check")
    if options["for_program"] and not options["all_units"]:
        raise UsageError("--for-program picks units among --all-units: add --all-units")
    if options["as_json"] and not options["check"]:
        raise UsageError("--json only applies to --check")
    return chosen or "text"


def dispatch(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    options = parse(argv)
    if options is None:
        return ExitStatus.OK
    report_format = _report_format(options)
    if options["check"] and options["print_env"]:
        raise UsageError("--check and --print-env exclude each other")
    if options["reload_pid"] is not None and (
        options["check"] or options["print_env"] or options["command"]
    ):
        raise UsageError("--reload signals a running program: no --check, --print-env or PROGRAM")
    if options["unit"] or options["all_units"]:
        return _check_units(options, report_format)
    if options["candidate"]:
        raise UsageError(
            "--candidate judges a new build for a unit: add --unit NAME, or --all-units "
            "--for-program PATH"
        )
    if options["user_manager"] or options["user_of"]:
        raise UsageError("--user and --user-of choose whose units to check: add --unit NAME")
    if report_format in METRICS_FORMATS:
        raise UsageError(
            f"--format {report_format} reports on units: add --unit NAME or --all-units"
        )
    return _run_configured(argv, options, report_format, environ)


def _check_units(options: Mapping[str, Any], report_format: str) -> int:
    from golaunch import commands

    if options["command"]:
        raise UsageError("--unit and --all-units check units: give no program after --")
    merge = options["merge"]
    if merge and not (options["output"] and options["unit"] and not options["all_units"]):
        raise UsageError("--merge refreshes some units in a file: give --unit NAME and --output")
    if merge and report_format not in METRICS_FORMATS:
        raise UsageError("--merge applies to metrics: add --format prometheus")
    candidate = options["candidate"]
    if candidate and report_format in METRICS_FORMATS:
        raise UsageError(
            "--candidate judges a build not yet in place, which is no unit's state: use "
            "--format text or json"
        )
    if candidate and options["all_units"] and not options["for_program"]:
        raise UsageError(
            "--all-units --candidate would judge one build as every unit's program: add "
            "--for-program INSTALLED, the program it is to replace"
        )
    user = _user(options)
    return commands.check_units(
        options["unit"],
        options["all_units"],
        report_format,
        options["output"],
        merge=merge,
        candidate=candidate,
        for_program=options["for_program"],
        user=user,
    )


def _user(options: Mapping[str, Any]) -> str | None:
    """Whose manager: None for PID 1, "" for the caller's own, or a user's name."""
    if not (options["user_manager"] or options["user_of"]):
        return None
    if options["user_manager"] and options["user_of"]:
        raise UsageError("--user and --user-of exclude each other: --user is your own manager")
    if options["candidate"]:
        raise UsageError(
            "--candidate checks system units: putting the build in place for the check "
            "needs root, and a user manager's check runs as its user"
        )
    return options["user_of"] or ""


def _reload_is_described(configured: Configured) -> None:
    """--reload must be told how the program reloads: golaunch@.service has ExecReload= for
    every instance, and SIGHUP kills a program that has no handler for it."""
    in_file = configured.config_file is not None and "reload" in configured.config_file.parse()
    if "reload" not in configured.values and not in_file:
        where = configured.path or "the TOML file (--config)"
        raise UsageError(
            "--reload: nothing says how this program reloads; add a [reload] section "
            f"(signal, confirm) to {where}, or give --reload-signal or --reload-confirm"
        )


def _run_configured(
    argv: Sequence[str], options: Mapping[str, Any], report_format: str, environ: Mapping[str, str]
) -> int:
    """Launch, --check or --print-env, once the configuration is known (or refused)."""
    from golaunch import commands

    configured = configure(options, environ)
    config, path = configured.config, configured.path
    if config is None:
        return commands.refuse_configuration(
            configured.findings, configured.values, options, environ
        )
    if config.program is None and options["reload_pid"] is None:
        raise UsageError(
            "no program: give one after -- (golaunch -- /opt/app/server) or set `program` "
            f"in {path or DEFAULT_CONFIG_FILE}"
        )
    if options["reload_pid"] is not None:
        _reload_is_described(configured)
        return commands.reload(config, options["reload_pid"], environ)
    if options["print_env"]:
        return commands.print_env(config, environ)
    if options["check"]:
        return commands.check_program(config, environ, report_format, path, options["output"])
    return commands.launch_validated(environ, configured.config_file, config)
