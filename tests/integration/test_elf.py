"""Oracles: resolution against ldd, the reader against pyelftools, build info against go."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golaunch.elf.buildinfo import _unquote, read_buildinfo
from golaunch.elf.elffile import ElfFile
from golaunch.elf.resolve import Resolver
from golaunch.host.program import inspect_program
from tests.helpers.elf import build_all, cgo_program_built
from tests.helpers.paths import REPO
from tests.helpers.toolchain import Toolchain

SYSTEM_BINARIES = [
    "/usr/bin/python3.11",
    "/usr/bin/curl",
    "/usr/bin/git",
    "/usr/bin/ssh",
    "/usr/bin/gcc",
    "/bin/ls",
    "/usr/bin/systemctl",
    "/usr/lib/systemd/systemd",
]


@pytest.fixture(scope="session")
def fixtures() -> dict[str, Path]:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed; run `make test` as root")
    return build_all()


@pytest.fixture(scope="session")
def cgo_program(go_new: Toolchain, fixtures: dict[str, Path]) -> Path:
    return cgo_program_built(go_new)


def ldd(path: Path | str, env: dict[str, str] | None = None) -> dict[str, str | None]:
    """soname -> path as ldd prints it ("not found" -> None); the vdso and ld.so are left out.

    ldd prints "name => path" for a searched name and the bare path for a name that
    has a slash (the interpreter is one of those).
    """
    out = subprocess.run(
        ["ldd", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    ).stdout
    with ElfFile(str(path)) as elf:
        interpreter = elf.interpreter()
    result: dict[str, str | None] = {}
    for line in out.splitlines():
        name, arrow, rest = line.strip().partition(" => ")
        if arrow:
            target = rest.split(" (")[0].strip()
            result[name] = None if target == "not found" else target
        elif name.startswith("/") and name.split(" (")[0] != interpreter:
            result[name.split(" (")[0]] = name.split(" (")[0]
    return result


def ours(path: Path | str, env: dict[str, str] | None = None) -> dict[str, str | None]:
    with ElfFile(str(path)) as elf:
        interpreter = elf.interpreter()
    resolution = Resolver(env or {}).resolve(str(path), interpreter)
    assert resolution.problems == []
    return {lib.soname: lib.path for lib in resolution.libraries if lib.path != interpreter}


FIXTURE_NAMES = [
    "rpath",
    "runpath",
    "chain-rpath",
    "chain-runpath",
    "nodeflib",
    "wrong-machine-skipped",
    "slash-needed",
    "lib-token",
    "braced-origin",
]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_resolution_equals_ldd(fixtures: dict[str, Path], name: str) -> None:
    assert ours(fixtures[name]) == ldd(fixtures[name])


def test_runpath_is_not_inherited_but_rpath_is(fixtures: dict[str, Path]) -> None:
    assert ours(fixtures["chain-rpath"])["libinner.so"] is not None
    assert ours(fixtures["chain-runpath"])["libinner.so"] is None


def test_ld_library_path_comes_from_the_programs_environment(fixtures: dict[str, Path]) -> None:
    program = fixtures["ld-library-path"]
    env = {"LD_LIBRARY_PATH": f"/nonexistent:{program.parent / 'lib'}"}
    assert (
        ours(program)
        == ldd(program)
        == {"libgla.so.1": None, "libc.so.6": "/lib/x86_64-linux-gnu/libc.so.6"}
    )
    assert ours(program, env) == ldd(program, env)
    assert ours(program, env)["libgla.so.1"] == f"{program.parent}/lib/libgla.so.1"


@pytest.mark.parametrize("path", SYSTEM_BINARIES)
def test_system_binaries_equal_ldd(path: str) -> None:
    if not os.path.exists(path):
        pytest.skip(f"{path} is not installed")
    assert ours(path) == ldd(path)


def test_cgo_program_equals_ldd(cgo_program: Path) -> None:
    resolved = ours(cgo_program)
    assert resolved == ldd(cgo_program)
    assert resolved["libgla.so.1"].endswith("cgo-lib/libgla.so.1")  # type: ignore[union-attr]


def go_version_m(toolchain: Toolchain, path: Path) -> dict[str, object]:
    out = subprocess.run(
        [str(toolchain.go), "version", "-m", str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=toolchain.env(),
    ).stdout
    lines = out.splitlines()
    info: dict[str, object] = {"version": lines[0].split(": ", 1)[1], "settings": {}}
    for line in lines[1:]:
        fields = line.strip().split("\t")
        if fields[0] == "path":
            info["path"] = fields[1]
        elif fields[0] == "mod":
            info["main"] = (fields[1], fields[2])
        elif fields[0] == "build":
            key, _, value = fields[1].partition("=")
            # go version -m re-quotes values with spaces; debug/buildinfo unquotes them.
            info["settings"][key] = json.loads(value) if value.startswith('"') else value  # type: ignore[index]
    return info


@pytest.mark.parametrize("program", ["server", "noop", "cgo", "static-tags"])
def test_buildinfo_equals_go_version_m(
    toolchain: Toolchain, fixtures: dict[str, Path], program: str
) -> None:
    if program == "cgo":
        path = cgo_program_built(toolchain)
    elif program == "static-tags":
        path = toolchain.build(
            REPO / "examples" / "noop", "noop-tags", flags=["-tags", "timetzdata,netgo"]
        )
    else:
        path = toolchain.build(REPO / "examples" / program, program)
    expected = go_version_m(toolchain, path)
    with ElfFile(str(path)) as elf:
        info = read_buildinfo(elf)
    assert info is not None
    assert info.go_version == expected["version"] == toolchain.version
    assert info.path == expected["path"]
    assert info.main is not None and (info.main.path, info.main.version) == expected["main"]
    assert info.settings == expected["settings"]


def test_non_go_program_has_no_buildinfo() -> None:
    with ElfFile("/bin/ls") as elf:
        assert read_buildinfo(elf) is None


ELF_FILES = [
    *SYSTEM_BINARIES,
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/lib64/ld-linux-x86-64.so.2",
    "/usr/lib/x86_64-linux-gnu/libcurl.so.4",
]


@pytest.mark.parametrize("path", ELF_FILES)
def test_reader_agrees_with_pyelftools(path: str) -> None:
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    if not os.path.exists(path):
        pytest.skip(f"{path} is not installed")
    with open(path, "rb") as f, ElfFile(path) as ours_elf:
        theirs = ELFFile(f)
        assert ours_elf.bits == theirs.elfclass
        assert ours_elf.machine_name.replace("-", "_").upper() in theirs["e_machine"].replace(
            "EM_", ""
        )
        assert [s.type for s in ours_elf.segments] == [
            seg["p_type"] if isinstance(seg["p_type"], int) else _pt(seg["p_type"])
            for seg in theirs.iter_segments()
        ]
        dynamic = next(s for s in theirs.iter_sections() if isinstance(s, DynamicSection))
        tags = [t for t in dynamic.iter_tags()]
        ours_dynamic = ours_elf.dynamic()
        assert ours_dynamic is not None
        assert list(ours_dynamic.needed) == [
            vars(t)["needed"] for t in tags if t.entry.d_tag == "DT_NEEDED"
        ]
        sonames = [vars(t)["soname"] for t in tags if t.entry.d_tag == "DT_SONAME"]
        assert ours_dynamic.soname == (sonames[0] if sonames else None)
        assert [s.name for s in ours_elf.sections()] == [s.name for s in theirs.iter_sections()]


def _pt(name: str) -> int:
    from elftools.elf.enums import ENUM_P_TYPE_BASE

    return int(ENUM_P_TYPE_BASE[name])


def test_missing_library_fails_naming_soname_and_needer(cgo_program: Path, tmp_path: Path) -> None:
    """A library the program needs (here: one it dlopen()s) is absent: exit 78, nothing runs."""
    from tests.helpers.process import run_golaunch

    (tmp_path / "server").write_bytes(cgo_program.read_bytes())
    (tmp_path / "server").chmod(0o755)
    inspection = inspect_program(str(tmp_path / "server"), {}, ["libdoesnotexist.so.9"])
    assert inspection.resolution is not None
    missing = {lib.soname: lib for lib in inspection.resolution.missing}
    assert missing["libdoesnotexist.so.9"].needed_by == str(tmp_path / "server")
    run = run_golaunch(
        "--log-target",
        "stderr",
        "--require-lib",
        "libdoesnotexist.so.9",
        "--",
        str(tmp_path / "server"),
        env={"HOME": str(tmp_path)},
    )
    assert run.returncode == 78
    assert (
        f"golaunch: library: libdoesnotexist.so.9, needed by {tmp_path / 'server'}, is not found"
        in run.stderr
    )
    assert "/etc/ld.so.cache" in run.stderr


def test_static_go_program_has_no_interpreter(go_new: Toolchain) -> None:
    static = go_new.build(REPO / "examples" / "noop", "noop-static")
    inspection = inspect_program(str(static), {}, ())
    assert inspection.problem is None and inspection.interpreter is None
    assert inspection.resolution is None and inspection.buildinfo is not None
    ldd_says = subprocess.run(["ldd", str(static)], capture_output=True, text=True, check=False)
    assert "not a dynamic executable" in ldd_says.stdout + ldd_says.stderr


def go_unquote(toolchain: Toolchain, literals: list[str]) -> list[bytes | None]:
    """strconv.Unquote of each literal, run by Go itself."""
    program = toolchain.build(REPO / "tests" / "fixtures" / "unquote", "unquote")
    out = subprocess.run(
        [str(program)], input="".join(f"{line}\n" for line in literals),
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [None if line == "refused" else bytes.fromhex(line) for line in out.splitlines()]


PIECES = [
    "a", " ", "é", "\\t", "\\n", "\\\\", '\\"', "\\x41", "\\xe9", "\\101", "\\400", "\\u00e9",
    "\\U0001F600", "\\ud800", "\\U00110000", "\\q", "\\'", "\\x4", "\\", '"', "\t",
]  # fmt: skip
LITERAL = st.lists(st.sampled_from(PIECES), max_size=6).map(lambda p: '"' + "".join(p) + '"')


@settings(max_examples=20, deadline=None)
@given(st.lists(LITERAL, min_size=1, max_size=50))
def test_quoted_build_settings_read_as_go_reads_them(
    go_new: Toolchain, literals: list[str]
) -> None:
    """A build setting with spaces (-ldflags="-s -w") is a Go string literal in the build info;
    golaunch reads it without Python's ast, as strconv.Unquote does."""
    for literal, theirs in zip(literals, go_unquote(go_new, literals), strict=True):
        expected = literal if theirs is None else theirs.decode("utf-8", "replace")
        assert _unquote(literal) == expected, literal


