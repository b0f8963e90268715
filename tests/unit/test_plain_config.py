"""golaunch.config.plain against validation (click, pydantic-settings, tomllib, the rules):
the same configuration, or None.

Command lines, GOLAUNCH_* variables and TOML files are generated from the schema,
with right and wrong types, unknown keys and options, usage errors and values
click parses in its own way. Where the plain reading gives a configuration,
validation must give the same one; where validation refuses, the plain reading
must give None or a configuration the rules refuse (the launch path then
validates, and says why).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golaunch.config import plain, schema
from golaunch.config.commandline import configure, parse
from golaunch.config.plain import PlainConfig, read_plain_config
from golaunch.config.rules import semantic_problems
from golaunch.status import UsageError
from tests.unit.test_toml import same

KIND_OF_HINT = {
    "str": plain.STR,
    "str | None": plain.OPTIONAL_STR,
    "bool": plain.BOOL,
    "int": plain.INT,
    "float": plain.FLOAT,
    "tuple[str, ...]": plain.STRINGS,
    "collections.abc.Mapping[str, str]": plain.TABLE,
}


def kind_of(hint: object) -> object:
    if typing.get_origin(hint) is typing.Literal:
        return typing.get_args(hint)
    return KIND_OF_HINT[str(hint).replace("typing.", "").replace("<class '", "").rstrip("'>")]


def test_the_plain_schema_is_the_schema() -> None:
    """golaunch.config.plain.SCHEMA and golaunch.config.schema describe the same keys."""
    defaults = schema.to_plain(schema.Config())
    for field in dataclasses.fields(schema.Config):
        hints = typing.get_type_hints(schema.Config)
        if field.default_factory is dataclasses.MISSING:  # program, args
            assert plain.TOP[field.name] == (kind_of(hints[field.name]), defaults[field.name])
            continue
        section = field.default_factory
        section_hints = typing.get_type_hints(section)
        described = {
            key: (kind_of(section_hints[key]), value) for key, value in defaults[field.name].items()
        }
        assert plain.SCHEMA[field.name] == described


def validated(argv: list[str], environ: Mapping[str, str]) -> dict[str, Any] | None:
    """What the command line's own path makes of a launch: the configuration, or None."""
    try:
        options = parse(argv)
    except UsageError:
        return None
    if options is None or options["check"] or options["print_env"] or options["unit"]:
        return None
    try:
        configured = configure(options, environ)
    except UsageError:
        return None
    if configured.config is None or configured.config.program is None:
        return None
    return schema.to_plain(configured.config)


text = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=8)
path_like = st.sampled_from(["/opt/app/server", "/usr/lib/go", "/var/cache/a b", "~/x", "é"]) | text
good = {
    plain.STR: path_like,
    plain.OPTIONAL_STR: path_like,
    plain.BOOL: st.booleans(),
    plain.INT: st.integers(-5, 500),
    plain.FLOAT: st.floats(0, 2, allow_nan=False) | st.integers(0, 3),
    plain.STRINGS: st.lists(path_like, max_size=3),
    plain.TABLE: st.dictionaries(
        st.sampled_from(["A", "GOROOT", "PATH", "B C", "x=y"]), path_like, max_size=3
    ),
}
wrong = st.sampled_from([1, 1.5, True, "x", ["x"], {"k": "v"}, [1], {"k": 1}])


