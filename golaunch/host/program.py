"""What the program file is: ELF, a #! script, or something exec cannot run. Reads, never runs.

What is wrong is recorded as a `FileProblem` value; golaunch.checks.program words it.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from golaunch.elf.buildinfo import BuildInfo, read_buildinfo
from golaunch.elf.elffile import ET_DYN, ET_EXEC, ElfError, ElfFile
from golaunch.elf.resolve import Resolution, Resolver
from golaunch.host.execution import SHEBANG_MAX


class Unrunnable:
    """Why execve(2) would not run a file. Plain strings: an Enum's class costs more to
    build at every start than all its uses."""

    MISSING = "missing"
    DANGLING_SYMLINK = "dangling symlink"
    SYMLINK_LOOP = "symlink loop"
    UNEXAMINABLE = "unexaminable"  # detail: strerror
    DIRECTORY = "directory"
    NOT_REGULAR = "not regular"
    NOT_EXECUTABLE = "not executable"  # detail: the file's mode, as ls shows it
    NOEXEC_MOUNT = "noexec mount"  # detail: the file's mode
    UNREADABLE = "unreadable"  # detail: strerror
    UNKNOWN_FORMAT = "unknown format"  # detail: the first bytes
    NO_INTERPRETER_NAMED = "no interpreter named"
    BAD_ELF = "bad ELF"  # detail: what the ELF reader found
    NOT_AN_EXECUTABLE = "not an executable"  # detail: the ELF description
    WRONG_HOST = "wrong host"  # detail: the ELF description


class FileProblem(NamedTuple):
    reason: str  # an Unrunnable
    path: str  # the file that has it
    detail: str = ""
    script: str | None = None  # the #! script whose interpreter has it


@dataclass(frozen=True)
class Inspection:
    path: str  # the file inspected: the program, or a script's interpreter
    problem: FileProblem | None = None  # why exec would fail, for the program check
    script_interpreter: str | None = None  # set when the program is a #! script
    description: str = ""
    elf: Mapping[str, Any] | None = None
    interpreter: str | None = None  # PT_INTERP
    resolution: Resolution | None = None
    buildinfo: BuildInfo | None = None
    buildinfo_error: str | None = None


def file_problem(path: str) -> FileProblem | None:
    """Why PATH cannot be executed by the effective user, or None."""
    try:
        info = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return FileProblem(Unrunnable.SYMLINK_LOOP, path)
        if e.errno == errno.ENOENT:
            dangling = os.path.islink(path)
            return FileProblem(
                Unrunnable.DANGLING_SYMLINK if dangling else Unrunnable.MISSING, path
            )
        return FileProblem(Unrunnable.UNEXAMINABLE, path, e.strerror or str(e))
    if stat.S_ISDIR(info.st_mode):
        return FileProblem(Unrunnable.DIRECTORY, path)
    if not stat.S_ISREG(info.st_mode):
        return FileProblem(Unrunnable.NOT_REGULAR, path)
    if not os.access(path, os.X_OK, effective_ids=os.access in os.supports_effective_ids):
        # access(2) refuses X_OK on a noexec mount too, whatever the mode says.
        noexec = os.statvfs(path).f_flag & os.ST_NOEXEC
        reason = Unrunnable.NOEXEC_MOUNT if noexec else Unrunnable.NOT_EXECUTABLE
        return FileProblem(reason, path, stat.filemode(info.st_mode))
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
        return Inspection(path, problem=problem)
    try:
        with open(path, "rb") as f:
            head = f.read(SHEBANG_MAX)
    except OSError as e:
        return Inspection(
            path, problem=FileProblem(Unrunnable.UNREADABLE, path, e.strerror or str(e))
        )
    if head.startswith(b"#!"):
        return _inspect_script(path, head, environment, required)
    if head.startswith(b"\x7fELF"):
        return inspect_elf(path, environment, required)
    return Inspection(path, problem=FileProblem(Unrunnable.UNKNOWN_FORMAT, path, repr(head[:16])))


def _inspect_script(
    path: str, head: bytes, environment: Mapping[str, str], required: Sequence[str]
) -> Inspection:
    line = head[2:].split(b"\n", 1)[0].strip()
    interpreter = line.split()[0].decode("utf-8", "surrogateescape") if line else ""
    if not interpreter:
        return Inspection(path, problem=FileProblem(Unrunnable.NO_INTERPRETER_NAMED, path))
    problem = file_problem(interpreter)
    if problem is None:
        inner = inspect_elf(interpreter, environment, required)
        if inner.problem is None:
            return Inspection(**{**inner.__dict__, "script_interpreter": interpreter})
        problem = inner.problem
    return Inspection(
        path,
        script_interpreter=interpreter,
        problem=FileProblem(problem.reason, problem.path, problem.detail, script=path),
    )


def host_elf_problem(path: str) -> FileProblem | None:
    """Why PATH is not an ELF file this host can run, without reading more than its headers."""
    try:
        with ElfFile(path) as elf:
            if (elf.bits, elf.endian, elf.machine) != host_elf():
                return FileProblem(Unrunnable.WRONG_HOST, path, elf.description)
    except ElfError as e:
        return FileProblem(Unrunnable.BAD_ELF, path, str(e))
    return None


def inspect_elf(path: str, environment: Mapping[str, str], required: Sequence[str]) -> Inspection:
    try:
        with ElfFile(path) as elf:
            return _inspect_open_elf(elf, environment, required)
    except ElfError as e:
        return Inspection(path, problem=FileProblem(Unrunnable.BAD_ELF, path, str(e)))


def _inspect_open_elf(
    elf: ElfFile, environment: Mapping[str, str], required: Sequence[str]
) -> Inspection:
    path = elf.path
    if elf.type not in (ET_EXEC, ET_DYN):
        return Inspection(
            path, problem=FileProblem(Unrunnable.NOT_AN_EXECUTABLE, path, elf.description)
        )
    if (elf.bits, elf.endian, elf.machine) != host_elf():
        return Inspection(path, problem=FileProblem(Unrunnable.WRONG_HOST, path, elf.description))
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


def _secure_execution(path: str) -> bool:
    """AT_SECURE: a set-user/group-ID program run by someone else ignores LD_LIBRARY_PATH."""
    info = os.stat(path)
    return bool(
        (info.st_mode & stat.S_ISUID and info.st_uid != os.geteuid())
        or (info.st_mode & stat.S_ISGID and info.st_gid != os.getegid())
    )
