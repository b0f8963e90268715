"""Credentials as variables (credentials.env, credentials.file_env), from the files
systemd puts in $CREDENTIALS_DIRECTORY (LoadCredential=, SetCredential=, and the
encrypted forms). A value lives only in the environment handed to execve: every
report shows `<credential NAME, N bytes>` instead (`shown`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

from golaunch.config.schema import CredentialsConfig
from golaunch.readfile import NotRegularFile, read_regular_file

# A variable is copied onto the program's stack at every exec: a secret of a megabyte
# is a mistake, and ARG_MAX would refuse a few more.
MAX_CREDENTIAL_BYTES = 1 << 20


class Unusable:
    """What is wrong with a credential; golaunch.checks.credentials words it."""

    NO_DIRECTORY = "no directory"
    MISSING = "missing"
    NOT_REGULAR = "not regular"  # detail: what it is instead
    UNREADABLE = "unreadable"  # detail: strerror
    TOO_LARGE = "too large"
    NUL = "NUL"


class Credential(NamedTuple):
    variable: str
    name: str  # the credential's
    path: str
    as_path: bool  # file_env: the variable holds the path, not the contents
    value: str | None  # what the variable gets; None when there is a problem
    size: int
    problem: str | None = None  # an Unusable
    detail: str = ""


def read_credentials(
    config: CredentialsConfig, environ: Mapping[str, str]
) -> tuple[Credential, ...]:
    directory = environ.get("CREDENTIALS_DIRECTORY", "")
    wanted = [(v, c, False) for v, c in config.env.items()]
    wanted += [(v, c, True) for v, c in config.file_env.items()]
    return tuple(_read(variable, name, as_path, directory) for variable, name, as_path in wanted)


def _read(variable: str, name: str, as_path: bool, directory: str) -> Credential:
    if not directory:
        return Credential(variable, name, "", as_path, None, 0, Unusable.NO_DIRECTORY)
    path = os.path.join(directory, name)
    try:
        data = read_regular_file(path, MAX_CREDENTIAL_BYTES)
    except NotRegularFile as e:
        return Credential(
            variable, name, path, as_path, None, 0, Unusable.NOT_REGULAR, str(e.strerror)
        )
    except FileNotFoundError:
        return Credential(variable, name, path, as_path, None, 0, Unusable.MISSING)
    except OSError as e:
        detail = e.strerror or str(e)
        return Credential(variable, name, path, as_path, None, 0, Unusable.UNREADABLE, detail)
    if len(data) > MAX_CREDENTIAL_BYTES:
        return Credential(variable, name, path, as_path, None, len(data), Unusable.TOO_LARGE)
    if as_path:
        return Credential(variable, name, path, True, path, len(data))
    if data.endswith(b"\n"):
        data = data[:-1]  # as files written with echo or an editor end
    if b"\0" in data:
        return Credential(variable, name, path, False, None, len(data), Unusable.NUL)
    value = data.decode("utf-8", "surrogateescape")
    return Credential(variable, name, path, False, value, len(data))


def shown(environment: Mapping[str, str], credentials: tuple[Credential, ...]) -> dict[str, str]:
    """ENVIRONMENT as reports show it: each credential's contents replaced by a note."""
    hidden = {c.variable: c for c in credentials if not c.as_path and c.value is not None}
    return {
        name: f"<credential {hidden[name].name}, {hidden[name].size} bytes>"
        if name in hidden
        else value
        for name, value in environment.items()
    }
