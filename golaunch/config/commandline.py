"""The command line to a configuration: one place, for a start and for a unit's check.

`parse` reads argv with click; `configure` merges its settings over GOLAUNCH_*
and the TOML file into a validated Config (golaunch.config.validate). golaunch.cli
runs both for the command it was given; golaunch.unitcheck's child runs both
for the ExecStart= of the unit it checks, so the two can never judge one command
line differently. Imported only on the slow path (see golaunch.__main__): click
and pydantic cost more than golaunch's whole budget for a service start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import click

from golaunch import __version__
from golaunch.config import REPORT_FORMATS
from golaunch.config.file import ConfigFile, locate_config_file
from golaunch.config.plain import DEFAULT_CONFIG_FILE
from golaunch.config.schema import Config
from golaunch.findings import Finding
from golaunch.status import UsageError
from golaunch.syntax.envname import invalid_name_reason

_CONTEXT = {"help_option_names": ["-h", "--help"], "allow_interspersed_args": False}


def _repeatable(name: str, metavar: str, help: str) -> Callable[[Any], Any]:
    return click.option(name, metavar=metavar, multiple=True, help=help)


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
@_repeatable("--unit", "NAME", "With --check: check service NAME as systemd would start it.")
@click.option(
    "--all-units", is_flag=True, help="With --check: every loaded service that runs golaunch."
)
@click.option(
    "--user",
    "user_manager",
    is_flag=True,
    help="With --unit/--all-units: ask your own service manager (systemctl --user).",
)
@click.option(
    "--user-of",
    metavar="USER",
    help="With --unit/--all-units, as root: ask USER's service manager, as USER.",
)
@click.option(
    "--candidate",
    metavar="PATH",
    help="With --check --unit: judge the build at PATH in place of the unit's program.",
)
@click.option(
    "--for-program",
    metavar="PATH",
    help="With --all-units: only the units whose program is PATH.",
)
@click.option(
    "--format",
    "report_format",
    type=click.Choice(REPORT_FORMATS),
    help="With --check: the report's format [default: text]; the metrics formats need units.",
)
@click.option(
    "--output", metavar="FILE", help="With --check: write the report to FILE, atomically."
)
@click.option(
    "--merge",
    is_flag=True,
    help="With --unit and --output: replace only these units' series in FILE.",
)
@click.option("--goroot", metavar="DIR", help="The Go toolchain to check and export as GOROOT.")
@click.option(
    "--go-version", metavar="SPEC", help='Constraint on the toolchain, e.g. ">=1.22, <1.28".'
)
@click.option("--gocache", metavar="DIR", help="GOCACHE for the program.")
@click.option(
    "--memlimit-ratio",
    type=float,
    metavar="R",
    help="GOMEMLIMIT = R times the cgroup's memory limit; 0: off [default: 0.9].",
)
@click.option("--gomodcache", metavar="DIR", help="GOMODCACHE for the program.")
@_repeatable("--keep-env", "GLOB", "Also inherit variables matching GLOB (repeatable).")
@_repeatable("--set-env", "NAME=VALUE", "Set a variable for the program (repeatable).")
@_repeatable("--require-lib", "SONAME", "A library the program dlopen()s (repeatable).")
@_repeatable(
    "--credential-env", "NAME=CRED", "Set NAME to the contents of credential CRED (repeatable)."
)
@_repeatable(
    "--credential-file-env", "NAME=CRED", "Set NAME to the path of credential CRED (repeatable)."
)
@_repeatable("--wait-for", "PROBE", "Before the checks, wait until PROBE succeeds (repeatable).")
@click.option("--wait-timeout", type=float, metavar="SECONDS", help="Give up waiting [default: 0].")
@click.option("--ready-probe", metavar="PROBE", help="READY=1 only once PROBE succeeds.")
@click.option(
    "--ready-timeout", type=float, metavar="SECONDS", help="Give up on readiness [default: 0]."
)
@click.option(
    "--watchdog", is_flag=True, default=None, help="After READY=1, WATCHDOG=1 while PROBE passes."
)
@click.option(
    "--reload",
    "reload_pid",
    metavar="PID",
    type=click.IntRange(min=2),
    help="As ExecReload=: signal PID ($MAINPID), exit 0 once the reload is confirmed.",
)
@click.option("--reload-signal", metavar="NAME", help="The signal --reload sends [default: HUP].")
@click.option(
    "--reload-confirm", metavar="WHAT", help="A probe URL, or metrics:URL, that confirms it."
)
@click.option(
    "--reload-timeout",
    metavar="SECONDS",
    type=float,
    help="Give up confirming [default: 90, systemd's own limit].",
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
    put("go", "memlimit_ratio", options["memlimit_ratio"])
    put("environment", "keep", list(options["keep_env"]) or None)
    put("environment", "set", _assignments(options["set_env"], "--set-env") or None)
    put("libraries", "require", list(options["require_lib"]) or None)
    put("notify", "mode", options["notify"])
    put("notify", "probe", options["ready_probe"])
    put("notify", "probe_timeout", options["ready_timeout"])
    put("notify", "watchdog", options["watchdog"])
    put("wait", "probes", list(options["wait_for"]) or None)
    put("wait", "timeout", options["wait_timeout"])
    put("credentials", "env", _assignments(options["credential_env"], "--credential-env") or None)
    put(
        "credentials",
        "file_env",
        _assignments(options["credential_file_env"], "--credential-file-env") or None,
    )
    put("reload", "signal", options["reload_signal"])
    put("reload", "confirm", options["reload_confirm"])
    put("reload", "timeout", options["reload_timeout"])
    put("log", "target", options["log_target"])
    put("log", "syslog_identifier", options["syslog_identifier"])
    return values


def _assignments(items: Sequence[str], option: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"{option} {item!r}: expected NAME=VALUE")
        reason = invalid_name_reason(name)
        if reason:
            raise UsageError(f"{option} {item!r}: {reason}")
        result[name] = value
    return result


class Configured(NamedTuple):
    values: dict[str, Any]  # the command line's settings, shaped like the configuration
    path: str | None  # the configuration file in play
    config: Config | None  # None when it did not validate: FINDINGS say why
    config_file: ConfigFile | None
    findings: list[Finding]


def configure(options: Mapping[str, Any], environ: Mapping[str, str]) -> Configured:
    """The configuration OPTIONS (from `parse`) give with ENVIRON and the TOML file.
    Raises UsageError for a command line that is wrong in itself (--set-env X)."""
    from golaunch.config.validate import ConfigInvalid, load

    values = cli_values(options)
    path = locate_config_file(options["config_path"], environ)
    try:
        config, config_file = load(values, environ, path)
    except ConfigInvalid as e:
        return Configured(values, path, None, None, list(e.findings))
    return Configured(values, path, config, config_file, [])
