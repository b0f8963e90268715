"""Programs at the far end of what ELF allows: ten thousand DT_NEEDED entries, absurd
Go build info. Each gets a clear answer in bounded time and output."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golaunch.checks.library import MAX_LIBRARY_FINDINGS
from golaunch.elf.buildinfo import BUILDINFO_MAGIC
from golaunch.host.program import inspect_program
from tests.helpers.elf import many_needed
from tests.helpers.process import run_golaunch
from tests.helpers.toolchain import Toolchain

COUNT = 10_000
HOME = {"HOME": "/root"}  # caches for the go on PATH


@pytest.fixture(scope="module")
def ten_thousand() -> Path:
    return many_needed(COUNT)


def test_ten_thousand_libraries_resolve_where_ld_so_finds_them(ten_thousand: Path) -> None:
    subprocess.run([ten_thousand], check=True)  # ld.so's verdict: every one is found
    result = run_golaunch("--check", "--json", "--", str(ten_thousand), env=HOME)
    assert result.returncode == 0, result.stdout[-2000:]
    libraries = json.loads(result.stdout)["binary"]["libraries"]
    assert len(libraries) == COUNT + 1  # and libc
    ours = {lib["soname"]: lib["path"] for lib in libraries if lib["soname"] != "libc.so.6"}
    assert ours == {
        f"lib{i:05}.so": str(ten_thousand.parent / "libs" / f"lib{i:05}.so") for i in range(COUNT)
    }


def test_ten_thousand_missing_libraries_give_bounded_findings(
    ten_thousand: Path, tmp_path: Path
) -> None:
    """Moved away from its libs/, the program misses all of them: the JSON report names
    each (as ldd does), the journal gets ten entries, not ten thousand."""
    program = tmp_path / "prog"
    shutil.copy(ten_thousand, program)
    ldd = subprocess.run(["ldd", str(program)], capture_output=True, text=True, check=False)
    ldd_missing = {line.split()[0] for line in ldd.stdout.splitlines() if "=> not found" in line}
    assert len(ldd_missing) == COUNT

    report = run_golaunch("--check", "--json", "--", str(program), env=HOME)
    assert report.returncode == 78
    document = json.loads(report.stdout)
    missing = {lib["soname"] for lib in document["binary"]["libraries"] if lib["path"] is None}
    assert missing == ldd_missing

    launch = run_golaunch("--notify=none", "--log-target=stderr", "--", str(program), env=HOME)
    assert launch.returncode == 78
    lines = [line for line in launch.stderr.splitlines() if line.startswith("golaunch: library:")]
    assert len(lines) == MAX_LIBRARY_FINDINGS
    assert lines[0].startswith(f"golaunch: library: lib00000.so, needed by {program}, is not found")
    assert lines[-1] == (
        f"golaunch: library: and {COUNT - MAX_LIBRARY_FINDINGS + 1} more of {COUNT + 1} "
        "libraries are missing or cannot be loaded; golaunch --check --json lists every one"
    )


VERSION_AT = 32  # the inline version's uvarint length, from the build info header


def patched(program: Path, directory: Path, at: int, data: bytes) -> Path:
    """A copy of PROGRAM with DATA written over its build info, AT bytes past the magic."""
    image = bytearray(program.read_bytes())
    start = image.find(BUILDINFO_MAGIC) + at
    image[start : start + len(data)] = data
    out = directory / "patched"
    out.write_bytes(bytes(image))
    out.chmod(0o755)
    return out


def go_version_m(go: Path, program: Path) -> str | None:
    """What `go version -m` prints, or None when it finds no build info. Its first line
    is "PROGRAM: VERSION", the version's bytes as they are (even a newline)."""
    result = subprocess.run([go, "version", "-m", program], capture_output=True, check=False)
    return result.stdout.decode("utf-8", "replace") if result.returncode == 0 else None


@pytest.mark.parametrize(
    ("at", "data", "reason"),
    [
        (VERSION_AT, b"\xff" * 9 + b"\x7f", "a length past 64 bits"),
        (VERSION_AT, b"\xff" * 9 + b"\x01", "a 18446744073709551615-byte string"),
        (VERSION_AT, b"\x80\x80\xc0\x01", "3145728 bytes at"),  # past the segment's end
        (15, b"\x00", "lie outside the file's segments"),  # pre-1.18 pointers, all zero
    ],
    ids=["overflow", "max-uint64", "3MB", "null-pointers"],
)
def test_absurd_build_info_is_unreadable_for_go_too(
    go_new: Toolchain, noop: Path, tmp_path: Path, *, at: int, data: bytes, reason: str
) -> None:
    """Go's own reader (go version -m) refuses each; golaunch says why and treats the
    program as not Go, without allocating what the lengths claim."""
    program = patched(noop, tmp_path, at, data)
    assert go_version_m(go_new.go, program) is None
    inspection = inspect_program(str(program), {}, ())
    assert inspection.problem is None and inspection.buildinfo is None
    assert inspection.buildinfo_error is not None and reason in inspection.buildinfo_error


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(at=st.integers(VERSION_AT, VERSION_AT + 24), data=st.binary(min_size=1, max_size=10))
def test_mutated_build_info_agrees_with_go_version_m(
    go_new: Toolchain, noop: Path, tmp_path_factory: pytest.TempPathFactory, at: int, data: bytes
) -> None:
    """Whatever the bytes, golaunch returns; where Go reads a version, golaunch reads the same."""
    program = patched(noop, tmp_path_factory.mktemp("buildinfo"), at, data)
    inspection = inspect_program(str(program), {}, ())
    printed = go_version_m(go_new.go, program)
    if printed is not None:
        assert inspection.buildinfo is not None
        assert printed.startswith(f"{program}: {inspection.buildinfo.go_version}\n")
