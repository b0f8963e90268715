"""units/: the unit files pass systemd's own verifier, the catalog its own compiler."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from golaunch.findings import MESSAGE_IDS
from golaunch.systemd.journal import LAUNCH_MESSAGE_ID
from tests.helpers.paths import REPO

UNITS = REPO / "units"
CATALOG = UNITS / "golaunch.catalog"
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None or not SYSTEM_UNITS.is_dir(),
    reason="systemd-analyze and systemd's unit files are not installed",
)


def verify_root(tmp_path: Path) -> Path:
    """A root for `systemd-analyze --root`: systemd's units, ours, and a /usr/bin/golaunch."""
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in [*UNITS.glob("*.service"), *UNITS.glob("*.timer")]:
        shutil.copy(unit, root / "etc/systemd/system")
    launcher = root / "usr/bin/golaunch"
    launcher.parent.mkdir(parents=True)
    launcher.write_text("#!/bin/sh\n")
    launcher.chmod(0o755)
    return root


@needs_systemd
@pytest.mark.parametrize(
    "unit",
    [
        "golaunch-example.service",
        "golaunch@demo.service",
        "golaunch-check.service",
        "golaunch-check.timer",
        "golaunch-refresh@golaunch@demo.service.service",
    ],
)
def test_units_verify_without_a_word(tmp_path: Path, unit: str) -> None:
    # systemd-analyze verify exits 0 on warnings: any output is a failure.
    run = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={verify_root(tmp_path)}", unit],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (run.returncode, run.stdout + run.stderr) == (0, "")


@needs_systemd
def test_verifier_would_notice_a_broken_unit(tmp_path: Path) -> None:
    root = verify_root(tmp_path)
    unit = root / "etc/systemd/system/golaunch-example.service"
    unit.write_text(unit.read_text().replace("Type=notify", "Type=notfy"))
    run = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={root}", unit.name],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "notfy" in run.stderr


def catalog_entries() -> dict[str, str]:
    """MESSAGE_ID -> the entry's text, as the catalog format splits it."""
    entries: dict[str, str] = {}
    for block in re.split(r"^-- ", CATALOG.read_text(), flags=re.M)[1:]:
        header, _, body = block.partition("\n")
        assert header not in entries, f"{header} appears twice"
        entries[header] = body
    return entries


def test_catalog_explains_every_message_id_and_nothing_else() -> None:
    assert set(catalog_entries()) == {*MESSAGE_IDS.values(), LAUNCH_MESSAGE_ID}


@pytest.mark.parametrize("message_id", sorted(catalog_entries()))
def test_catalog_entry_has_headers_and_a_body(message_id: str) -> None:
    text = catalog_entries()[message_id]
    headers, _, body = text.partition("\n\n")
    names = [line.split(":", 1)[0] for line in headers.splitlines()]
    assert names == ["Subject", "Defined-By", "Documentation", "Support"]
    assert len(body.split()) >= 20
    # Every @FIELD@ is a journal field name golaunch can write.
    for field in re.findall(r"@([A-Z0-9_]+)@", text):
        assert field.startswith("GOLAUNCH_"), field


@pytest.mark.skipif(shutil.which("journalctl") is None, reason="journalctl is not installed")
def test_journalctl_compiles_the_catalog(tmp_path: Path) -> None:
    catalog_dir = tmp_path / "usr/lib/systemd/catalog"
    catalog_dir.mkdir(parents=True)
    shutil.copy(CATALOG, catalog_dir)
    subprocess.run(
        ["journalctl", f"--root={tmp_path}", "--update-catalog"], check=True, capture_output=True
    )
    listed = subprocess.run(
        ["journalctl", f"--root={tmp_path}", "--list-catalog"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert {line.split()[0] for line in listed} == set(catalog_entries())
    assert all(" golaunch: " in line for line in listed)
