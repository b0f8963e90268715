"""Programs that exec would choke on, and files built to break the reader: clear fails, no hangs."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golaunch.host.program import inspect_program
from tests.helpers.elf import patch_machine
from tests.helpers.paths import BASE_PATH, REPO
from tests.helpers.process import run_golaunch
from tests.helpers.toolchain import Toolchain

TRUE = Path("/bin/true").read_bytes()


def check(program: str, *extra: str) -> tuple[int, str]:
    result = run_golaunch("--check", *extra, "--", program, env={"HOME": "/root"})
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout


def write(path: Path, data: bytes, mode: int = 0o755) -> None:
    path.write_bytes(data)
    path.chmod(mode)


def test_missing_interpreter_fails_before_exec(tmp_path: Path) -> None:
    program = tmp_path / "server"
    assert b"/lib64/ld-linux-x86-64.so.2\0" in TRUE
    program.write_bytes(
        TRUE.replace(b"/lib64/ld-linux-x86-64.so.2\0", b"/nonexist/ld-linux-x86.so.2\0")
    )
    program.chmod(0o755)
    code, out = check(str(program))
    assert code == 78
    assert "fail  interpreter  the ELF interpreter /nonexist/ld-linux-x86.so.2" in out
    assert "No such file or directory" in out


def test_foreign_machine_fails(tmp_path: Path) -> None:
    program = tmp_path / "arm-server"
    program.write_bytes(TRUE)
    program.chmod(0o755)
    patch_machine(program, 183)
    code, out = check(str(program))
    assert code == 78
    assert "ELF 64-bit LSB shared object, aarch64; this host runs 64-bit x86-64 programs" in out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.symlink_to(p), "is a symlink loop"),
        (lambda p: p.mkdir(), "is a directory, not a program"),
        (os.mkfifo, "is not a regular file"),
        (lambda p: p.symlink_to("/dev/zero"), "is not a regular file"),
        (lambda p: write(p, b"MZ\x90\x00"), "neither an ELF executable nor a #! script"),
        (lambda p: write(p, b"#!\n"), "a #! script naming no interpreter"),
        (lambda p: write(p, b"\x7fELF"), "is not an ELF file"),
        (lambda p: write(p, TRUE[:100]), "truncated"),
        (lambda p: write(p, TRUE, 0o644), "is not executable by uid"),
    ],
    ids=[
        "symlink-loop",
        "directory",
        "fifo",
        "dev-zero",
        "pe-file",
        "empty-shebang",
        "elf-magic-only",
        "truncated-header",
        "not-executable",
    ],
)
def test_unrunnable_programs(
    tmp_path: Path,
    make: Callable[[Path], object],
    message: str,
) -> None:
    program = tmp_path / "prog"
    make(program)
    code, out = check(str(program))
    assert code == 78
    assert message in out


def test_script_interpreter_is_inspected_as_elf(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh -e\necho hi\n")
    script.chmod(0o755)
    inspection = inspect_program(str(script), {}, ())
    assert inspection.problem is None and inspection.script_interpreter == "/bin/sh"
    assert inspection.interpreter == "/lib64/ld-linux-x86-64.so.2"


@settings(
    max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cut=st.integers(min_value=0, max_value=len(TRUE)),
    flips=st.lists(st.integers(0, len(TRUE) * 8 - 1), max_size=8),
    seed=st.integers(0, 2**32),
)
def test_damaged_binaries_never_raise(
    tmp_path_factory: pytest.TempPathFactory, cut: int, flips: list[int], seed: int
) -> None:
    data = bytearray(TRUE[:cut] if seed % 2 else TRUE)
    for bit in flips:
        if bit // 8 < len(data):
            data[bit // 8] ^= 1 << (bit % 8)
    path = tmp_path_factory.mktemp("hostile") / "prog"
    path.write_bytes(bytes(data))
    path.chmod(0o755)
    inspection = inspect_program(str(path), {}, ())  # must return, whatever the bytes
    assert inspection.problem is None or inspection.problem.path == str(path)
    random.seed(seed)


def test_dependency_cycle_terminates(tmp_path: Path) -> None:
    """Two libraries that need each other: each is loaded once."""
    import subprocess

    src = tmp_path / "a.c"
    src.write_text("int a(void){return 1;}\n")
    for name in ("liba.so", "libb.so"):
        subprocess.run(
            ["gcc", "-shared", "-fPIC", f"-Wl,-soname,{name}", "-o", tmp_path / name, src],
            check=True,
        )
    for name, other in (("liba.so", "libb.so"), ("libb.so", "liba.so")):
        subprocess.run(
            [
                "gcc",
                "-shared",
                "-fPIC",
                f"-Wl,-soname,{name}",
                "-o",
                tmp_path / name,
                src,
                "-Wl,--no-as-needed",
                f"-L{tmp_path}",
                f"-l:{other}",
                f"-Wl,-rpath,{tmp_path}",
            ],
            check=True,
        )
    main = tmp_path / "main.c"
    main.write_text("int main(void){return 0;}\n")
    subprocess.run(
        [
            "gcc",
            "-o",
            tmp_path / "prog",
            main,
            f"-L{tmp_path}",
            "-Wl,--no-as-needed",
            "-l:liba.so",
            f"-Wl,-rpath,{tmp_path}",
        ],
        check=True,
    )
    inspection = inspect_program(str(tmp_path / "prog"), {}, ())
    assert inspection.resolution is not None
    names = [lib.soname for lib in inspection.resolution.libraries]
    assert names.count("liba.so") == 1 and names.count("libb.so") == 1


def header_fields(image: bytes) -> list[tuple[int, int]]:
    """(offset, size) of the fields a reader trusts: ELF header counts and offsets, each
    program header's offsets and sizes, and each dynamic entry's value."""
    fields = [(32, 8), (40, 8), (54, 2), (56, 2), (58, 2), (60, 2), (62, 2)]
    phoff, phnum = int.from_bytes(image[32:40], "little"), int.from_bytes(image[56:58], "little")
    for i in range(phnum):
        base = phoff + 56 * i
        fields += [(base, 4), (base + 8, 8), (base + 16, 8), (base + 32, 8), (base + 40, 8)]
        if int.from_bytes(image[base : base + 4], "little") == 2:  # PT_DYNAMIC
            offset = int.from_bytes(image[base + 8 : base + 16], "little")
            size = int.from_bytes(image[base + 32 : base + 40], "little")
            fields += [(offset + entry + 8, 8) for entry in range(0, size, 16)]
    return fields


EDGES = [0, 1, 0x7F, 0xFFFF, 2**31 - 1, 2**32, 2**63, 2**64 - 1]


@pytest.mark.parametrize("name", ["true", "cgo", "go-static"])
@settings(
    max_examples=100, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_damaged_structures_never_raise(
    name: str, go_new: Toolchain, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Structure-aware: the counts, offsets and sizes the reader follows, set to edges
    (0, 2**63, all ones, ...) or anything. A finding or a clean result, never an exception."""
    image = bytearray(_real_program(name, go_new).read_bytes())
    fields = header_fields(bytes(image))
    for _ in range(data.draw(st.integers(1, 4))):
        offset, size = data.draw(st.sampled_from(fields))
        value = data.draw(st.sampled_from(EDGES) | st.integers(0, 2**64 - 1)) % (1 << 8 * size)
        image[offset : offset + size] = value.to_bytes(size, "little")
    path = tmp_path_factory.mktemp("structure") / "prog"
    write(path, bytes(image))
    inspection = inspect_program(str(path), {}, ())
    assert inspection.problem is None or inspection.problem.path == str(path)


def _real_program(name: str, go_new: Toolchain) -> Path:
    if name == "true":
        return Path("/bin/true")
    if name == "cgo":
        from tests.helpers.elf import cgo_program_built as _cgo

        return _cgo(go_new)
    return go_new.build(REPO / "examples" / "noop", "noop-static")


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")
def test_a_program_on_a_noexec_mount_says_noexec() -> None:
    from tests.helpers.namespace import run_isolated

    mount = "/run/noexec"
    copy = ["cp", "/bin/true", f"{mount}/true"]
    result = run_isolated(
        [sys.executable, "-m", "golaunch", "--check", "--", f"{mount}/true"],
        {"PATH": BASE_PATH},
        mounts=[("tmpfs", "noexec,mode=0755", mount)],
        setup=[copy],
    )
    assert result.returncode == 78
    assert f"{mount}/true is on a filesystem mounted noexec" in result.stdout
    assert "chmod +x" not in result.stdout
