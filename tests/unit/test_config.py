"""Configuration: precedence, and a clear `config` finding with exit 78 for every bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golaunch.config.file import ConfigFile
from golaunch.config.validate import ConfigInvalid, validate

FULL = """
program = "/opt/app/server"
args = ["--listen", ":8080"]
[go]
goroot = "/usr/local/go"
required = false
version = ">=1.22, <1.28"
match_binary = "off"
gocache = "/var/cache/app/go-build"
gomodcache = "/var/cache/app/mod"
create_dirs = true
min_free_mb = 64
toolchain = "local"
[environment]
path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
keep = ["MYAPP_*"]
set = { GOMAXPROCS = "2" }
[notify]
mode = "auto"
[log]
target = "auto"
"""


def file(text: str, path: str = "/etc/golaunch/test.toml") -> ConfigFile:
    return ConfigFile(path, text.encode())


def test_the_documented_example_validates() -> None:
    config = validate({}, {}, file(FULL))
    assert config.program == "/opt/app/server"
    assert config.args == ("--listen", ":8080")
    assert config.go.version == ">=1.22, <1.28"
    assert config.environment.keep == ("MYAPP_*",)
    assert config.environment.set == {"GOMAXPROCS": "2"}


def test_command_line_over_environment_over_file_over_defaults() -> None:
    toml = file('[go]\nversion = "1.19"\ngocache = "/file/cache"\ngomodcache = "/file/mod"\n')
    environ = {"GOLAUNCH_GO__GOCACHE": "/env/cache", "GOLAUNCH_GO__VERSION": "1.20"}
    config = validate({"go": {"version": "1.21"}}, environ, toml)
    assert config.go.version == "1.21"  # command line
    assert config.go.gocache == "/env/cache"  # environment over file
    assert config.go.gomodcache == "/file/mod"  # file over default
    assert config.go.min_free_mb == 64  # default


def test_command_line_set_env_merges_with_the_file_by_name() -> None:
    toml = file('[environment]\nset = { A = "file", B = "file" }\n')
    config = validate({"environment": {"set": {"B": "cli"}}}, {}, toml)
    assert config.environment.set == {"A": "file", "B": "cli"}


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        (
            '[go]\nverison = "1.2"\n',
            {},
            "unknown key 'go.verison' in /etc/golaunch/test.toml; allowed in [go]: goroot",
        ),
        ('colour = "red"\n', {}, "unknown key 'colour'"),
        (
            '[go]\nmin_free_mb = "lots"\n',
            {},
            "go.min_free_mb in /etc/golaunch/test.toml: Input should be a valid integer",
        ),
        (
            '[notify]\nmode = "sometimes"\n',
            {},
            "notify.mode in /etc/golaunch/test.toml: "
            "Input should be 'auto', 'ready', 'passthrough' or 'none'",
        ),
        ('args = "--flag"\n', {}, "args in /etc/golaunch/test.toml"),
        (
            '[go]\nversion = ">=1.x"\n',
            {},
            "go.version in /etc/golaunch/test.toml: '1.x' is not a Go version",
        ),
        ('[environment]\nset = { "A B" = "1" }\n', {}, "contains whitespace"),
        ('[environment]\nset = { "" = "1" }\n', {}, "must not be empty"),
        (
            "[go]\nmin_free_mb = -1\n",
            {},
            "go.min_free_mb in /etc/golaunch/test.toml: must be 0 or more",
        ),
        ("[go]\nmemlimit_ratio = 1.5\n", {}, "go.memlimit_ratio in /etc/golaunch/test.toml: 1.5"),
        ("[go]\nmemlimit_ratio = nan\n", {}, "from 0 (off) to 1"),
        ("", {"GOLAUNCH_GO__MEMLIMIT_RATIO": "-0.1"}, "from 0 (off) to 1"),
        ('program = ""\n', {}, "program in /etc/golaunch/test.toml: must not be empty"),
        ('[environment]\nkeep = [""]\n', {}, "an empty pattern"),
        ("", {"GOLAUNCH_GO__MIN_FREE_MB": "x"}, "in environment variable GOLAUNCH_GO__MIN_FREE_MB"),
        (
            "",
            {"GOLAUNCH_COLOUR": "red"},
            "environment variable GOLAUNCH_COLOUR is not a golaunch setting",
        ),
        ("program = [\n", {}, "/etc/golaunch/test.toml: invalid TOML"),
        ("", {"GOLAUNCH_ARGS": "-v"}, "environment variable GOLAUNCH_ARGS is not JSON"),
        ("", {"GOLAUNCH_ENVIRONMENT": "{bad"}, "environment variable GOLAUNCH_ENVIRONMENT is not"),
        ('[go]\nversion = "1"\n[go]\nversion = "2"\n', {}, "invalid TOML"),
        ('program = "a\\u0000b"\n', {}, "contains a NUL byte"),
        ('program = "a"\nprogram = "b"\n', {}, "invalid TOML: Cannot overwrite a value"),
        ('program = "~/bin/server"\n', {}, "'~/bin/server' starts with ~, which golaunch does not"),
        ('[go]\ngoroot = "~/go"\n', {}, "go.goroot in /etc/golaunch/test.toml: '~/go' starts"),
        ('[go]\ngoroot = ""\n', {}, "go.goroot in /etc/golaunch/test.toml: must not be empty;"),
        ('[go]\ngocache = ""\n', {}, "go.gocache in /etc/golaunch/test.toml: must not be empty"),
        (f'program = "/{"a" * 5000}"\n', {}, "is 5001 characters, longer than any path"),
        ('[environment]\npath = ""\n', {}, "environment.path in /etc/golaunch/test.toml: must"),
        ('[environment]\npath = "bin:/usr/bin"\n', {}, "entry 'bin' is not absolute"),
        ('[environment]\npath = "/bin::/usr/bin"\n', {}, "entry '' is not absolute"),
        ('[environment]\nkeep = ["A=B"]\n', {}, "pattern 'A=B' contains '=' or whitespace"),
        ('[libraries]\nrequire = [""]\n', {}, "an empty library name"),
    ],
    ids=[
        "unknown-key",
        "unknown-top-level-key",
        "wrong-type",
        "bad-choice",
        "string-for-list",
        "bad-constraint",
        "name-with-space",
        "empty-name",
        "negative",
        "ratio-above-one",
        "ratio-nan",
        "ratio-negative-variable",
        "empty-program",
        "empty-glob",
        "bad-env-value",
        "unknown-env-setting",
        "invalid-toml",
        "args-variable-not-json",
        "table-variable-not-json",
        "duplicate-table",
        "nul-byte",
        "duplicate-key",
        "tilde-program",
        "tilde-goroot",
        "empty-goroot",
        "empty-gocache",
        "path-longer-than-path-max",
        "empty-search-path",
        "relative-search-path",
        "empty-search-path-entry",
        "keep-pattern-with-equals",
        "empty-library",
    ],
)
def test_bad_configuration_is_a_config_finding(
    text: str, environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigInvalid) as error:
        validate({}, environ, file(text))
    messages = [f.message for f in error.value.findings]
    assert all(f.check == "config" for f in error.value.findings)
    assert any(expected in m for m in messages), messages


# Every key of the schema, and values of every TOML type, in and out of place.
SCHEMA_KEYS = {
    (): ["program", "args", "go", "environment", "notify", "log", "libraries", "security"],
    ("go",): ["goroot", "required", "version", "match_binary", "gocache", "gomodcache",
              "create_dirs", "min_free_mb", "toolchain", "memlimit_ratio"],
    ("environment",): ["path", "keep", "set"],
    ("notify",): ["mode"],
    ("log",): ["target", "syslog_identifier"],
    ("libraries",): ["require"],
    ("security",): ["strict"],
}  # fmt: skip
SCALARS = (
    st.text(max_size=20)
    | st.integers(-(2**70), 2**70)
    | st.booleans()
    | st.floats(allow_nan=True)
    | st.sampled_from(["", "~", "/", "1.22", ">=1.21", "auto", "ready", "a=b", "\x7f", "\0"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, object]:
    document: dict[str, object] = {}
    for _ in range(draw(st.integers(0, 6))):
        section = draw(st.sampled_from(list(SCHEMA_KEYS)))
        key = draw(st.sampled_from(SCHEMA_KEYS[section]) | st.text(min_size=1, max_size=6))
        table = document
        for part in section:
            table = table.setdefault(part, {})  # type: ignore[assignment]
            if not isinstance(table, dict):
                break
        else:
            table[key] = draw(VALUES)
    return document


def _variables() -> st.SearchStrategy[dict[str, str]]:
    names = st.sampled_from(
        ["GOLAUNCH_ARGS", "GOLAUNCH_GO", "GOLAUNCH_GO__VERSION", "GOLAUNCH_GO__MIN_FREE_MB",
         "GOLAUNCH_ENVIRONMENT", "GOLAUNCH_ENVIRONMENT__SET", "GOLAUNCH_ENVIRONMENT__KEEP",
         "GOLAUNCH_LOG__TARGET", "GOLAUNCH_SECURITY__STRICT", "GOLAUNCH_PROGRAM", "GOLAUNCH_X"]
    )  # fmt: skip
    values = st.text(max_size=20) | VALUES.map(json.dumps)
    # A real environment cannot hold a NUL: execve's strings end at the first one.
    return st.dictionaries(names, values.filter(lambda v: "\0" not in v), max_size=3)


@settings(max_examples=300, deadline=None)
@given(document=documents(), environ=_variables())
def test_any_document_and_variables_validate_or_say_why(
    document: dict[str, object], environ: dict[str, str]
) -> None:
    """Whatever the file and the GOLAUNCH_* variables hold: a Config or config findings,
    never another exception (which would be exit 70)."""
    text = "".join(f"{_string(key)} = {_toml(value)}\n" for key, value in document.items())
    try:
        validate({}, environ, file(text))
    except ConfigInvalid as e:
        assert e.findings and all(f.check == "config" and f.message for f in e.findings)


def _toml(value: object) -> str:
    """VALUE as an inline TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_string(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return _string(value) if isinstance(value, str) else str(value)


def _string(text: str) -> str:
    # JSON would escape astral characters as surrogate pairs, which TOML refuses; TOML
    # wants DEL escaped, which JSON leaves alone.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


@pytest.mark.parametrize(
    ("name", "section", "key"),
    [
        ("GOROOT", "go", "goroot"),
        ("GOCACHE", "go", "gocache"),
        ("GOMODCACHE", "go", "gomodcache"),
        ("GOTOOLCHAIN", "go", "toolchain"),
        ("PATH", "environment", "path"),
    ],
)
def test_set_of_a_dedicated_variable_is_judged_as_its_key(
    name: str, section: str, key: str
) -> None:
    """What is checked is what the program gets: environment.set's value becomes the key's."""
    config = validate({"environment": {"set": {name: "/x/y", "OTHER": "1"}}}, {}, None)
    assert getattr(getattr(config, section), key) == "/x/y"
    assert config.environment.set == {"OTHER": "1"}


def test_set_and_the_dedicated_key_disagreeing_names_both() -> None:
    with pytest.raises(ConfigInvalid) as raised:
        validate({"go": {"gocache": "/a"}, "environment": {"set": {"GOCACHE": "/b"}}}, {}, None)
    (finding,) = raised.value.findings
    assert finding.message == (
        "environment.set.GOCACHE on the command line: differs from go.gocache = '/a'; "
        "give one of them"
    )


@pytest.mark.parametrize("path", ["bin:/usr/bin", "/usr/bin::/bin", ""])
def test_set_path_is_held_to_the_path_rules(path: str) -> None:
    with pytest.raises(ConfigInvalid) as raised:
        validate({}, {}, file(f'[environment]\nset = {{ PATH = "{path}" }}\n'))
    (finding,) = raised.value.findings
    assert finding.message.startswith("environment.set.PATH in /etc/golaunch/test.toml: ")


@pytest.mark.parametrize(
    ("variable", "value", "section", "key", "expected"),
    [
        ("GOLAUNCH_ENVIRONMENT__KEEP", '["MYAPP_*"]', "environment", "keep", ("MYAPP_*",)),
        ("GOLAUNCH_ENVIRONMENT__SET", '{"A": "x"}', "environment", "set", {"A": "x"}),
        ("GOLAUNCH_LIBRARIES__REQUIRE", '["libpq.so.5"]', "libraries", "require", ("libpq.so.5",)),
        ("golaunch_environment__keep", '["B*"]', "environment", "keep", ("B*",)),
    ],
)
def test_documented_json_in_nested_variables(
    variable: str, value: str, section: str, key: str, expected: object
) -> None:
    config = validate({}, {variable: value}, None)
    assert getattr(getattr(config, section), key) == expected


def test_nested_variable_tables_merge_under_the_command_line() -> None:
    environ = {"GOLAUNCH_ENVIRONMENT__SET": '{"A": "env", "B": "env"}'}
    config = validate({"environment": {"set": {"B": "cli"}}}, environ, None)
    assert config.environment.set == {"A": "env", "B": "cli"}


# Deeper than any interpreter's json decodes: Python 3.13's takes 3,000 levels, which
# 3.11's refused (then pydantic's "should be a valid string" is the finding).
DEEP = 50_000


@pytest.mark.parametrize(
    ("environ", "toml"),
    [
        ({}, "args = " + "[" * 1000 + "]" * 1000 + "\n"),
        ({"GOLAUNCH_ARGS": "[" * DEEP + "]" * DEEP}, ""),
        ({"GOLAUNCH_ENVIRONMENT__SET": '{"a":' * DEEP + "1" + "}" * DEEP}, ""),
    ],
    ids=["toml", "variable", "nested-variable"],
)
def test_absurd_nesting_is_a_config_finding(environ: dict[str, str], toml: str) -> None:
    with pytest.raises(ConfigInvalid) as raised:
        validate({}, environ, file(toml) if toml else None)
    (finding,) = raised.value.findings
    assert "nested too deeply" in finding.message


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"notify": {"probe": "ftp://x"}}, "notify.probe on the command line: 'ftp://x' is not"),
        (
            {"wait": {"probes": ["tcp://db"]}},
            "wait.probes on the command line: 'tcp://db' names no port",
        ),
        ({"notify": {"probe": "tcp://a:1", "probe_interval": 0}}, "notify.probe_interval"),
        ({"notify": {"probe": "tcp://a:1", "probe_timeout": -1}}, "notify.probe_timeout"),
        ({"wait": {"timeout": float("nan")}}, "wait.timeout"),
        ({"notify": {"watchdog": True}}, "notify.watchdog on the command line: needs notify.probe"),
    ],
)
def test_probe_settings_are_config_findings(values: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigInvalid) as raised:
        validate(values, {}, None)
    assert any(says in f.message for f in raised.value.findings), raised.value.findings


