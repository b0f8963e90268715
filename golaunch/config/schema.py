"""The configuration schema: one description of every key, its type and default.

The classes are stdlib dataclasses so that the launch path can rebuild an
already-validated configuration without importing pydantic (see
`golaunch.config.cache`). `golaunch.config.validate` builds the pydantic-settings
model from these same classes and is the only place that validates them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from golaunch.config.plain import DEFAULT_PATH

NotifyMode = Literal["auto", "ready", "passthrough", "none"]
LogTarget = Literal["auto", "journal", "stderr"]
MatchBinary = Literal["off", "release", "exact"]

# pydantic reads `__pydantic_config__` from stdlib dataclasses: an unknown key in
# any section is an error, not silently ignored.
_STRICT_KEYS = {"extra": "forbid"}


@dataclass(frozen=True)
class GoConfig:
    __pydantic_config__ = _STRICT_KEYS

    goroot: str | None = None
    required: bool = False
    version: str | None = None
    match_binary: MatchBinary = "off"
    gocache: str | None = None
    gomodcache: str | None = None
    create_dirs: bool = True
    min_free_mb: int = 64
    toolchain: str = "local"
    memlimit_ratio: float = 0.9  # GOMEMLIMIT = ratio times the cgroup's memory limit; 0: off


@dataclass(frozen=True)
class EnvironmentConfig:
    __pydantic_config__ = _STRICT_KEYS

    path: str = DEFAULT_PATH
    keep: tuple[str, ...] = ()
    set: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NotifyConfig:
    __pydantic_config__ = _STRICT_KEYS

    mode: NotifyMode = "auto"
    probe: str | None = None  # READY=1 only once this probe succeeds (golaunch.readiness.probes)
    probe_timeout: float = 0.0  # give up and stop the program; 0: systemd's start timeout
    probe_interval: float = 0.2  # between attempts, doubling up to 2 s while not ready
    probe_attempt_timeout: float = 1.0
    watchdog: bool = False  # after READY=1, WATCHDOG=1 while the probe passes


@dataclass(frozen=True)
class CredentialsConfig:
    __pydantic_config__ = _STRICT_KEYS

    # NAME -> credential: the file's contents (one trailing newline dropped) become NAME
    env: Mapping[str, str] = field(default_factory=dict)
    # NAME -> credential: NAME gets the file's path, for programs that read *_FILE
    file_env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WaitConfig:
    __pydantic_config__ = _STRICT_KEYS

    probes: tuple[str, ...] = ()  # before the checks, until every one succeeds
    timeout: float = 0.0  # then exit 75; 0: systemd's start timeout


@dataclass(frozen=True)
class ReloadConfig:
    __pydantic_config__ = _STRICT_KEYS

    signal: str = "HUP"  # what --reload sends the program (HUP, USR1, USR2, ...)
    confirm: str | None = None  # a probe URL, or metrics:URL (golaunch.reload.confirm)
    timeout: float = 90.0  # seconds; systemd bounds ExecReload= by TimeoutStartSec= (90 s)


@dataclass(frozen=True)
class LogConfig:
    __pydantic_config__ = _STRICT_KEYS

    target: LogTarget = "auto"
    syslog_identifier: str | None = None


@dataclass(frozen=True)
class LibrariesConfig:
    __pydantic_config__ = _STRICT_KEYS

    require: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityConfig:
    __pydantic_config__ = _STRICT_KEYS

    strict: bool = False


@dataclass(frozen=True)
class Config:
    program: str | None = None
    args: tuple[str, ...] = ()
    go: GoConfig = field(default_factory=GoConfig)
    environment: EnvironmentConfig = field(default_factory=EnvironmentConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    log: LogConfig = field(default_factory=LogConfig)
    libraries: LibrariesConfig = field(default_factory=LibrariesConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    wait: WaitConfig = field(default_factory=WaitConfig)
    credentials: CredentialsConfig = field(default_factory=CredentialsConfig)
    reload: ReloadConfig = field(default_factory=ReloadConfig)


def to_plain(config: Config) -> dict[str, Any]:
    """The configuration as JSON-ready data."""
    return dataclasses.asdict(config)


def from_plain(data: Mapping[str, Any]) -> Config:
    """Rebuild a Config from `to_plain` output that was validated before.

    This does not validate; it only restores tuples, which JSON turns into lists.
    """
    sections = {
        f.name: _rebuild(f.default_factory, data[f.name])
        for f in dataclasses.fields(Config)
        if f.name in data and f.default_factory is not dataclasses.MISSING
    }
    return Config(program=data.get("program"), args=tuple(data.get("args", ())), **sections)


def _rebuild(section: Callable[..., Any], values: Mapping[str, Any]) -> Any:
    return section(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