def rarely(odd: st.SearchStrategy[Any], usual: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """ODD one time in eight. Hypothesis favours small integers, so not `n == 0`."""
    return st.integers(0, 7).flatmap(lambda n: odd if n == 5 else usual)


def value_for(kind: object) -> st.SearchStrategy[object]:
    """Mostly of the right type: a wrong one ends the case at validation's first step."""
    if isinstance(kind, tuple):
        right = st.sampled_from(kind)
        return rarely(st.sampled_from(["READY", "other"]), right)
    return rarely(wrong, good[kind])  # type: ignore[index]


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


@st.composite
def toml_file(draw: st.DrawFn) -> str:
    lines = []
    for key, (kind, _) in plain.TOP.items():
        if draw(st.booleans()):
            lines.append(f"{key} = {toml_value(draw(value_for(kind)))}")
    for section, keys in plain.SCHEMA.items():
        chosen = draw(st.lists(st.sampled_from(sorted(keys)), max_size=3, unique=True))
        if not chosen and not draw(rarely(st.just(True), st.just(False))):
            continue
        lines.append(f"[{section}]")
        lines += [f"{key} = {toml_value(draw(value_for(keys[key][0])))}" for key in chosen]
    if draw(rarely(st.just(True), st.just(False))):
        lines.append(draw(st.sampled_from(["unknown = 1", "[nosuch]", "go = 1", "args = 'x'"])))
    return "\n".join(lines) + "\n"


ODD_VALUES = st.sampled_from(
    ["", "-x", "--", "abc", "inf", "nan", "=x", "noassign", " 0.25 ", "1_0"]
)
PATHS = ["/usr/lib/go", "/var/cache/app", "/opt/x y"]
PROBES = ["tcp://127.0.0.1:1", "http://127.0.0.1:2/health"]
VALUES_BY_KIND = {
    plain.VALUE: PATHS,
    plain.NUMBER: ["0.5", "1e-1", "0", "1", "0.25"],
    plain.REPEATED: ["APP_*", "X"],
    plain.ASSIGNMENTS: ["A=1", "B=x=y", "PATH=/bin", "GOROOT=/g", "C="],
}
VALUES_BY_NAME = {
    "--notify": ["auto", "ready", "passthrough", "none"],
    "--log-target": ["auto", "journal", "stderr"],
    "--go-version": [">=1.22", "1.21", ">=1.22, <1.28"],
    "--ready-probe": PROBES,
    "--wait-for": PROBES,
    "--reload-confirm": [*PROBES, "metrics:http://127.0.0.1:3/metrics"],
    "--reload-signal": ["HUP", "USR1"],
    "--require-lib": ["libpq.so.5"],
    "--syslog-identifier": ["app"],
}


def option_value(name: str) -> st.SearchStrategy[str]:
    right = st.sampled_from(VALUES_BY_NAME.get(name) or VALUES_BY_KIND[plain.OPTIONS[name][2]])
    return rarely(ODD_VALUES, right)


@st.composite
def command_line(draw: st.DrawFn, config: str) -> list[str]:
    argv: list[str] = []
    for _ in range(draw(st.integers(0, 5))):
        odd = draw(rarely(st.just(True), st.just(False)))
        name = draw(
            st.sampled_from(["--check", "--json", "--nosuch", "-x"] if odd else list(plain.OPTIONS))
        )
        if name in ("-c", "--config"):
            argv += [name, config] if draw(st.booleans()) else [f"{name}={config}"]
        elif name in plain.OPTIONS and plain.OPTIONS[name][2] == plain.FLAG:
            argv.append(draw(rarely(st.just(f"{name}=1"), st.just(name))))
        elif name in plain.OPTIONS:
            value = draw(option_value(name))
            argv += [f"{name}={value}"] if draw(st.booleans()) else [name, value]
        else:
            argv.append(name)
    if not draw(rarely(st.just(True), st.just(False))):
        if draw(st.booleans()):
            argv.append("--")
        argv += [draw(st.sampled_from(["/opt/app/server", "server", "-", "/x y"]))]
        argv += draw(st.lists(st.sampled_from(["--listen", ":8080", "--", "-v", "x"]), max_size=3))
    return argv


VARIABLES = {
    "GOLAUNCH_PROGRAM": ["/opt/app/other"],
    "GOLAUNCH_GO__VERSION": [">=1.21"],
    "GOLAUNCH_GO__GOROOT": ["/usr/lib/go"],
    "GOLAUNCH_NOTIFY__MODE": ["ready", "passthrough"],
    "GOLAUNCH_LOG__SYSLOG_IDENTIFIER": ["app"],
    "GOLAUNCH_RELOAD__SIGNAL": ["USR2"],
}
ODD_VARIABLES = ["golaunch_go__version", "GOLAUNCH_ARGS", "GOLAUNCH_GO__MIN_FREE_MB",
                 "GOLAUNCH_NOSUCH", "GOLAUNCH_ENVIRONMENT__KEEP"]  # fmt: skip


@st.composite
def variables(draw: st.DrawFn) -> dict[str, str]:
    names = draw(st.lists(st.sampled_from(sorted(VARIABLES)), max_size=2, unique=True))
    chosen = {name: draw(st.sampled_from(VARIABLES[name])) for name in names}
    if draw(rarely(st.just(True), st.just(False))):
        chosen[draw(st.sampled_from(ODD_VARIABLES))] = draw(st.sampled_from(['["a"]', "12", ""]))
    return chosen


def test_the_plain_reading_is_validation_or_nothing(tmp_path: Path) -> None:
    config = tmp_path / "golaunch.toml"
    seen: collections.Counter[str] = collections.Counter()

    @settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def compare(data: st.DataObject) -> None:
        config.write_text(data.draw(toml_file()))
        argv = data.draw(command_line(str(config)))
        environ = {"PATH": "/usr/bin:/bin", **data.draw(variables())}
        if data.draw(st.booleans()):
            environ["GOLAUNCH_CONFIG"] = str(config)
        ours = read_plain_config(argv, environ)
        theirs = validated(argv, environ)
        seen[f"ours {ours is not None}, validation {theirs is not None}"] += 1
        if ours is None:
            return
        if theirs is None:
            problems = semantic_problems(schema.from_plain(ours.values))
            assert problems, f"{argv} {environ}: validation refused what was read"
            return
        assert same(ours.values, theirs), f"{argv} {environ}\n{ours.values}\n{theirs}"
        assert ours.path in (str(config), None)

    compare()
    # Most cases must end in a configuration both agree on, or the property proved little.
    assert seen["ours True, validation True"] >= 400, seen
    assert seen["ours False, validation False"] >= 200, seen


@pytest.mark.parametrize(
    "argv",
    [
        ["--", "/opt/app/server", "--listen", ":8080"],
        ["--config", "CONFIG"],
        ["-c", "CONFIG", "--", "/opt/app/server"],
        ["-cCONFIG", "--set-env", "GOMAXPROCS=2", "--keep-env", "APP_*", "/opt/app/server", "-v"],
        ["--goroot", "/usr/lib/go", "--go-version", ">=1.22", "--notify", "none", "--", "x"],
        ["--set-env", "GOROOT=/g", "--goroot=/g", "--", "x"],
    ],
)
def test_the_launches_in_the_manual_are_read(argv: list[str], tmp_path: Path) -> None:
    """The common command lines of golaunch(1) and the shipped units take the fast path."""
    config = tmp_path / "app.toml"
    config.write_text('program = "/opt/app/server"\n[go]\nversion = ">=1.21"\n')
    argv = [a.replace("CONFIG", str(config)) for a in argv]
    ours = read_plain_config(argv, {"PATH": "/bin"})
    assert isinstance(ours, PlainConfig)
    assert same(ours.values, validated(argv, {"PATH": "/bin"}))