def buildinfo_facts(info: object) -> object:
    if info is None:
        return None
    from golaunch.elf.buildinfo import BuildInfo

    assert isinstance(info, BuildInfo)
    modules = [(m.path, m.version, m.sum) for m in (info.main, *info.deps) if m is not None]
    return (info.go_version, info.path, modules, info.settings)


@pytest.mark.parametrize("program", ["server", "noop", "cgo", "static-tags", "script", "c"])
def test_every_start_reads_the_build_info_the_checks_read(
    toolchain: Toolchain, fixtures: dict[str, Path], program: str, tmp_path: Path
) -> None:
    """A warm start reads the build info itself (golaunch.host.execution.program_buildinfo)
    for GOMEMLIMIT and GOMAXPROCS; it must be what the program check found."""
    from golaunch.host.execution import program_buildinfo

    if program == "cgo":
        path = cgo_program_built(toolchain)
    elif program == "static-tags":
        noop = REPO / "examples" / "noop"
        path = toolchain.build(noop, "noop-tags", flags=["-tags", "timetzdata,netgo"])
    elif program == "script":  # a #! script whose interpreter is a Go program
        path = tmp_path / "script"
        path.write_text(f"#!{toolchain.build(REPO / 'examples' / 'noop', 'noop')} -v\n")
        path.chmod(0o755)
    elif program == "c":
        path = fixtures["rpath"]
    else:
        path = toolchain.build(REPO / "examples" / program, program)
    inspection = inspect_program(str(path), {"PATH": "/usr/bin:/bin"}, ())
    assert inspection.problem is None
    expected = buildinfo_facts(inspection.buildinfo)
    assert (expected is None) == (program == "c")
    assert buildinfo_facts(program_buildinfo(str(path))) == expected
