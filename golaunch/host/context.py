"""The launch context: the host facts every check reads, gathered once and frozen.

The data flows one way: the validated configuration and golaunch's own
environment go in; GOROOT, the toolchain's version, the cache locations, the
program's environment (with GOMEMLIMIT and GOMAXPROCS from the cgroup's limits)
and the inspected program file come out. Nothing here
writes to disk.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from golaunch.config.schema import Config
from golaunch.host.cgroups import Limits
from golaunch.host.environment import inherit
from golaunch.host.godirs import GoDir, GoEnvFiles, compute_gocache, compute_gomodcache
from golaunch.host.goruntime import Setting, exported, plan
from golaunch.host.program import Inspection, inspect_program
from golaunch.host.surroundings import CONTAINER, UNIT, cache_fix, surroundings
from golaunch.host.toolchain import (
    GorootLocation,
    ToolchainVersion,
    find_in_path,
    locate_goroot,
    read_toolchain_version,
)

if TYPE_CHECKING:
    from golaunch.host.credentials import Credential
    from golaunch.systemd.manager import KnownView, PendingView


@dataclass(frozen=True)
class LaunchContext:
    config: Config
    inherited: Mapping[str, str]  # golaunch's own environment
    notify_mode: str  # "ready", "passthrough" or "none" ("auto" resolved)
    argv: tuple[str, ...]  # the program as given, then its arguments
    program: str | None  # the resolved path; None when PATH has no such program
    goroot: GorootLocation | None  # None: no toolchain in play
    toolchain: ToolchainVersion | None
    gocache: GoDir
    gomodcache: GoDir
    environment: Mapping[str, str] = field(default_factory=dict)  # what the program gets
    euid: int = 0
    config_path: str | None = None  # the TOML file the configuration came from
    inspection: Inspection | None = None  # None when the program was not found
    toolchain_required: bool = False  # the user asked for a toolchain (see requires_toolchain)
    unit_view: PendingView | KnownView | None = (
        None  # the unit as its manager sees it, asked only for probes
    )
    credentials: tuple[Credential, ...] = ()  # asked for as variables; values never shown
    runtime: tuple[Setting, ...] = ()  # GOMEMLIMIT and GOMAXPROCS: exported, or why not
    surroundings: str = UNIT  # a unit's, a container's or a shell's (golaunch.host.surroundings)

    @property
    def shown_environment(self) -> dict[str, str]:
        """The program's environment as reports show it: credentials' contents hidden."""
        from golaunch.host.credentials import shown

        return shown(self.environment, self.credentials)

    @property
    def program_label(self) -> str:
        return self.program or self.argv[0]

    def cache_fix(self, name: str) -> str:
        return cache_fix(name, self.surroundings)

    def cache_required(self, directory: GoDir) -> bool:
        """A cache's problems fail the start only when the user asked for it or a toolchain."""
        return self.toolchain_required or directory.explicit


def resolve_notify_mode(mode: str, inherited: Mapping[str, str]) -> str:
    if mode == "auto":
        return "ready" if inherited.get("NOTIFY_SOCKET") else "none"
    return mode


def build_context(
    config: Config,
    inherited: Mapping[str, str],
    config_path: str | None = None,
    limits: Limits | None = None,
) -> LaunchContext:
    """Compute GOROOT, the Go directories and the program's environment from the config.
    LIMITS: the cgroup limits the program will run under; by default, golaunch's own."""
    if config.program is None:
        raise ValueError("build_context needs a program")  # the CLI ensures one
    notify_mode = resolve_notify_mode(config.notify.mode, inherited)
    base = inherit(inherited, config.environment.keep, notify_mode == "passthrough")
    search_path = config.environment.set.get("PATH", config.environment.path)
    goroot = locate_goroot(config.go.goroot, inherited, search_path)
    toolchain = read_toolchain_version(goroot.path) if goroot else None
    files = GoEnvFiles(base, goroot.path if goroot else None)
    where = surroundings(inherited)
    gocache = compute_gocache(config.go.gocache, base, files, where)
    gomodcache = compute_gomodcache(
        config.go.gomodcache, base, files, goroot.path if goroot else None, where
    )
    credentials = _read_credentials(config, inherited)
    environment = compose_environment(config, base, goroot, gocache, gomodcache)
    environment.update({c.variable: c.value for c in credentials if c.value is not None})
    program = resolve_program(config.program, environment.get("PATH", ""))
    inspection = (
        inspect_program(program, environment, config.libraries.require) if program else None
    )
    runtime = plan(
        inspection.buildinfo if inspection else None, environment, config.go.memlimit_ratio, limits
    )
    environment.update(exported(runtime))
    return LaunchContext(
        surroundings=where,
        runtime=runtime,
        credentials=credentials,
        unit_view=None if where == CONTAINER else _ask_manager(config),
        toolchain_required=requires_toolchain(config, program),
        config=config,
        inherited=inherited,
        notify_mode=notify_mode,
        argv=(config.program, *config.args),
        program=program,
        goroot=goroot,
        toolchain=toolchain,
        gocache=gocache,
        gomodcache=gomodcache,
        environment=environment,
        euid=os.geteuid(),
        config_path=config_path,
        inspection=inspection,
    )


def _read_credentials(config: Config, inherited: Mapping[str, str]) -> tuple[Credential, ...]:
    if not (config.credentials.env or config.credentials.file_env):
        return ()  # most units pass none: the reader need not even load
    from golaunch.host.credentials import read_credentials

    return read_credentials(config.credentials, inherited)


def _ask_manager(config: Config) -> PendingView | None:
    """Only a probe or the watchdog needs the unit's settings: plain launches pay nothing."""
    if config.notify.probe is None and not config.notify.watchdog:
        return None
    from golaunch.systemd.manager import PendingView

    return PendingView()


def requires_toolchain(config: Config, program: str | None) -> bool:
    """Only the user's words make a toolchain's needs fatal: go.goroot, go.version,
    go.required, go.gocache or go.gomodcache, or a program that is the go command itself.
    A toolchain merely discovered (an inherited GOROOT, a `go` on PATH) is exported, and
    its problems are warnings: the program may never run `go`."""
    go = config.go
    if go.goroot or go.version or go.required or go.gocache or go.gomodcache:
        return True
    return program is not None and os.path.basename(os.path.realpath(program)) == "go"


def go_dirs_in_play(goroot: GorootLocation | None, directory: GoDir) -> bool:
    """Cache directories matter when a toolchain is in play or someone set them on purpose."""
    return goroot is not None or directory.explicit


def compose_environment(
    config: Config,
    base: Mapping[str, str],
    goroot: GorootLocation | None,
    gocache: GoDir,
    gomodcache: GoDir,
) -> dict[str, str]:
    environment = dict(base)
    environment["PATH"] = config.environment.path
    if goroot:
        environment["GOROOT"] = goroot.path
        environment["GOTOOLCHAIN"] = config.go.toolchain
    for directory in (gocache, gomodcache):
        if directory.value and go_dirs_in_play(goroot, directory):
            environment[directory.name] = directory.value
    environment.update(config.environment.set)
    return environment


def resolve_program(program: str, search_path: str) -> str | None:
    """An absolute path as is; a name with a slash from the cwd; a bare name from PATH."""
    if "/" in program:
        return os.path.abspath(program)
    return find_in_path(program, search_path)
