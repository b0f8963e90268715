"""A unit's credentials, staged where its check can read them, as systemd would pass them.

systemd copies LoadCredential= sources and SetCredential= values into
/run/credentials/UNIT when the unit starts; a check from outside does the same
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
    for setting in ("LoadCredentialEncrypted", "SetCredentialEncrypted"):
        for entry in service.get(setting, []):
            staged.findings.append(
                skipped(NAME, f"{setting}={entry[0]}: a check does not decrypt credentials")
            )
    if not (loads or sets):
        return staged
    contents: dict[str, bytes] = {}
    for name, source in loads:
        data = _load(name, source, staged)
        if data is not None:
            contents[name] = data
    for name, value in sets:
        contents.setdefault(name, bytes(value))  # LoadCredential= wins over SetCredential=
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
