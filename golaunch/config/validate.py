"""Validation of the configuration: command line over GOLAUNCH_* over the TOML file over defaults.

This is the only module that imports pydantic. It is imported on the slow path
(first launch with given inputs, --check, --print-env); the launch path reuses
what it produced through `golaunch.config.cache`.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from golaunch.config.file import ConfigFile, ConfigFileError, read_config_file
from golaunch.config.rules import fold_dedicated_variables, semantic_problems
from golaunch.config.schema import Config
from golaunch.findings import Finding, failed

ENV_PREFIX = "GOLAUNCH_"
# GOLAUNCH_CONFIG names the file; it is not a setting.
_NOT_SETTINGS = frozenset({"GOLAUNCH_CONFIG"})


class ConfigInvalid(Exception):
    def __init__(self, findings: Sequence[Finding]) -> None:
        super().__init__("; ".join(f.message for f in findings))
        self.findings = tuple(findings)


class _Values(PydanticBaseSettingsSource):
    """A settings source holding already-parsed values (the TOML file's)."""

    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._values = values

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._values


def _settings_class(file_values: dict[str, Any]) -> type[BaseSettings]:
    class Base(BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
        )

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _Values(settings_cls, file_values))

    # The fields are Config's own: one description of names, types and defaults.
    hints = typing.get_type_hints(Config)
    fields: dict[str, Any] = {
        f.name: (hints[f.name], _default(f)) for f in dataclasses.fields(Config)
    }
    from pydantic import create_model

    return create_model("Settings", __base__=Base, **fields)


def _default(f: dataclasses.Field[Any]) -> Any:
    from pydantic import Field

    if f.default_factory is not dataclasses.MISSING:
        return Field(default_factory=f.default_factory)
    return f.default


def load(
    cli_values: Mapping[str, Any], environ: Mapping[str, str], path: str | None
) -> tuple[Config, ConfigFile | None]:
    """Read the file at PATH (if any) and validate everything; ConfigInvalid says why not."""
    config_file = None
    if path is not None:
        try:
            config_file = read_config_file(path)
        except ConfigFileError as e:
            raise ConfigInvalid([failed("config", str(e), GOLAUNCH_PATH=path)]) from None
    return validate(cli_values, environ, config_file), config_file


def validate(
    cli_values: Mapping[str, Any], environ: Mapping[str, str], config_file: ConfigFile | None
) -> Config:
    """The validated configuration, or ConfigInvalid with one `config` finding per problem."""
    file_values: dict[str, Any] = {}
    if config_file:
        try:
            file_values = config_file.parse()
        except ConfigFileError as e:
            raise ConfigInvalid(
                [failed("config", str(e), GOLAUNCH_PATH=config_file.path)]
            ) from None
    origin = _Origin(cli_values, environ, config_file)
    unknown = [
        failed("config", f"environment variable {name} is not a golaunch setting; {_fix(name)}")
        for name in origin.unknown_variables()
    ]
    nested, rest, not_json = _decode_json_variables(environ)
    if not_json:
        raise ConfigInvalid(unknown + not_json)
    given = _merged(nested, cli_values)  # the command line over the variables
    booleans = [
        origin.semantic_finding(loc, why) for loc, why in _booleans_for_numbers(file_values)
    ]
    booleans += [origin.semantic_finding(loc, why) for loc, why in _booleans_for_numbers(given)]
    if booleans:
        raise ConfigInvalid(unknown + booleans)
    try:
        settings = _with_environ(rest, lambda: _settings_class(file_values)(**given))
    except ValidationError as e:
        raise ConfigInvalid(unknown + [origin.finding(err) for err in e.errors()]) from None
    except SettingsError as e:  # a source failed in a way the decoding did not foresee
        raise ConfigInvalid([*unknown, failed("config", f"environment: {e}")]) from None
    except RecursionError:
        raise ConfigInvalid([*unknown, failed("config", _TOO_DEEP)]) from None
    config = Config(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(Config)})
    config, conflicts, written = fold_dedicated_variables(config)
    problems = unknown + [
        origin.semantic_finding(written.get(loc, loc), msg)
        for loc, msg in conflicts + semantic_problems(config)
    ]
    if problems:
        raise ConfigInvalid(problems)
    return config


_TOO_DEEP = "the configuration is nested too deeply to be a golaunch configuration"


