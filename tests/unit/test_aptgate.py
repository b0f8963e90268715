"""The apt gate's reading of packages: a real .deb built by dpkg-deb, read as apt's hook
reads it (dpkg-deb --fsys-tarfile), without a service manager."""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from golaunch.unitcheck import aptgate


@pytest.fixture
def deb(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        "Package: app\nVersion: 2\nArchitecture: amd64\nMaintainer: t <t@localhost>\n"
        "Description: t\n"
    )
    for name, mode in (("server", 0o750), ("tool", 0o755)):
        path = tree / "opt" / "app" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x7fELF" + name.encode())
        path.chmod(mode)
    built = tmp_path / "app_2_amd64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", tree, built],
                   check=True, capture_output=True)  # fmt: skip
    return built


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file root's ownership needs root")
def test_only_the_programs_of_units_are_taken_with_their_mode_and_owner(
    deb: Path, tmp_path: Path
) -> None:
    wanted = {"/opt/app/server": ["app.service"], "/usr/bin/other": ["other.service"]}
    found = aptgate.extract_programs(str(deb), wanted, str(tmp_path))
    assert list(found) == ["/opt/app/server"]
    info = os.stat(found["/opt/app/server"])
    assert Path(found["/opt/app/server"]).read_bytes() == b"\x7fELFserver"
    assert (info.st_mode & 0o7777, info.st_uid, info.st_gid) == (0o750, 0, 0)


def test_an_unreadable_package_is_an_error_the_gate_reports(tmp_path: Path) -> None:
    """gate() catches these and lets the package through as not checked."""
    junk = tmp_path / "junk.deb"
    junk.write_bytes(b"not an archive")
    with pytest.raises(tarfile.ReadError):
        aptgate.extract_programs(str(junk), {"/x": ["x.service"]}, str(tmp_path))
