"""What golaunch will exec: the program, its argv and its environment.

They are computed at every start, full or warm, by `compute_execution`, from
this start's own inputs: the configuration (read afresh, golaunch.config.plain),
golaunch's environment and the host. No file the service can write (its cache,
where a warm start's plan lives) ever decides them. The full start computes them
here too (golaunch.host.context), so the two cannot differ. This module and
what it imports load at every start: no typing, no dataclasses, no collections.
"""

from __future__ import annotations

import os
import stat

from golaunch.host.environment import inherit
from golaunch.host.godirs import GoDir, GoEnvFiles, compute_gocache, compute_gomodcache
from golaunch.host.goruntime import exported, runtime_settings
from golaunch.host.surroundings import surroundings
from golaunch.host.toolchain import GorootLocation, find_in_path, locate_goroot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from golaunch.elf.buildinfo import BuildInfo
    from golaunch.host.cgroups import Limits
    from golaunch.host.goruntime import Setting

SHEBANG_MAX = 256  # the kernel reads this much of a #! line (BINPRM_BUF_SIZE)


class Execution:
    """PROGRAM: the resolved path (None: PATH has no such program); ARGV: the program as
    given, then its arguments; ENVIRONMENT: what the program gets. The rest says how the
    environment came about, for the checks and the launch entry."""

    __slots__ = (
        "argv",
        "environment",
        "gocache",
        "gomodcache",
        "goroot",
        "notify_mode",
        "program",
        "runtime",
        "surroundings",
    )

    def __init__(
        self,
        *,
        program: str | None,
        argv: tuple[str, ...],
        environment: dict[str, str],
        goroot: GorootLocation | None,
        gocache: GoDir,
        gomodcache: GoDir,
        runtime: tuple[Setting, ...],
        notify_mode: str,
        surroundings: str,
    ) -> None:
        self.program = program
        self.argv = argv
        self.environment = environment
        self.goroot = goroot  # None: no toolchain in play
        self.gocache = gocache
        self.gomodcache = gomodcache
        self.runtime = runtime  # GOMEMLIMIT and GOMAXPROCS: exported, or why not
        self.notify_mode = notify_mode  # "ready", "passthrough" or "none" ("auto" resolved)
        self.surroundings = surroundings  # a unit's, a container's or a shell's


def compute_execution(
    values: Mapping[str, Any],
    environ: Mapping[str, str],
    credentials: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    where: str | None = None,
) -> Execution:
    """The execution a configuration (VALUES, shaped as to_plain gives it) asks for, with
    golaunch's environment ENVIRON. CREDENTIALS: variables whose values come from
    credentials; LIMITS: the cgroup limits the program will run under (by default,
    golaunch's own); WHERE: the surroundings, when the caller has them already."""
    go, settings = values["go"], values["environment"]
    notify_mode = resolve_notify_mode(values["notify"]["mode"], environ)
    base = inherit(environ, settings["keep"], notify_mode == "passthrough")
    goroot = locate_goroot(go["goroot"], environ, settings["set"].get("PATH", settings["path"]))
    files = GoEnvFiles(base, goroot.path if goroot else None)
    where = where or surroundings(environ)
    gocache = compute_gocache(go["gocache"], base, files, where)
    gomodcache = compute_gomodcache(
        go["gomodcache"], base, files, goroot.path if goroot else None, where
    )
    environment = compose_environment(values, base, goroot, gocache, gomodcache)
    environment.update(credentials or {})
    program = resolve_program(values["program"], environment.get("PATH", ""))
    buildinfo = program_buildinfo(program) if program else None
    runtime = runtime_settings(buildinfo, environment, go["memlimit_ratio"], limits)
    environment.update(exported(runtime))
    return Execution(
        program=program,
        argv=(values["program"], *values["args"]),
        environment=environment,
        goroot=goroot,
        gocache=gocache,
        gomodcache=gomodcache,
        runtime=runtime,
        notify_mode=notify_mode,
        surroundings=where,
    )


def resolve_notify_mode(mode: str, environ: Mapping[str, str]) -> str:
    if mode == "auto":
        return "ready" if environ.get("NOTIFY_SOCKET") else "none"
    return mode


def go_dirs_in_play(goroot: GorootLocation | None, directory: GoDir) -> bool:
    """Cache directories matter when a toolchain is in play or someone set them on purpose."""
    return goroot is not None or directory.explicit


def compose_environment(
    values: Mapping[str, Any],
    base: Mapping[str, str],
    goroot: GorootLocation | None,
    gocache: GoDir,
    gomodcache: GoDir,
) -> dict[str, str]:
    """BASE (what is inherited), then PATH, the toolchain's variables and the caches, then
    environment.set, last."""
    environment = dict(base)
    environment["PATH"] = values["environment"]["path"]
    if goroot:
        environment["GOROOT"] = goroot.path
        environment["GOTOOLCHAIN"] = values["go"]["toolchain"]
    for directory in (gocache, gomodcache):
        if directory.value and go_dirs_in_play(goroot, directory):
            environment[directory.name] = directory.value
    environment.update(values["environment"]["set"])
    return environment


def resolve_program(program: str, search_path: str) -> str | None:
    """An absolute path as is; a name with a slash from the cwd; a bare name from PATH."""
    if "/" in program:
        return os.path.abspath(program)
    return find_in_path(program, search_path)


def runnable(path: str) -> bool:
    """PATH is a regular file the effective user may execute: the program check's first
    question, which a warm start asks itself whatever its plan says."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    effective = os.access in os.supports_effective_ids
    return stat.S_ISREG(info.st_mode) and os.access(path, os.X_OK, effective_ids=effective)


def program_buildinfo(path: str) -> BuildInfo | None:
    """The Go build info of PATH, or of the interpreter its #! line names, as the program
    check reads it (golaunch.host.program) for a program it passes; None for anything
    else. GOMEMLIMIT and GOMAXPROCS depend on it."""
    from golaunch.elf.buildinfo import read_buildinfo
    from golaunch.elf.elffile import ElfError, ElfFile
    from golaunch.readfile import read_regular_file

    try:
        head = read_regular_file(path, SHEBANG_MAX)[:SHEBANG_MAX]
        if head.startswith(b"#!"):
            words = head[2:].split(b"\n", 1)[0].split()
            if not words:
                return None
            path = words[0].decode("utf-8", "surrogateescape")
        with ElfFile(path) as elf:
            return read_buildinfo(elf)
    except (OSError, ElfError):
        return None
