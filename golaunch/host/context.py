"""The launch context: what every check reads, gathered in one pass and frozen.

The data flows one way: the validated configuration and golaunch's own
environment go in. The execution comes out as every start computes it
(golaunch.host.execution: the program, its environment with GOROOT, the caches,
GOMEMLIMIT and GOMAXPROCS), and with it what only the checks need: the
toolchain's version, the inspected program file, credentials and the unit's
view. Nothing here writes to disk.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from golaunch.config.schema import Config, to_plain
from golaunch.host.cgroups import Limits
from golaunch.host.execution import Execution, compute_execution
from golaunch.host.godirs import GoDir
from golaunch.host.goruntime import Setting
from golaunch.host.program import Inspection, inspect_program
from golaunch.host.surroundings import CONTAINER, cache_fix
from golaunch.host.toolchain import GorootLocation, ToolchainVersion, read_toolchain_version

if TYPE_CHECKING:
    from golaunch.host.credentials import Credential
    from golaunch.systemd.manager import KnownView, PendingView


@dataclass(frozen=True)
class LaunchContext:
    """What every check reads: the execution this start computed, and the rest."""

    config: Config
    environ: Mapping[str, str]  # golaunch's own environment
    execution: Execution  # the program, its argv and environment, and how they came about
    toolchain: ToolchainVersion | None
    euid: int = 0
    config_path: str | None = None  # the TOML file the configuration came from
    inspection: Inspection | None = None  # None when the program was not found
    toolchain_required: bool = False  # the user asked for a toolchain (see requires_toolchain)
    unit_view: PendingView | KnownView | None = (
        None  # the unit as its manager sees it, asked only for probes
    )
    credentials: tuple[Credential, ...] = ()  # asked for as variables; values never shown

    @property
    def program(self) -> str | None:
        """The resolved path; None when PATH has no such program."""
        return self.execution.program

    @property
    def argv(self) -> tuple[str, ...]:
        return self.execution.argv

    @property
    def environment(self) -> Mapping[str, str]:
        """What the program gets."""
        return self.execution.environment

    @property
    def notify_mode(self) -> str:
        return self.execution.notify_mode

    @property
    def goroot(self) -> GorootLocation | None:
        return self.execution.goroot

    @property
    def gocache(self) -> GoDir:
        return self.execution.gocache

    @property
    def gomodcache(self) -> GoDir:
        return self.execution.gomodcache

    @property
    def runtime(self) -> tuple[Setting, ...]:
        """GOMEMLIMIT and GOMAXPROCS: exported, or why not."""
        return self.execution.runtime

    @property
    def surroundings(self) -> str:
        """A unit's, a container's or a shell's (golaunch.host.surroundings)."""
        return self.execution.surroundings

    @property
    def shown_environment(self) -> dict[str, str]:
        """The program's environment as reports show it: credentials' contents hidden."""
        from golaunch.host.credentials import shown

        return shown(self.environment, self.credentials)

    @property
    def label(self) -> str:
        """The program as golaunch names it (journal entries, STATUS=): its resolved path,
        or argv[0] when PATH has no such program."""
        return self.program or self.argv[0]

    def cache_fix(self, name: str) -> str:
        return cache_fix(name, self.surroundings)

    def cache_required(self, directory: GoDir) -> bool:
        """A cache's problems fail the start only when the user asked for it or a toolchain."""
        return self.toolchain_required or directory.explicit


def build_context(
    config: Config,
    environ: Mapping[str, str],
    config_path: str | None = None,
    limits: Limits | None = None,
) -> LaunchContext:
    """The execution the configuration asks for (golaunch.host.execution, as every start
    computes it), and what the checks read besides: GOROOT's version, the program file.
    LIMITS: the cgroup limits the program will run under; by default, golaunch's own."""
    if config.program is None:
        raise ValueError("build_context needs a program")  # the CLI ensures one
    credentials = _read_credentials(config, environ)
    execution = compute_execution(
        to_plain(config),
        environ,
        credentials={c.variable: c.value for c in credentials if c.value is not None},
        limits=limits,
    )
    goroot, program = execution.goroot, execution.program
    inspection = (
        inspect_program(program, execution.environment, config.libraries.require)
        if program
        else None
    )
    return LaunchContext(
        config=config,
        environ=environ,
        execution=execution,
        toolchain=read_toolchain_version(goroot.path) if goroot else None,
        euid=os.geteuid(),
        config_path=config_path,
        inspection=inspection,
        toolchain_required=requires_toolchain(config, program),
        unit_view=None if execution.surroundings == CONTAINER else _ask_manager(config),
        credentials=credentials,
    )


def _read_credentials(config: Config, environ: Mapping[str, str]) -> tuple[Credential, ...]:
    if not (config.credentials.env or config.credentials.file_env):
        return ()  # most units pass none: the reader need not even load
    from golaunch.host.credentials import read_credentials

    return read_credentials(config.credentials, environ)


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
