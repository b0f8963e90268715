"""GOCACHE and GOMODCACHE, computed as the go command computes them.

The rules follow cmd/go (cfg.Getenv, cache.DefaultDir, os.UserCacheDir): a
variable in the environment wins, then the user's GOENV file (`go env -w`),
then $GOROOT/go.env. golaunch adds one rule of its own: where the go command
would fall back on $HOME, which services usually lack, systemd's
CACHE_DIRECTORY takes its place.
"""

from __future__ import annotations

import os

from golaunch.host import surroundings
from golaunch.readfile import read_regular_file

TYPE_CHECKING = False  # on every start's path (golaunch.host.execution): no typing
if TYPE_CHECKING:
    from collections.abc import Mapping

# cmd/go reads the whole file; a go env file is a few lines.
GO_ENV_MAX_BYTES = 1 << 20


class GoDir:
    __slots__ = ("error", "explicit", "name", "source", "value")

    def __init__(
        self, name: str, value: str | None, source: str, explicit: bool, error: str | None = None
    ) -> None:
        self.name = name  # "GOCACHE" or "GOMODCACHE"
        self.value = value  # None when it cannot be computed (see error)
        self.source = source  # what set it, for messages
        self.explicit = explicit  # set on purpose (config, environment, go env -w)
        self.error = error

    def __repr__(self) -> str:
        return f"GoDir({self.name}={self.value!r} from {self.source})"


class GoEnvFiles:
    """Values from the user's go/env file and $GOROOT/go.env, the go command's lower layers."""

    def __init__(self, environment: Mapping[str, str], goroot: str | None) -> None:
        self.user_file = user_env_file(environment)
        self.user = read_go_env_file(self.user_file) if self.user_file else {}
        self.goroot_file = os.path.join(goroot, "go.env") if goroot else None
        self.toolchain = read_go_env_file(self.goroot_file) if self.goroot_file else {}

    def lookup(self, key: str) -> tuple[str, str] | None:
        """(value, where) for KEY, as cfg.Getenv finds it below the environment."""
        if self.user.get(key):
            return self.user[key], f"{self.user_file} (go env -w)"
        if self.toolchain.get(key):
            return self.toolchain[key], str(self.goroot_file)
        return None


def user_env_file(environment: Mapping[str, str]) -> str | None:
    """cfg.EnvFile: $GOENV, else os.UserConfigDir()/go/env."""
    goenv = environment.get("GOENV", "")
    if goenv:
        return None if goenv == "off" else goenv
    config_home = environment.get("XDG_CONFIG_HOME", "")
    if config_home:
        return os.path.join(config_home, "go/env") if os.path.isabs(config_home) else None
    home = environment.get("HOME", "")
    return os.path.join(home, ".config/go/env") if home else None


def read_go_env_file(path: str) -> dict[str, str]:
    """Parse a go/env file the way cmd/go does: KEY=VALUE lines; others are ignored."""
    try:
        data = read_regular_file(path, GO_ENV_MAX_BYTES)
    except OSError:  # absent, unreadable, a FIFO: golaunch computes without it
        return {}
    if len(data) > GO_ENV_MAX_BYTES:
        return {}
    values: dict[str, str] = {}
    for raw in data.split(b"\n"):
        key, sep, value = raw.partition(b"=")
        if sep and key[:1].isupper() and key[:1].isalpha():
            values[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return values


def _explicit(
    key: str, configured: str | None, environment: Mapping[str, str], files: GoEnvFiles
) -> GoDir | None:
    if configured:
        return GoDir(key, configured, f"go.{key.lower()}", True)
    if environment.get(key):
        return GoDir(key, environment[key], f"the inherited {key}", True)
    found = files.lookup(key)
    if found:
        return GoDir(key, found[0], found[1], True)
    return None


def compute_gocache(
    configured: str | None,
    environment: Mapping[str, str],
    files: GoEnvFiles,
    where: str = surroundings.UNIT,
) -> GoDir:
    explicit = _explicit("GOCACHE", configured, environment, files)
    if explicit:
        return explicit
    xdg = environment.get("XDG_CACHE_HOME", "")
    if xdg and not os.path.isabs(xdg):
        return GoDir(
            "GOCACHE", None, "$XDG_CACHE_HOME", False, "path in $XDG_CACHE_HOME is relative"
        )
    if xdg:
        return GoDir("GOCACHE", _join(xdg, "go-build"), "$XDG_CACHE_HOME", False)
    home = environment.get("HOME", "")
    under_home = (_join(home, ".cache", "go-build"), "$HOME") if home else None
    undefined = "GOCACHE is not defined and neither $XDG_CACHE_HOME nor $HOME are defined"
    return _fallback("GOCACHE", environment, "go-build", under_home, undefined, where=where)


def compute_gomodcache(
    configured: str | None,
    environment: Mapping[str, str],
    files: GoEnvFiles,
    goroot: str | None,
    where: str = surroundings.UNIT,
) -> GoDir:
    explicit = _explicit("GOMODCACHE", configured, environment, files)
    if explicit:
        return explicit
    gopath = environment.get("GOPATH", "") or (files.lookup("GOPATH") or ("", ""))[0]
    if gopath:
        first = gopath.split(os.pathsep)[0]
        if first:
            return GoDir("GOMODCACHE", _join(first, "pkg", "mod"), "GOPATH", True)
    home = environment.get("HOME", "")
    default_gopath = _join(home, "go") if home else ""
    usable = default_gopath and (not goroot or os.path.normpath(goroot) != default_gopath)
    under_home = (_join(default_gopath, "pkg", "mod"), "$HOME/go") if usable else None
    undefined = "GOMODCACHE is not defined and GOPATH cannot default to $HOME/go"
    return _fallback("GOMODCACHE", environment, "mod", under_home, undefined, where=where)


def _fallback(
    name: str,
    environment: Mapping[str, str],
    under_cache_directory: str,
    under_home: tuple[str, str] | None,
    undefined: str,
    *,
    where: str,
) -> GoDir:
    """Where the go command would use $HOME, which services lack: CACHE_DIRECTORY first."""
    cache_directory = first_cache_directory(environment)
    if cache_directory:
        path = _join(cache_directory, under_cache_directory)
        return GoDir(name, path, "systemd's CACHE_DIRECTORY", False)
    if under_home:
        return GoDir(name, under_home[0], under_home[1], False)
    fix = f"{surroundings.cache_fix(name, where)}, or set go.{name.lower()}"
    lacking = "no HOME here" if where == surroundings.CONTAINER else "services have no HOME"
    return GoDir(name, None, "nothing", False, f"{undefined} ({lacking}): {fix}")


def first_cache_directory(environment: Mapping[str, str]) -> str:
    """systemd puts every CacheDirectory= in CACHE_DIRECTORY, separated by colons."""
    return environment.get("CACHE_DIRECTORY", "").split(":")[0]


def _join(*parts: str) -> str:
    """filepath.Join: joined and cleaned, as the go command prints its defaults."""
    return os.path.normpath(os.path.join(*parts))
