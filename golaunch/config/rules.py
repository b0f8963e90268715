"""What types alone cannot say about a configuration: syntax, names, paths, NUL bytes.

Each rule returns (location, problem) pairs; golaunch.config.validate turns them into
findings that name where the value came from (file, variable or option).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from golaunch.config.plain import Location, Problem, fold_dedicated
from golaunch.config.schema import Config, from_plain, to_plain
from golaunch.syntax.envname import invalid_name_reason
from golaunch.syntax.goversion import parse_constraint

# Linux's PATH_MAX, NUL included: no longer path can be opened, let alone exec'd.
PATH_MAX = 4096


def fold_dedicated_variables(
    config: Config,
) -> tuple[Config, list[Problem], dict[Location, Location]]:
    """golaunch.config.plain.fold_dedicated, for a validated configuration: the launch path
    folds the plain values the same way, with the same function."""
    folded, problems, written = fold_dedicated(to_plain(config))
    return from_plain(folded), problems, written


def semantic_problems(config: Config) -> list[Problem]:
    return [
        *_go_problems(config),
        *_path_problems(config),
        *_environment_problems(config),
        *_other_problems(config),
        *_probe_problems(config),
        *_credential_problems(config),
        *_reload_problems(config),
        *((loc, "contains a NUL byte") for loc, value in _strings(config) if "\0" in value),
    ]


def _go_problems(config: Config) -> Iterator[Problem]:
    if config.go.version is not None:
        try:
            parse_constraint(config.go.version)
        except ValueError as e:
            yield ("go", "version"), str(e)
    if config.go.min_free_mb < 0:
        yield ("go", "min_free_mb"), "must be 0 or more"
    if not 0 <= config.go.memlimit_ratio <= 1:
        why = "is not a share of the memory limit: give a number from 0 (off) to 1"
        yield ("go", "memlimit_ratio"), f"{config.go.memlimit_ratio} {why}"


def _path_problems(config: Config) -> Iterator[Problem]:
    """Paths are used as written: no shell expands them, and the kernel limits their length."""
    paths = {
        ("program",): config.program,
        ("go", "goroot"): config.go.goroot,
        ("go", "gocache"): config.go.gocache,
        ("go", "gomodcache"): config.go.gomodcache,
    }
    for loc, path in paths.items():
        if path is None:
            continue
        if path == "":
            default = "" if loc == ("program",) else "; leave it out for the default"
            yield loc, f"must not be empty{default}"
        elif path.startswith("~"):
            why = "which golaunch does not expand (it runs no shell); write the absolute path"
            yield loc, f"{path[:60]!r} starts with ~, {why}"
        elif len(path.encode("utf-8", "surrogateescape")) >= PATH_MAX:
            yield loc, f"is {len(path)} characters, longer than any path can be (PATH_MAX 4096)"


def _environment_problems(config: Config) -> Iterator[Problem]:
    for name in config.environment.set:
        reason = invalid_name_reason(name)
        if reason:
            yield ("environment", "set", name), reason
    for pattern in config.environment.keep:
        if not pattern:
            yield ("environment", "keep"), "an empty pattern matches nothing"
        elif "=" in pattern or any(c.isspace() for c in pattern):
            why = "contains '=' or whitespace, which no variable name has"
            yield ("environment", "keep"), f"pattern {pattern!r} {why}"
    search = config.environment.path
    if search == "":
        yield ("environment", "path"), "must not be empty: the program and go are looked up in it"
    for entry in search.split(":") if search else ():
        if not entry.startswith("/"):
            # An empty or relative entry means the working directory: whoever can
            # write there chooses what runs.
            why = "a relative PATH entry searches the working directory"
            yield ("environment", "path"), f"entry {entry!r} is not absolute; {why}"


def _probe_problems(config: Config) -> Iterator[Problem]:
    from golaunch.syntax.probeurl import parse_probe

    probes = [(("notify", "probe"), config.notify.probe)]
    probes += [(("wait", "probes"), url) for url in config.wait.probes]
    for loc, url in probes:
        if url is not None:
            try:
                parse_probe(url)
            except ValueError as e:
                yield loc, str(e)
    seconds = {
        ("notify", "probe_timeout"): config.notify.probe_timeout,
        ("notify", "probe_interval"): config.notify.probe_interval,
        ("notify", "probe_attempt_timeout"): config.notify.probe_attempt_timeout,
        ("wait", "timeout"): config.wait.timeout,
    }
    for loc, value in seconds.items():
        if not 0 <= value < 1e9 or (value == 0 and loc[1] in _MUST_BE_POSITIVE):
            yield loc, f"{value} is not a number of seconds it can use"
    if config.notify.watchdog and config.notify.probe is None:
        yield ("notify", "watchdog"), "needs notify.probe (--ready-probe): what to keep probing"


_MUST_BE_POSITIVE = frozenset({"probe_interval", "probe_attempt_timeout"})


def _reload_problems(config: Config) -> Iterator[Problem]:
    import signal

    from golaunch.syntax.probeurl import parse_confirm

    reload = config.reload
    name = reload.signal
    if name.startswith("SIG") or f"SIG{name}" not in signal.Signals.__members__:
        yield ("reload", "signal"), f"{name!r} is not a signal name such as HUP, USR1 or USR2"
    elif name in ("KILL", "STOP"):
        yield ("reload", "signal"), f"SIG{name} cannot ask a program to reload"
    if reload.confirm is not None:
        try:
            parse_confirm(reload.confirm)
        except ValueError as e:
            yield ("reload", "confirm"), f"{e}; or metrics:http://HOST:PORT/metrics"
    if not 0 < reload.timeout < 1e9:
        yield ("reload", "timeout"), f"{reload.timeout} is not a number of seconds it can use"


def _credential_problems(config: Config) -> Iterator[Problem]:
    """Names and credentials: what systemd would accept as a credential name
    (a file name in $CREDENTIALS_DIRECTORY), and each variable given once."""
    seen: dict[str, str] = {}
    for key, mapping in (
        ("env", config.credentials.env),
        ("file_env", config.credentials.file_env),
    ):
        for name, credential in mapping.items():
            loc = ("credentials", key, name)
            reason = invalid_name_reason(name)
            if reason:
                yield loc, reason
            if not credential or "/" in credential or credential in (".", ".."):
                why = "is not a credential name (a file name in $CREDENTIALS_DIRECTORY)"
                yield loc, f"{credential!r} {why}"
            if name in config.environment.set:
                yield loc, f"{name} is also in environment.set; give it one source"
            if name in seen:
                yield loc, f"{name} is also set by credentials.{seen[name]}"
            seen[name] = key


def _other_problems(config: Config) -> Iterator[Problem]:
    identifier = config.log.syslog_identifier
    if identifier is not None and (not identifier or not identifier.isprintable()):
        # It becomes one line of the journal stream header.
        yield ("log", "syslog_identifier"), "must be a non-empty name without control characters"
    if any(not name for name in config.libraries.require):
        yield ("libraries", "require"), "an empty library name; write a soname like libpq.so.5"


def _strings(config: Config) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []

    def walk(loc: tuple[str, ...], value: Any) -> None:
        if isinstance(value, str):
            found.append((loc, value))
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk((*loc, str(k)), k)
                walk((*loc, str(k)), v)
        elif isinstance(value, tuple | list):
            for v in value:
                walk(loc, v)

    walk((), dataclasses.asdict(config))
    return found