@pytest.mark.parametrize(
    ("inherited", "severity"),
    [
        ({"NOTIFY_SOCKET": "/run/notify"}, "fail"),  # under systemd: the unit lacks WatchdogSec=
        ({}, "warn"),  # --check from a shell
        ({"NOTIFY_SOCKET": "/run/notify", "WATCHDOG_USEC": "2000000"}, None),
    ],
)
def test_watchdog_needs_watchdogsec(inherited: dict[str, str], severity: str | None) -> None:
    from golaunch.checks import config as config_check
    from golaunch.config.schema import Config, NotifyConfig
    from golaunch.host.context import build_context

    config = Config(
        program="/bin/true", notify=NotifyConfig(probe="tcp://127.0.0.1:1", watchdog=True)
    )
    findings = [
        f for f in config_check.check(build_context(config, inherited)) if "watchdog" in f.message
    ]
    assert [f.severity.value for f in findings] == ([severity] if severity else [])


@pytest.mark.parametrize(
    ("text", "cli", "key"),
    [
        ("[reload]\ntimeout = true\n", {}, "reload.timeout"),
        ("[go]\nmemlimit_ratio = false\n", {}, "go.memlimit_ratio"),
        ("[go]\nmin_free_mb = true\n", {}, "go.min_free_mb"),
        ("", {"notify": {"probe_timeout": True}}, "notify.probe_timeout"),
    ],
)
def test_a_boolean_is_never_a_number(text: str, cli: dict[str, object], key: str) -> None:
    """pydantic takes true as 1: `timeout = true` was a one-second timeout (issue 31)."""
    with pytest.raises(ConfigInvalid) as error:
        validate(cli, {}, file(text))
    (finding,) = error.value.findings
    assert finding.message.startswith(key) and "is not a number" in finding.message
