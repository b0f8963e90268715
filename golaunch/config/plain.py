"""A launch's configuration read from this start's own inputs, without click or pydantic.

Every start reads its configuration afresh: the command line, the GOLAUNCH_*
variables and the TOML file. Nothing a service can write (its cache) is taken
for it. Validation proper (golaunch.config.validate, with click and pydantic)
costs some 150 ms of imports, so this module reads the common case itself: a
launch with options it knows, string-valued GOLAUNCH_* settings, and a file in
golaunch.syntax.toml's subset, each value of exactly its schema type. It gives
the configuration as `to_plain` (golaunch.config.schema) would, with the
dedicated variables folded as validation folds them, or None for anything
else; the caller then validates. tests/unit/test_plain_config.py holds it to
validation: the same configuration, or None.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # every start reads its configuration here: no typing
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

Location = tuple[str, ...]  # a key: ("go", "goroot"), ("environment", "set", "PATH")
Problem = tuple[Location, str]  # a key and what is wrong with its value

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_CONFIG_FILE = "/etc/golaunch/golaunch.toml"
MAX_CONFIG_BYTES = 1 << 20  # a configuration is a few hundred bytes

STR, OPTIONAL_STR, BOOL, INT, FLOAT, STRINGS, TABLE = (
    "str", "str | None", "bool", "int", "float", "tuple[str, ...]", "Mapping[str, str]",
)  # fmt: skip
# Every key with its type and default: golaunch.config.schema's classes, as data
# (tests/unit/test_plain_config.py holds the two to each other). A tuple of
# strings as the type is a choice among them.
SCHEMA: dict[str, dict[str, tuple[object, object]]] = {
    "go": {
        "goroot": (OPTIONAL_STR, None),
        "required": (BOOL, False),
        "version": (OPTIONAL_STR, None),
        "match_binary": (("off", "release", "exact"), "off"),
        "gocache": (OPTIONAL_STR, None),
        "gomodcache": (OPTIONAL_STR, None),
        "create_dirs": (BOOL, True),
        "min_free_mb": (INT, 64),
        "toolchain": (STR, "local"),
        "memlimit_ratio": (FLOAT, 0.9),
    },
    "environment": {
        "path": (STR, DEFAULT_PATH),
        "keep": (STRINGS, ()),
        "set": (TABLE, {}),
    },
    "notify": {
        "mode": (("auto", "ready", "passthrough", "none"), "auto"),
        "probe": (OPTIONAL_STR, None),
        "probe_timeout": (FLOAT, 0.0),
        "probe_interval": (FLOAT, 0.2),
        "probe_attempt_timeout": (FLOAT, 1.0),
        "watchdog": (BOOL, False),
    },
    "log": {
        "target": (("auto", "journal", "stderr"), "auto"),
        "syslog_identifier": (OPTIONAL_STR, None),
    },
    "libraries": {"require": (STRINGS, ())},
    "security": {"strict": (BOOL, False)},
    "wait": {"probes": (STRINGS, ()), "timeout": (FLOAT, 0.0)},
    "credentials": {"env": (TABLE, {}), "file_env": (TABLE, {})},
    "reload": {"signal": (STR, "HUP"), "confirm": (OPTIONAL_STR, None), "timeout": (FLOAT, 90.0)},
}
TOP = {"program": (OPTIONAL_STR, None), "args": (STRINGS, ())}

# Variables that have a key of their own, which the checks judge: in environment.set,
# they are moved there, so that what is checked is what the program gets.
DEDICATED = {
    "GOROOT": ("go", "goroot"),
    "GOCACHE": ("go", "gocache"),
    "GOMODCACHE": ("go", "gomodcache"),
    "GOTOOLCHAIN": ("go", "toolchain"),
    "PATH": ("environment", "path"),
}

# The command line of a launch: option -> (section, key, how it is given).
VALUE, FLAG, REPEATED, ASSIGNMENTS, NUMBER = "value", "flag", "repeated", "assignments", "number"
OPTIONS: dict[str, tuple[str | None, str, str]] = {
    "--goroot": ("go", "goroot", VALUE),
    "--go-version": ("go", "version", VALUE),
    "--gocache": ("go", "gocache", VALUE),
    "--gomodcache": ("go", "gomodcache", VALUE),
    "--memlimit-ratio": ("go", "memlimit_ratio", NUMBER),
    "--keep-env": ("environment", "keep", REPEATED),
    "--set-env": ("environment", "set", ASSIGNMENTS),
    "--require-lib": ("libraries", "require", REPEATED),
    "--credential-env": ("credentials", "env", ASSIGNMENTS),
    "--credential-file-env": ("credentials", "file_env", ASSIGNMENTS),
    "--wait-for": ("wait", "probes", REPEATED),
    "--wait-timeout": ("wait", "timeout", NUMBER),
    "--ready-probe": ("notify", "probe", VALUE),
    "--ready-timeout": ("notify", "probe_timeout", NUMBER),
    "--watchdog": ("notify", "watchdog", FLAG),
    "--reload-signal": ("reload", "signal", VALUE),
    "--reload-confirm": ("reload", "confirm", VALUE),
    "--reload-timeout": ("reload", "timeout", NUMBER),
    "--notify": ("notify", "mode", VALUE),
    "--log-target": ("log", "target", VALUE),
    "--syslog-identifier": ("log", "syslog_identifier", VALUE),
    "--config": (None, "config", VALUE),
    "-c": (None, "config", VALUE),
}


class Unreadable(Exception):
    """Not a launch this module reads exactly as validation would: validation decides."""


class PlainConfig:
    """VALUES: the whole configuration, shaped as golaunch.config.schema.to_plain gives it;
    PATH: the configuration file it came from (None: none)."""

    __slots__ = ("path", "values")

    def __init__(self, values: dict[str, Any], path: str | None) -> None:
        self.values = values
        self.path = path


def read_plain_config(argv: Sequence[str], environ: Mapping[str, str]) -> PlainConfig | None:
    """The configuration of a launch with ARGV and ENVIRON, or None (see the module)."""
    try:
        given, option_path = _command_line(argv)
        path = _config_path(option_path, environ)
        layers = [_file_values(path) if path is not None else {}, _variables(environ), given]
        values = _complete(layers)
        if values["program"] is None:
            return None  # a usage error, worded by validation
        folded, conflicts, _ = fold_dedicated(values)
        return None if conflicts else PlainConfig(folded, path)
    except (Unreadable, OSError, ValueError, OverflowError):
        return None


def _command_line(argv: Sequence[str]) -> tuple[dict[str, Any], str | None]:
    """The settings ARGV gives, shaped like the configuration, and --config, as click
    parses them; Unreadable for anything but a launch with known options."""
    given: dict[str, Any] = {}
    path = None
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            i += 1
            break
        if not token.startswith("-") or token == "-":
            break
        name, value, i = _option(argv, i)
        section, key, how = OPTIONS[name]
        if section is None:
            path = value
            continue
        table = given.setdefault(section, {})
        if how == FLAG:
            table[key] = True
        elif how == NUMBER:
            table[key] = float(value)
        elif how == REPEATED:
            table.setdefault(key, []).append(value)
        elif how == ASSIGNMENTS:
            from golaunch.syntax.envname import invalid_name_reason

            variable, sep, assigned = value.partition("=")
            if not sep or invalid_name_reason(variable):
                raise Unreadable  # a usage error, worded by the command line's parser
            table.setdefault(key, {})[variable] = assigned
        else:
            table[key] = value  # the last one given wins, as with click
    if i < len(argv):
        given["program"], given["args"] = argv[i], list(argv[i + 1 :])
    return given, path


def _option(argv: Sequence[str], i: int) -> tuple[str, str, int]:
    """The option at argv[i], its value ("" for a flag) and the index after them."""
    token = argv[i]
    if token.startswith("--"):
        name, sep, value = token.partition("=")
    elif token.startswith("-c") and len(token) > 2:
        name, sep, value = "-c", "=", token[2:]
    else:
        name, sep, value = token, "", ""
    if name not in OPTIONS:
        raise Unreadable  # --check, --help, a typo: not a launch, or not known here
    if OPTIONS[name][2] == FLAG:
        if sep:
            raise Unreadable
        return name, "", i + 1
    if not sep:
        if i + 1 >= len(argv):
            raise Unreadable
        value = argv[i + 1]
        i += 1
    if value.startswith("-"):
        raise Unreadable  # click's rules for a value that looks like an option are subtle
    return name, value, i + 1


def _config_path(option: str | None, environ: Mapping[str, str]) -> str | None:
    """--config, else $GOLAUNCH_CONFIG, else the default file when it exists."""
    if option is not None:
        return option or _unreadable()
    if environ.get("GOLAUNCH_CONFIG"):
        return environ["GOLAUNCH_CONFIG"]
    return DEFAULT_CONFIG_FILE if os.path.exists(DEFAULT_CONFIG_FILE) else None


def _unreadable() -> str:
    raise Unreadable


def _file_values(path: str) -> dict[str, Any]:
    from golaunch.readfile import read_regular_file
    from golaunch.syntax.toml import read_toml

    data = read_regular_file(path, MAX_CONFIG_BYTES)
    if len(data) > MAX_CONFIG_BYTES:
        raise Unreadable
    values = read_toml(data.decode("utf-8"))
    if values is None:
        raise Unreadable
    return values


def _variables(environ: Mapping[str, str]) -> dict[str, Any]:
    """The GOLAUNCH_* settings whose values are strings: GOLAUNCH_PROGRAM and
    GOLAUNCH_SECTION__KEY. pydantic-settings reads names in any case and lists as
    JSON; those are left to it."""
    values: dict[str, Any] = {}
    for name, value in environ.items():
        upper = name.upper()
        if not upper.startswith("GOLAUNCH_") or name == "GOLAUNCH_CONFIG":
            continue
        if name != upper:
            raise Unreadable
        if name == "GOLAUNCH_PROGRAM":
            values["program"] = value
            continue
        section, sep, key = name[9:].lower().partition("__")
        expected = SCHEMA.get(section, {}).get(key, (None,))[0]
        if not sep or not (expected in (STR, OPTIONAL_STR) or isinstance(expected, tuple)):
            raise Unreadable
        values.setdefault(section, {})[key] = value
    return values


def _complete(layers: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every key: from the highest layer that gives it (tables merged key by key, as
    pydantic-settings merges its sources), else its default; each of its exact type."""
    for layer in layers:
        _check_keys(layer)
    values = {
        key: _setting(key, spec, [layer.get(key) for layer in layers]) for key, spec in TOP.items()
    }
    for section, keys in SCHEMA.items():
        tables = [layer.get(section, {}) for layer in layers]
        values[section] = {
            key: _setting(key, spec, [table.get(key) for table in tables])
            for key, spec in keys.items()
        }
    return values


