"""C programs and libraries built with gcc, one per ld.so rule, once per test session."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

from tests.helpers.paths import BUILD, SOURCES
from tests.helpers.toolchain import Toolchain

C = SOURCES / "c"


def gcc(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["gcc", "-O0", *map(str, args)], cwd=cwd, check=True, capture_output=True)


def shared(directory: Path, source: str, soname: str, *extra: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / soname
    gcc("-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", out, C / source, *extra, cwd=directory)
    return out


def patch_machine(path: Path, machine: int) -> None:
    """Make PATH claim another machine (e_machine at offset 18), as a foreign build would."""
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, 18, machine)
    path.write_bytes(bytes(data))


def build_all() -> dict[str, Path]:
    root = BUILD / "elf"
    stamp = root / ".complete"
    programs = {
        "rpath": root / "rpath" / "prog",
        "runpath": root / "runpath" / "prog",
        "chain-rpath": root / "chain" / "prog-rpath",
        "chain-runpath": root / "chain" / "prog-runpath",
        "nodeflib": root / "nodeflib" / "prog",
        "wrong-machine-skipped": root / "wrongmachine" / "prog",
        "ld-library-path": root / "ldpath" / "prog",
        "slash-needed": root / "slash" / "prog",
        "lib-token": root / "libtoken" / "prog",
        "braced-origin": root / "braced" / "prog",
    }
    if stamp.exists():
        return programs
    shutil.rmtree(root, ignore_errors=True)
    _build(root)
    stamp.touch()
    return programs


def _build(root: Path) -> None:
    lib = "-l:libgla.so.1"
    for name, dtags in (("rpath", "--disable-new-dtags"), ("runpath", "--enable-new-dtags")):
        d = root / name
        shared(d / "lib", "gla.c", "libgla.so.1")
        gcc(
            "-o",
            "prog",
            C / "prog.c",
            "-Llib",
            lib,
            "-Wl,-rpath,$ORIGIN/lib",
            f"-Wl,{dtags}",
            cwd=d,
        )
    # RPATH is inherited by the libraries the program loads; RUNPATH is not.
    chain = root / "chain"
    shared(chain / "dep", "inner.c", "libinner.so")
    shared(chain / "dep", "outer.c", "libouter.so", "-L.", "-linner")
    for name, dtags in (
        ("prog-rpath", "--disable-new-dtags"),
        ("prog-runpath", "--enable-new-dtags"),
    ):
        gcc(
            "-o",
            name,
            C / "chain.c",
            "-Ldep",
            "-louter",
            "-Wl,-rpath-link,dep",
            "-Wl,-rpath,$ORIGIN/dep",
            f"-Wl,{dtags}",
            cwd=chain,
        )
    # -z nodeflib: neither ld.so.cache nor the system directories; libc is then not found.
    d = root / "nodeflib"
    shared(d / "lib", "gla.c", "libgla.so.1")
    gcc(
        "-o", "prog", C / "prog.c", "-Llib", lib, "-Wl,-rpath,$ORIGIN/lib", "-Wl,-z,nodeflib", cwd=d
    )
    # A library for another machine earlier in the path is passed over.
    d = root / "wrongmachine"
    shared(d / "first", "gla.c", "libgla.so.1")
    patch_machine(d / "first" / "libgla.so.1", 183)
    shared(d / "second", "gla.c", "libgla.so.1")
    gcc(
        "-o",
        "prog",
        C / "prog.c",
        "-Lsecond",
        lib,
        "-Wl,-rpath,$ORIGIN/first:$ORIGIN/second",
        "-Wl,--enable-new-dtags",
        cwd=d,
    )
    d = root / "ldpath"
    shared(d / "lib", "gla.c", "libgla.so.1")
    gcc("-o", "prog", C / "prog.c", "-Llib", lib, cwd=d)
    # A library without a soname, linked by path: DT_NEEDED holds the path itself.
    d = root / "slash"
    d.mkdir(parents=True)
    gcc("-shared", "-fPIC", "-o", d / "libnosoname.so", C / "gla.c", cwd=d)
    gcc("-o", "prog", C / "prog.c", d / "libnosoname.so", cwd=d)
    d = root / "libtoken"
    libdir = d / "lib" / "x86_64-linux-gnu"
    shared(libdir, "gla.c", "libgla.so.1")
    gcc("-o", "prog", C / "prog.c", f"-L{libdir}", lib, "-Wl,-rpath,$ORIGIN/$LIB", cwd=d)
    d = root / "braced"
    shared(d / "x86_64", "gla.c", "libgla.so.1")
    gcc("-o", "prog", C / "prog.c", "-Lx86_64", lib, "-Wl,-rpath,${ORIGIN}/$PLATFORM", cwd=d)


def many_needed(count: int) -> Path:
    """A program with COUNT DT_NEEDED entries, found through $ORIGIN/libs.

    The libraries are hard links to one empty library built without a soname,
    so each link's name becomes its own DT_NEEDED and ld.so loads the file once
    (it knows files by device and inode)."""
    root = BUILD / f"needed-{count}"
    program = root / "prog"
    if program.exists():
        return program
    libs = root / "libs"
    shutil.rmtree(root, ignore_errors=True)
    libs.mkdir(parents=True)
    (root / "empty.c").write_text("")
    (root / "main.c").write_text("int main(void) { return 0; }\n")
    gcc("-shared", "-fPIC", "-o", libs / "base.so", root / "empty.c", cwd=root)
    names = [f"lib{i:05}.so" for i in range(count)]
    for name in names:
        os.link(libs / "base.so", libs / name)
    (root / "libs.rsp").write_text("".join(f"-l:{name}\n" for name in names))
    gcc(
        "-o", program.with_suffix(".tmp"), root / "main.c", f"-L{libs}", "-Wl,--no-as-needed",
        "@libs.rsp", "-Wl,-rpath,$ORIGIN/libs", cwd=root,
    )  # fmt: skip
    program.with_suffix(".tmp").rename(program)
    return program


def cgo_program_built(toolchain: Toolchain) -> Path:
    libdir = BUILD / "elf" / "cgo-lib"
    if not (libdir / "libgla.so.1").exists():
        shared(libdir, "gla.c", "libgla.so.1")
    flags = f"-L{libdir} -l:libgla.so.1 -Wl,-rpath,{libdir}"
    return toolchain.build(SOURCES / "cgo", "cgo", cgo=True, env={"CGO_LDFLAGS": flags})
