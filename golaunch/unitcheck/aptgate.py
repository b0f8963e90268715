"""The apt gate: stop a package upgrade that would leave a golaunch unit unable to start.

A maintainer script's preinst runs before the new files are unpacked, so it cannot see
the new program; apt hands every incoming .deb to its DPkg::Pre-Install-Pkgs hooks before
dpkg runs (apt.conf(5)). The package's /etc/apt/apt.conf.d/50golaunch names
/usr/lib/golaunch/apt-gate, which does nothing until /etc/golaunch/apt-gate.enabled
exists. Then, for each incoming package that holds the program of a loaded golaunch
unit, this extracts that file (mode and owner as packaged) and runs the candidate check
(golaunch.unitcheck.candidate) for every unit that runs it. When one would not start,
it prints the reports and exits 1: apt stops before dpkg unpacks anything, and the
working build stays.

What it cannot judge never blocks: no service manager (a chroot, an image build), a unit
whose check did not finish, a package it cannot read.
"""

from __future__ import annotations

import os
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence

PREFIX = "golaunch apt-gate"


def extract_programs(
    deb: str, wanted: Mapping[str, Sequence[str]], directory: str
) -> dict[str, str]:
    """{path on this host: the extracted file} for each regular file of DEB whose path is a
    program in WANTED, written below DIRECTORY with its packaged mode and owner: one read of
    the package, as `dpkg-deb --fsys-tarfile` streams it."""
    import subprocess

    found: dict[str, str] = {}
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE) as dpkg:
        assert dpkg.stdout is not None
        with tarfile.open(fileobj=dpkg.stdout, mode="r|*") as archive:
            for member in archive:
                path = _on_host(member.name)
                if member.isreg() and path in wanted:
                    found[path] = _write(archive, member, directory, len(found))
    if dpkg.returncode != 0:
        raise OSError(f"dpkg-deb --fsys-tarfile {deb} exited with {dpkg.returncode}")
    return found


def _on_host(name: str) -> str:
    path = "/" + name.removeprefix("./").lstrip("/")
    return os.path.realpath(path)


def _write(archive: tarfile.TarFile, member: tarfile.TarInfo, directory: str, n: int) -> str:
    """MEMBER's bytes in DIRECTORY/N/NAME, with its mode and owner (a directory each, so
    that two programs of one name never meet)."""
    source = archive.extractfile(member)
    assert source is not None
    os.mkdir(os.path.join(directory, str(n)), 0o700)
    target = os.path.join(directory, str(n), os.path.basename(member.name))
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(1 << 20):
            out.write(chunk)
        os.fchown(out.fileno(), member.uid, member.gid)
        os.fchmod(out.fileno(), member.mode & 0o7777)
    return target


def gate(debs: Sequence[str]) -> int:
    from golaunch.status import GolaunchError
    from golaunch.systemd.manager import Manager
    from golaunch.unitcheck.run import golaunch_units, unit_programs

    try:
        manager = Manager()
        programs = unit_programs(manager, golaunch_units(manager), manager.environment())
    except GolaunchError as e:
        print(f"{PREFIX}: not checked ({e})", file=sys.stderr)
        return 0
    wanted: dict[str, list[str]] = {}
    for unit, program in programs.items():
        wanted.setdefault(os.path.realpath(program), []).append(unit)
    refused = False
    for deb in debs:
        with tempfile.TemporaryDirectory(prefix="golaunch-apt-gate.") as directory:
            try:
                found = extract_programs(deb, wanted, directory)
            except (OSError, tarfile.TarError) as e:
                print(f"{PREFIX}: {deb}: not checked ({e})", file=sys.stderr)
                continue
            for path, candidate in found.items():
                refused = _refuses(deb, path, candidate, wanted[path]) or refused
    if refused:
        print(
            f"{PREFIX}: stopping the upgrade, nothing was unpacked; remove "
            "/etc/golaunch/apt-gate.enabled to let it through anyway",
            file=sys.stderr,
        )
    return 1 if refused else 0


def _refuses(deb: str, path: str, candidate: str, units: Sequence[str]) -> bool:
    """Whether one of UNITS would not start with CANDIDATE, DEB's new PATH (said on stderr)."""
    from golaunch.output.report import render_text
    from golaunch.status import GolaunchError
    from golaunch.unitcheck.run import unit_reports

    try:
        reports, _ = unit_reports(units, False, candidate=candidate)
    except (GolaunchError, OSError) as e:
        print(f"{PREFIX}: {deb}: {path} not checked ({e})", file=sys.stderr)
        return False
    failing = [r for r in reports if not r.ok]
    for report in failing:
        print(
            f"{PREFIX}: {os.path.basename(deb)} brings a {path} with which {report.unit} "
            "would not start:",
            file=sys.stderr,
        )
        sys.stderr.write(render_text(report))
    return bool(failing)


def main() -> None:
    """apt's Pre-Install-Pkgs protocol, version 1: the .deb files to unpack, one per line."""
    debs = [line.strip() for line in sys.stdin if line.strip().endswith(".deb")]
    try:
        status = gate(debs)
    except Exception as e:  # a gate that breaks must say so, and never block on its bug
        print(f"{PREFIX}: not checked: {type(e).__name__}: {e}", file=sys.stderr)
        status = 0
    sys.exit(status)
