"""What the program file is: ELF, a #! script, or something exec cannot run. Reads, never runs."""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from golaunch.elf.buildinfo import BuildInfo, read_buildinfo
from golaunch.elf.elffile import ET_DYN, ET_EXEC, ElfError, ElfFile
from golaunch.elf.resolve import Resolution, Resolver

SHEBANG_MAX = 256  # the kernel reads this much of a #! line (BINPRM_BUF_SIZE)


@dataclass(frozen=True)
class Inspection:
    path: str  # the file inspected: the program, or a script's interpreter
    problem: str | None = None  # why exec would fail, for the program check
    script_interpreter: str | None = None  # set when the program is a #! script
    description: str = ""
    elf: Mapping[str, Any] | None = None
    interpreter: str | None = None  # PT_INTERP
    resolution: Resolution | None = None
    buildinfo: BuildInfo | None = None
    buildinfo_error: str | None = None


def file_problem(path: str) -> str | None:
    """Why PATH cannot be executed by the effective user, or None."""
    try:
        info = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "is a symlink loop"
        if e.errno == errno.ENOENT:
            return "is a dangling symlink" if os.path.islink(path) else "does not exist"
        return f"cannot be examined: {e.strerror}"
    if stat.S_ISDIR(info.st_mode):
        return "is a directory, not a program"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if not os.access(path, os.X_OK, effective_ids=os.access in os.supports_effective_ids):
        return (
            f"is not executable by uid {os.geteuid()} ({stat.filemode(info.st_mode)}); chmod +x it"
        )
    return None


def binary_document(inspection: Inspection | None) -> dict[str, Any] | None:
    """The "binary" part of the --check --json report."""
    if inspection is None or inspection.elf is None:
        return None
    info = inspection.buildinfo
    go = None
    if info is not None:
        main = {"path": info.main.path, "version": info.main.version} if info.main else None
        go = {
            "version": info.go_version,
            "path": info.path,
            "main": main,
            "settings": info.settings,
        }
    libraries = [
        {"soname": lib.soname, "path": lib.path, "needed_by": lib.needed_by}
        for lib in (inspection.resolution.libraries if inspection.resolution else ())
    ]
    return {"elf": dict(inspection.elf), "go": go, "libraries": libraries}


@functools.cache
def host_elf() -> tuple[int, str, int]:
    """(class, byte order, machine) of this host, from the running interpreter's own ELF header."""
    with ElfFile("/proc/self/exe") as elf:
        return elf.bits, elf.endian, elf.machine


def inspect_program(
    path: str, environment: Mapping[str, str], required: Sequence[str]
) -> Inspection:
    problem = file_problem(path)
    if problem:
        return Inspection(path, problem=f"{path} {problem}")
    try:
        with open(path, "rb") as f:
            head = f.read(SHEBANG_MAX)
    except OSError as e:
        return Inspection(path, problem=f"{path} cannot be read: {e.strerror}")
    if head.startswith(b"#!"):
        return _inspect_script(path, head, environment, required)
    if head.startswith(b"\x7fELF"):
        return inspect_elf(path, environment, required)
    return Inspection(
        path,
        problem=f"{path} is neither an ELF executable nor a #! script "
        f"(it starts with {head[:16]!r}); exec would fail with ENOEXEC",
    )


def _inspect_script(
    path: str, head: bytes, environment: Mapping[str, str], required: Sequence[str]
) -> Inspection:
    line = head[2:].split(b"\n", 1)[0].strip()
    interpreter = line.split()[0].decode("utf-8", "surrogateescape") if line else ""
    if not interpreter:
        return Inspection(path, problem=f"{path} is a #! script naming no interpreter")
    problem = file_problem(interpreter)
    if problem:
        return Inspection(
            path,
            script_interpreter=interpreter,
            problem=f"{path} is a script for {interpreter}, which {problem}",
        )
    inner = inspect_elf(interpreter, environment, required)
    if inner.problem:
        return Inspection(
            path, script_interpreter=interpreter, problem=f"{path} is a script for {inner.problem}"
        )
    return Inspection(**{**inner.__dict__, "script_interpreter": interpreter})


def host_elf_problem(path: str) -> str | None:
    """Why PATH is not an ELF file this host can run, without reading more than its headers."""
    try:
        with ElfFile(path) as elf:
            if (elf.bits, elf.endian, elf.machine) != host_elf():
                return f"{path} is an {elf.description}, not for this host"
    except ElfError as e:
        return f"{path} {e}"
    return None


def inspect_elf(path: str, environment: Mapping[str, str], required: Sequence[str]) -> Inspection:
    try:
        with ElfFile(path) as elf:
            return _inspect_open_elf(elf, environment, required)
    except ElfError as e:
        return Inspection(path, problem=f"{path} {e}")


def _inspect_open_elf(
    elf: ElfFile, environment: Mapping[str, str], required: Sequence[str]
) -> Inspection:
    path = elf.path
    bits, endian, machine = host_elf()
    if elf.type not in (ET_EXEC, ET_DYN):
        return Inspection(path, problem=f"{path} is an {elf.description}, not an executable")
    if (elf.bits, elf.endian, elf.machine) != (bits, endian, machine):
        return Inspection(
            path,
            problem=f"{path} is an {elf.description}; this host runs "
            f"{bits}-bit {_machine_name(machine)} programs",
        )
    interpreter = elf.interpreter()
    buildinfo, buildinfo_error = None, None
    try:
        buildinfo = read_buildinfo(elf)
    except ElfError as e:
        buildinfo_error = str(e)
    resolution = None
    if elf.dynamic() is not None or required:
        secure = _secure_execution(path)
        resolution = Resolver(environment, secure=secure).resolve(path, interpreter, required)
    return Inspection(
        path,
        description=elf.description,
        elf={
            "path": path,
            "class": elf.bits,
            "byteorder": "little" if elf.endian == "<" else "big",
            "machine": elf.machine_name,
            "type": elf.description.split(", ")[0].split(" ", 3)[-1],
            "interpreter": interpreter,
            "static": interpreter is None,
        },
        interpreter=interpreter,
        resolution=resolution,
        buildinfo=buildinfo,
        buildinfo_error=buildinfo_error,
    )


def _machine_name(machine: int) -> str:
    from golaunch.elf.elffile import MACHINES

    return MACHINES.get(machine, f"machine {machine}")


def _secure_execution(path: str) -> bool:
    """AT_SECURE: a set-user/group-ID program run by someone else ignores LD_LIBRARY_PATH."""
    info = os.stat(path)
    return bool(
        (info.st_mode & stat.S_ISUID and info.st_uid != os.geteuid())
        or (info.st_mode & stat.S_ISGID and info.st_gid != os.getegid())
    )
