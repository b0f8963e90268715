"""The command line: parse, find the configuration file, validate, dispatch. Nothing else.

Imported only on the slow path (see golaunch.__main__): click and pydantic
cost more than golaunch's whole budget for a service start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import click

from golaunch import __version__
from golaunch.config import DEFAULT_CONFIG_FILE
from golaunch.configfile import ConfigFile, ConfigFileError, read_config_file
from golaunch.environment import invalid_name_reason
from golaunch.errors import UsageError
from golaunch.exitcodes import ExitStatus
from golaunch.findings import Finding, failed

_CONTEXT = {"help_option_names": ["-h", "--help"], "allow_interspersed_args": False}


@click.command(context_settings=_CONTEXT, no_args_is_help=False)
@click.option(
    "-c",
    "--config",
    "config_path",
    metavar="FILE",
    help=f"TOML file [default: $GOLAUNCH_CONFIG, else {DEFAULT_CONFIG_FILE} if it exists].",
)
@click.option(
    "--check",
    is_flag=True,
    help="Run every check, print a report, exit 0 or 78. Never notifies or execs.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="With --check: the report as one JSON document."
)
@click.option(
    "--print-env", is_flag=True, help="Print the environment the program would get, and exit."
)
@click.option("--goroot", metavar="DIR", help="The Go toolchain to check and export as GOROOT.")
@click.option(
    "--go-version", metavar="SPEC", help='Constraint on the toolchain, e.g. ">=1.22, <1.28".'
)
@click.option("--gocache", metavar="DIR", help="GOCACHE for the program.")
@click.option("--gomodcache", metavar="DIR", help="GOMODCACHE for the program.")
@click.option(
    "--keep-env",
    metavar="GLOB",
    multiple=True,
    help="Also inherit variables matching GLOB (repeatable).",
)
@click.option(
    "--set-env",
    metavar="NAME=VALUE",
    multiple=True,
    help="Set a variable for the program (repeatable).",
)
@click.option(
    "--require-lib",
    metavar="SONAME",
    multiple=True,
    help="A library the program dlopen()s (repeatable).",
)
@click.option(
    "--notify",
    type=click.Choice(["auto", "ready", "passthrough", "none"]),
    help="sd_notify mode [default: auto].",
)
@click.option(
    "--log-target",
    type=click.Choice(["auto", "journal", "stderr"]),
    help="Where findings go [default: auto].",
)
@click.option(
    "--syslog-identifier",
    metavar="NAME",
    help="SYSLOG_IDENTIFIER for the program's output [default: its basename].",
)
@click.version_option(
    __version__, "--version", prog_name="golaunch", message="%(prog)s %(version)s"
)
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="[--] [PROGRAM [ARG]...]")
def command(**options: Any) -> None:
    """Check what a Go program needs from the host, then exec it (same PID)."""
    click.get_current_context().obj = options


def parse(argv: Sequence[str]) -> dict[str, Any] | None:
    """The parsed options, or None when click already answered (--help, --version)."""
    try:
        context = command.make_context("golaunch", list(argv))
        with context:
            command.invoke(context)
        return dict(context.obj)
    except click.exceptions.Exit:
        return None
    except click.UsageError as e:
        raise UsageError(f"{e.format_message()}\nTry 'golaunch --help' for help.") from None


def cli_values(options: Mapping[str, Any]) -> dict[str, Any]:
    """The settings given on the command line, shaped like the configuration."""
    values: dict[str, Any] = {}

    def put(section: str | None, key: str, value: Any) -> None:
        if value is None or value == ():
            return
        target = values.setdefault(section, {}) if section else values
        target[key] = value

    command_line = options["command"]
    if command_line:
        put(None, "program", command_line[0])
        put(None, "args", list(command_line[1:]))
    put("go", "goroot", options["goroot"])
    put("go", "version", options["go_version"])
    put("go", "gocache", options["gocache"])
    put("go", "gomodcache", options["gomodcache"])
    put("environment", "keep", list(options["keep_env"]) or None)
    put("environment", "set", _assignments(options["set_env"]) or None)
    put("libraries", "require", list(options["require_lib"]) or None)
    put("notify", "mode", options["notify"])
    put("log", "target", options["log_target"])
    put("log", "syslog_identifier", options["syslog_identifier"])
    return values


def _assignments(items: Sequence[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--set-env {item!r}: expected NAME=VALUE")
        reason = invalid_name_reason(name)
        if reason:
            raise UsageError(f"--set-env {item!r}: {reason}")
        result[name] = value
    return result


def config_file_path(option: str | None, environ: Mapping[str, str]) -> str | None:
    if option is not None:
        return option
    if environ.get("GOLAUNCH_CONFIG"):
        return environ["GOLAUNCH_CONFIG"]
    return DEFAULT_CONFIG_FILE if os.path.exists(DEFAULT_CONFIG_FILE) else None


def run(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    options = parse(argv)
    if options is None:
        return ExitStatus.OK
    if options["as_json"] and not options["check"]:
        raise UsageError("--json only applies to --check")
    if options["check"] and options["print_env"]:
        raise UsageError("--check and --print-env exclude each other")
    values = cli_values(options)
    from golaunch import modes
    from golaunch.settings import ConfigInvalid, validate

    path = config_file_path(options["config_path"], environ)
    try:
        config_file = _read(path)
        config = validate(values, environ, config_file)
    except ConfigInvalid as e:
        return modes.invalid_config(e.findings, values, options, environ)
    if config.program is None:
        raise UsageError(
            "no program: give one after -- (golaunch -- /opt/app/server) or set `program` "
            f"in {path or DEFAULT_CONFIG_FILE}"
        )
    if options["print_env"]:
        return modes.print_env(config, environ)
    if options["check"]:
        return modes.check(config, environ, options["as_json"], path)
    from golaunch import settings_cache

    settings_cache.store(argv, environ, config_file, config)
    return modes.launch_config(config, environ, path)


def _read(path: str | None) -> ConfigFile | None:
    from golaunch.settings import ConfigInvalid

    if path is None:
        return None
    try:
        return read_config_file(path)
    except ConfigFileError as e:
        raise ConfigInvalid([_file_finding(path, e)]) from None


def _file_finding(path: str, error: ConfigFileError) -> Finding:
    return failed("config", str(error), GOLAUNCH_PATH=path)
