"""A unit's credentials, staged where its check can read them, as systemd would pass them.

systemd copies LoadCredential= sources and SetCredential= values into
/run/credentials/UNIT when the unit starts; a check from outside does the same
into a private directory of its own, owned by the unit's user, and removes it
afterwards. A source that is gone is what would stop the next start: systemd
refuses it (243/CREDENTIALS) before golaunch runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

from golaunch.findings import Finding, failed, skipped
from golaunch.fleet.environment import NAME, Identity
from golaunch.host.credentials import MAX_CREDENTIAL_BYTES
from golaunch.readfile import read_regular_file


class Staged:
    """The staged directory (None when the unit has no credentials), and what went wrong."""

    def __init__(self) -> None:
        self.directory: str | None = None
        self.findings: list[Finding] = []

    def remove(self) -> None:
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
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
    base = "/run" if os.geteuid() == 0 else None
    staged.directory = tempfile.mkdtemp(prefix="golaunch-check-", dir=base)
    written: set[str] = set()
    for name, source in loads:
        contents = _load(name, source, staged.findings)
        if contents is not None:
            _write(staged.directory, name, contents)
            written.add(name)
    for name, value in sets:
        if name not in written:  # LoadCredential= wins over SetCredential=
            _write(staged.directory, name, bytes(value))
    _hand_over(staged.directory, who)
    return staged


def _load(name: str, source: str, findings: list[Finding]) -> bytes | None:
    setting = f"LoadCredential={name}:{source}"
    if not source.startswith("/"):
        findings.append(
            skipped(NAME, f"{setting}: a search in credential stores is not reproduced")
        )
        return None
    if os.path.isdir(source):
        findings.append(skipped(NAME, f"{setting}: a directory of credentials is not reproduced"))
        return None
    try:
        return read_regular_file(source, MAX_CREDENTIAL_BYTES)
    except OSError as e:
        findings.append(
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
    """Readable by the unit's user only, as systemd leaves /run/credentials/UNIT."""
    if os.geteuid() != 0:
        return
    for entry in os.listdir(directory):
        os.chown(os.path.join(directory, entry), who.uid, who.gid)
    os.chown(directory, who.uid, who.gid)
    os.chmod(directory, 0o500)
