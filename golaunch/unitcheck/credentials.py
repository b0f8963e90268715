"""A unit's credentials, staged where its check can read them, as systemd would pass them.

systemd copies LoadCredential= sources, what ImportCredential= finds in the credential
stores (systemd 254 and later) and SetCredential= values into /run/credentials/UNIT
when the unit starts; a check from outside does the same
into a directory of its own under /run, and removes it afterwards. The files
are the unit's user's, readable by it alone; the directory stays root's, so that
the user, who can stop and control the check's process, cannot change the tree
either (a thousand nested directories once made the removal crash the run and
left the secret behind). A source that is gone is what would stop the next start: systemd
refuses it (243/CREDENTIALS) before golaunch runs.

A secret is never staged for an identity that other processes share: the nobody
a stopped DynamicUser= unit or a missing User= is checked as (its own uid exists
only while it runs), or a User=nobody. Its sources are still read, as root, and
what golaunch would make of them is a skip. Nor is a source that is a socket
read: systemd connects to it at start (systemd.exec(5), LoadCredential=), and a
check connecting could change what the server hands out.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Mapping
from typing import Any

from golaunch.findings import Finding, failed, skipped
from golaunch.host.credentials import MAX_CREDENTIAL_BYTES
from golaunch.readfile import read_regular_file
from golaunch.unitcheck.environment import NAME, NOBODY, Identity


class Staged:
    """The staged directory (None when the unit has no credentials), and what went wrong."""

    def __init__(self) -> None:
        self.directory: str | None = None
        self.findings: list[Finding] = []
        # Credentials that exist but were not staged, and why: the checks that read them
        # are a skip (golaunch.unitcheck.run), never a failure.
        self.unstaged: dict[str, str] = {}

    def remove(self) -> None:
        """Unlink every entry, then the directory: flat, as staged; never recursive."""
        if not self.directory:
            return
        with contextlib.suppress(OSError), os.scandir(self.directory) as entries:
            for entry in list(entries):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        with contextlib.suppress(OSError):
            os.rmdir(self.directory)
        self.directory = None


def stage(service: Mapping[str, Any], who: Identity) -> Staged:
    staged = Staged()
    loads = list(service.get("LoadCredential", []))
    sets = list(service.get("SetCredential", []))
    imports = import_patterns(service)
    for setting in ("LoadCredentialEncrypted", "SetCredentialEncrypted"):
        for entry in service.get(setting, []):
            staged.findings.append(
                skipped(NAME, f"{setting}={entry[0]}: a check does not decrypt credentials")
            )
    if not (loads or sets or imports):
        return staged
    contents: dict[str, bytes] = {}
    for name, source in loads:
        data = _load(name, source, staged)
        if data is not None:
            contents[name] = data
    # LoadCredential= wins over ImportCredential=, and both over SetCredential=.
    for name, data in imported(imports, staged).items():
        if name not in contents and name not in staged.unstaged:
            contents[name] = data
    for name, value in sets:
        if name not in staged.unstaged:
            contents.setdefault(name, bytes(value))
    if who.uid == NOBODY:
        why = (
            f"not staged, since the check runs as {who.user or 'nobody'} (uid {NOBODY}), an "
            "identity other processes share; its source was read as root"
        )
        staged.unstaged.update(dict.fromkeys(contents, why))
        return staged
    base = "/run" if os.geteuid() == 0 else None
    staged.directory = tempfile.mkdtemp(prefix="golaunch-check-", dir=base)
    for name, data in contents.items():
        _write(staged.directory, name, data)
    _hand_over(staged.directory, who)
    return staged


def _load(name: str, source: str, staged: Staged) -> bytes | None:
    setting = f"LoadCredential={name}:{source}"
    if not source.startswith("/"):
        staged.findings.append(
            skipped(NAME, f"{setting}: a search in credential stores is not reproduced")
        )
        return None
    try:
        info = os.stat(source)
        if stat.S_ISDIR(info.st_mode):
            staged.findings.append(
                skipped(NAME, f"{setting}: a directory of credentials is not reproduced")
            )
            return None
        if stat.S_ISSOCK(info.st_mode):
            staged.unstaged[name] = (
                f"not read, since {source} is an AF_UNIX socket that systemd connects to at "
                "start; a check does not connect, which could change what the server hands out"
            )
            return None
        return read_regular_file(source, MAX_CREDENTIAL_BYTES)
    except OSError as e:
        staged.findings.append(
            failed(
                NAME,
                f"{setting}: {e.strerror or e}; systemd would refuse to start the unit "
                "(243/CREDENTIALS)",
                GOLAUNCH_CREDENTIAL=name,
                GOLAUNCH_PATH=source,
            )
        )
    return None


# Where ImportCredential= (systemd 254) looks, in its order (systemd.exec(5) of 257): the
# credentials the manager itself was given, then the credential stores. An encrypted one
# found first is the one systemd would pass, and a check cannot decrypt it.
CREDENTIAL_STORES = (
    ("/run/credentials/@system", False),
    ("/run/credentials/@encrypted", True),
    ("/etc/credstore", False),
    ("/run/credstore", False),
    ("/usr/lib/credstore", False),
    ("/run/credstore.encrypted", True),
    ("/etc/credstore.encrypted", True),
    ("/usr/lib/credstore.encrypted", True),
)


def import_patterns(service: Mapping[str, Any]) -> list[tuple[str, str]]:
    """ImportCredential= as (glob, rename): systemd 256 and later publish the pairs as
    ImportCredentialEx, 254 and 255 the globs alone; 252 has neither."""
    if "ImportCredentialEx" in service:
        return [(str(glob), str(rename)) for glob, rename in service["ImportCredentialEx"]]
    return [(str(glob), "") for glob in service.get("ImportCredential", [])]


def imported(
    patterns: list[tuple[str, str]],
    staged: Staged,
    stores: tuple[tuple[str, bool], ...] = CREDENTIAL_STORES,
) -> dict[str, bytes]:
    """What ImportCredential= would pass, by the name the unit sees: the first found of a
    name wins, across stores and across patterns. Finding nothing is no error to systemd."""
    found: dict[str, bytes] = {}
    seen: set[str] = set()
    for glob, rename in patterns:
        prefix = glob[:-1] if glob.endswith("*") else None  # only a trailing * is allowed
        for store, encrypted in stores:
            for name in _listing(store):
                if not (name == glob if prefix is None else name.startswith(prefix)):
                    continue
                target = name
                if rename:
                    target = rename + name[len(prefix) :] if prefix is not None else rename
                if target in seen:
                    continue
                seen.add(target)
                path = os.path.join(store, name)
                if encrypted:
                    staged.unstaged[target] = (
                        f"not staged, since ImportCredential= finds it encrypted in {path}, "
                        "and a check does not decrypt credentials"
                    )
                    continue
                try:
                    found[target] = read_regular_file(path, MAX_CREDENTIAL_BYTES)
                except OSError as e:
                    staged.unstaged[target] = f"not staged: {path} cannot be read ({e.strerror})"
    return found


def _listing(store: str) -> list[str]:
    try:
        return sorted(os.listdir(store))
    except OSError:  # a store that is not there holds nothing
        return []


def _write(directory: str, name: str, contents: bytes) -> None:
    fd = os.open(os.path.join(directory, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    with os.fdopen(fd, "wb") as f:
        f.write(contents)


def _hand_over(directory: str, who: Identity) -> None:
    """Each file readable by the unit's user only, as systemd leaves them; the directory
    root's, searchable but not writable by anyone else (see the module)."""
    if os.geteuid() != 0:
        return
    for entry in os.listdir(directory):
        os.chown(os.path.join(directory, entry), who.uid, who.gid)
    os.chmod(directory, 0o711)
