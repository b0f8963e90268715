"""Reading the TOML configuration file, with errors that name the file and the fix."""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from golaunch.config.plain import DEFAULT_CONFIG_FILE, MAX_CONFIG_BYTES
from golaunch.readfile import NotRegularFile, read_regular_file

# A configuration is a few hundred bytes; a megabyte is a mistake or an attack.


class ConfigFileError(Exception):
    """The file cannot be used; str(self) says why and what to do."""


@dataclass(frozen=True)
class ConfigFile:
    path: str
    data: bytes

    def parse(self) -> dict[str, Any]:
        import tomllib  # only validation parses; the launch path only hashes the bytes

        try:
            text = self.data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigFileError(f"{self.path}: not UTF-8 at byte {e.start}") from None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigFileError(f"{self.path}: invalid TOML: {e}") from None
        except RecursionError:
            raise ConfigFileError(
                f"{self.path}: nested too deeply to be a golaunch configuration"
            ) from None


def locate_config_file(option: str | None, environ: Mapping[str, str]) -> str | None:
    """--config, else $GOLAUNCH_CONFIG, else the default file when it exists."""
    if option is not None:
        return option
    if environ.get("GOLAUNCH_CONFIG"):
        return environ["GOLAUNCH_CONFIG"]
    return DEFAULT_CONFIG_FILE if os.path.exists(DEFAULT_CONFIG_FILE) else None


def read_config_file(path: str) -> ConfigFile:
    """Read a configuration file, refusing anything that is not a small regular file."""
    if not path:
        raise ConfigFileError("an empty path names no file; point --config at a TOML file")
    try:
        data = read_regular_file(path, MAX_CONFIG_BYTES)
    except NotRegularFile as e:
        raise ConfigFileError(f"{path}: {e.strerror}; point --config at a TOML file") from None
    except OSError as e:
        raise ConfigFileError(_open_error(path, e)) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigFileError(
            f"{path}: is too large for a configuration (limit {MAX_CONFIG_BYTES} bytes)"
        )
    return ConfigFile(path, data)


def _open_error(path: str, e: OSError) -> str:
    if e.errno == errno.ENOENT:
        return f"{path}: no such file; create it or pass another with --config"
    if e.errno == errno.EACCES:
        return f"{path}: permission denied; make it readable by the service's user"
    if e.errno == errno.ELOOP:
        return f"{path}: too many levels of symbolic links (a symlink loop?)"
    if e.errno == errno.EISDIR:
        return f"{path}: is a directory, not a regular file; point --config at a TOML file"
    return f"{path}: cannot read: {os.strerror(e.errno or 0)}"