def _check_keys(layer: Mapping[str, Any]) -> None:
    for name, value in layer.items():
        if name in TOP:
            continue
        if name not in SCHEMA or not isinstance(value, dict) or not set(value) <= set(SCHEMA[name]):
            raise Unreadable  # an unknown key or a section of the wrong type: worded there


def _setting(key: str, spec: tuple[object, object], given: Sequence[object]) -> object:
    expected, default = spec
    present = [value for value in given if value is not None]
    if not present:
        return dict(default) if isinstance(default, dict) else default
    if expected == TABLE:
        merged: dict[str, str] = {}
        for table in present:
            if not isinstance(table, dict):
                raise Unreadable
            merged.update(table)
        return _typed(expected, merged)
    return _typed(expected, present[-1])


def _typed(expected: object, value: object) -> object:
    """VALUE as validation would give it for the EXPECTED type, when it is of exactly that."""
    if expected in (STR, OPTIONAL_STR) and isinstance(value, str):
        return value
    if isinstance(expected, tuple) and value in expected:
        return value
    if expected == BOOL and isinstance(value, bool):
        return value
    if expected == INT and type(value) is int and -(2**63) <= value < 2**63:
        return value
    if expected == FLOAT and type(value) in (int, float):
        return float(value)  # type: ignore[arg-type]
    if expected == STRINGS and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if (
        expected == TABLE
        and isinstance(value, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    ):
        return value
    raise Unreadable


def fold_dedicated(
    values: Mapping[str, Any],
) -> tuple[dict[str, Any], list[Problem], dict[Location, Location]]:
    """Move environment.set's GOROOT, GOCACHE, GOMODCACHE, GOTOOLCHAIN and PATH into their
    own keys, so that what is checked is what the program gets. Both given, differently: a
    problem naming both. Returns the configuration, the problems, and where each moved
    key's value was written."""
    folded = {k: dict(v) if isinstance(v, dict) else v for k, v in values.items()}
    assignments = dict(folded["environment"]["set"])
    problems: list[Problem] = []
    written: dict[Location, Location] = {}
    for name, (section, key) in DEDICATED.items():
        if name not in assignments:
            continue
        value = assignments.pop(name)
        written[(section, key)] = ("environment", "set", name)
        given = folded[section][key]
        if given not in (None, SCHEMA[section][key][1], value):
            why = f"differs from {section}.{key} = {given!r}; give one of them"
            problems.append((("environment", "set", name), why))
        folded[section][key] = value
    folded["environment"]["set"] = assignments
    return folded, problems, written