def _booleans_for_numbers(values: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """A true or false where a number goes: pydantic would take it as 1 or 0 (a timeout of
    one second, a ratio of 1), which nobody who wrote `timeout = true` meant."""
    from golaunch.config.plain import FLOAT, INT, SCHEMA

    found: list[tuple[tuple[str, ...], str]] = []
    for section, keys in SCHEMA.items():
        table = values.get(section)
        for key, (expected, _) in keys.items():
            value = table.get(key) if isinstance(table, Mapping) else None
            if expected in (INT, FLOAT) and isinstance(value, bool):
                found.append(((section, key), f"{str(value).lower()} is not a number; write one"))
    return found


def _json_variables() -> dict[str, tuple[str, ...]]:
    """The variables whose value is JSON, by upper-case name: a whole section
    (GOLAUNCH_GO), or a list or table key (GOLAUNCH_ARGS, GOLAUNCH_ENVIRONMENT__KEEP)."""
    names: dict[str, tuple[str, ...]] = {}
    for f in dataclasses.fields(Config):
        if f.name != "program":  # a plain string
            names[f"{ENV_PREFIX}{f.name.upper()}"] = (f.name,)
        section = f.default_factory
        if section is dataclasses.MISSING or not dataclasses.is_dataclass(section):
            continue
        for key, hint in typing.get_type_hints(section).items():
            if typing.get_origin(hint) in (tuple, Mapping, dict):
                names[f"{ENV_PREFIX}{f.name.upper()}__{key.upper()}"] = (f.name, key)
    return names


def _decode_json_variables(
    environ: Mapping[str, str],
) -> tuple[dict[str, Any], dict[str, str], list[Finding]]:
    """Lists and tables given in variables, decoded here: pydantic-settings decodes a
    whole section's JSON but leaves a list inside a dataclass section a string, and
    says nothing of which variable was not JSON. Returns the nested keys' values,
    the environment for pydantic-settings without them, and a finding per bad one."""
    import json

    known = _json_variables()
    nested: dict[str, Any] = {}
    rest = dict(environ)
    problems = []
    for name, value in environ.items():
        loc = known.get(name.upper())
        if loc is None:
            continue
        try:
            decoded = json.loads(value)
        except RecursionError:
            problems.append(failed("config", f"environment variable {name}: {_TOO_DEEP}"))
            continue
        except ValueError as e:
            example = f"{ENV_PREFIX}ARGS='[\"-v\"]'"
            why = f"not JSON ({e}); lists and tables in variables are JSON, as {example}"
            problems.append(failed("config", f"environment variable {name} is {why}"))
            continue
        if len(loc) == 2:
            nested.setdefault(loc[0], {})[loc[1]] = decoded
            del rest[name]
    return nested, rest, problems


def _merged(lower: Mapping[str, Any], upper: Mapping[str, Any]) -> dict[str, Any]:
    """LOWER overlaid by UPPER, tables merged key by key."""
    result = dict(lower)
    for key, value in upper.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _merged(result[key], value)
        else:
            result[key] = value
    return result


def _fix(name: str) -> str:
    keys = ", ".join(f"{ENV_PREFIX}{f.name.upper()}" for f in dataclasses.fields(Config))
    return f"top-level settings are {keys} (nested ones use __, as GOLAUNCH_GO__VERSION)"


def _with_environ(environ: Mapping[str, str], build: Any) -> Any:
    """pydantic-settings reads os.environ; let it read the environment we were given."""
    saved = dict(os.environ)
    if saved == environ:
        return build()
    os.environ.clear()
    os.environ.update(environ)
    try:
        return build()
    finally:
        os.environ.clear()
        os.environ.update(saved)


class _Origin:
    """Says where a bad value came from, so the message can point at it."""

    def __init__(
        self, cli: Mapping[str, Any], environ: Mapping[str, str], file: ConfigFile | None
    ) -> None:
        self.cli = cli
        self.environ = {k.upper(): k for k in environ}
        self.file = file

    def unknown_variables(self) -> list[str]:
        known = {f"{ENV_PREFIX}{f.name.upper()}" for f in dataclasses.fields(Config)}
        return sorted(
            original
            for upper, original in self.environ.items()
            if upper.startswith(ENV_PREFIX)
            and upper not in _NOT_SETTINGS
            and upper.split("__", 1)[0] not in known
        )

    def where(self, loc: Sequence[str | int]) -> str:
        keys = [str(k) for k in loc if isinstance(k, str)]
        if _lookup(self.cli, keys):
            return "on the command line"
        for n in range(len(keys), 0, -1):
            candidate = ENV_PREFIX + "__".join(keys[:n]).upper()
            if candidate in self.environ:
                return f"in environment variable {self.environ[candidate]}"
        return f"in {self.file.path}" if self.file else "in the defaults"

    def finding(self, error: Any) -> Finding:
        loc = tuple(error["loc"])
        key = ".".join(str(k) for k in loc if not str(k).isdigit()) or "(top level)"
        if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            message = f"unknown key {key!r} {self.where(loc)}; {_allowed_keys(loc[:-1])}"
        else:
            message = f"{key} {self.where(loc)}: {error['msg']} (got {_short(error.get('input'))})"
        return failed("config", message, **self._path_field())

    def semantic_finding(self, loc: tuple[str, ...], reason: str) -> Finding:
        key = ".".join(loc)
        return failed("config", f"{key} {self.where(loc)}: {reason}", **self._path_field())

    def _path_field(self) -> dict[str, str]:
        return {"GOLAUNCH_PATH": self.file.path} if self.file else {}


def _lookup(values: Mapping[str, Any], keys: Sequence[str]) -> bool:
    current: Any = values
    for k in keys:
        if not isinstance(current, Mapping) or k not in current:
            return False
        current = current[k]
    return True


def _allowed_keys(section: Sequence[str | int]) -> str:
    cls: Any = Config
    for name in section:
        match = [f for f in dataclasses.fields(cls) if f.name == name]
        if not match or not dataclasses.is_dataclass(match[0].default_factory):
            return "see golaunch.toml(5) for the allowed keys"
        cls = match[0].default_factory
    names = ", ".join(f.name for f in dataclasses.fields(cls))
    where = f"[{'.'.join(map(str, section))}]" if section else "the top level"
    return f"allowed in {where}: {names}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
