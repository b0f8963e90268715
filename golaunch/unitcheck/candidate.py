"""--candidate: a unit's check with a new build in place of its program.

A deploy stages the build, checks it, then renames it over the program. What a
rename carries is the file itself: its bytes, mode and owner. What stays is where
the program is: its path in ExecStart=, its directory, its $ORIGIN. So the check's
child, as root and before it becomes the unit's user, enters a mount namespace of
its own and binds the candidate over the installed program; the unit's own checks
then judge the unit as it will be after the rename, by the code --check --unit
runs. The candidate is opened here, as root, and bound from that descriptor, so
the directory it is staged in is never judged. Nothing changes outside the
child: the running service keeps its program, its PID and its state.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from golaunch.elf.elffile import ELF_MAGIC
from golaunch.findings import Finding, noted
from golaunch.status import UsageError
from golaunch.unitcheck.environment import NAME
from golaunch.unitcheck.private import MS_BIND, enter_own_mount_namespace, mount


class Candidate(NamedTuple):
    path: str  # absolute, as the report shows it
    fd: int  # open from the validation to the child's bind


def open_candidate(path: str) -> Candidate:
    """The build at PATH, opened; a UsageError that names the problem when it is none."""
    where = os.path.abspath(path)
    try:
        # O_NONBLOCK: a FIFO in the build's place must not hang the check.
        fd = os.open(where, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ELOOP:  # the last component is a symbolic link
            why = "is a symbolic link; give the file it points to, which a deploy would move"
        else:
            why = e.strerror or str(e)
        raise UsageError(f"--candidate {path}: {why}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"--candidate {path}: not a regular file")
        if os.pread(fd, 4, 0) != ELF_MAGIC:
            raise UsageError(f"--candidate {path}: not an ELF file (a Go build is one)")
    except BaseException:
        os.close(fd)
        raise
    return Candidate(where, fd)


def installed_program(unit: str, argv: Sequence[str], environment: Mapping[str, str]) -> str:
    """The file the unit's golaunch would exec (ARGV is its ExecStart=, ENVIRONMENT what
    systemd gives it): what a deploy replaces, and the candidate stands in for."""
    from golaunch.config.commandline import configure, parse
    from golaunch.config.schema import to_plain
    from golaunch.host.execution import compute_execution

    options = parse(argv[1:])
    configured = configure(options, environment) if options is not None else None
    config = configured.config if configured else None
    if config is None or config.program is None:
        raise UsageError(
            f"--candidate: {unit}'s golaunch configuration names no program it would run; "
            f"see golaunch --check --unit {unit}"
        )
    if not config.program.startswith("/") and "/" in config.program:
        raise UsageError(
            f"--candidate: {unit} runs {config.program}, relative to its working directory; "
            "give the program as an absolute path or a name on PATH"
        )
    program = compute_execution(to_plain(config), environment).program
    if program is None or not os.path.isfile(program):
        raise UsageError(
            f"--candidate: {unit}'s program {program or config.program} is not installed, so "
            f"there is nothing to put the candidate in place of; install the first build and "
            f"check it with golaunch --check --unit {unit}"
        )
    return program


def enter_candidate_view(candidate: Candidate, installed: str) -> None:
    """In this process only: the candidate at the installed program's path. Root only."""
    enter_own_mount_namespace()
    # A bind's source must be a mount of this namespace: the descriptor opened before the
    # unshare is not, so the path is opened anew, and must still be the file validated.
    fd = os.open(candidate.path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        now, validated = os.fstat(fd), os.fstat(candidate.fd)
        if (now.st_dev, now.st_ino) != (validated.st_dev, validated.st_ino):
            raise OSError(f"{candidate.path} was replaced while it was being checked")
        mount(f"/proc/self/fd/{fd}".encode(), installed, None, MS_BIND)
    finally:
        os.close(fd)


def candidate_note(candidate: str, installed: str) -> Finding:
    return noted(
        NAME,
        f"candidate {candidate} judged in place of {installed}: its bytes, mode and owner as "
        f"they are, at the program's path (the directory it is staged in is not judged)",
        GOLAUNCH_CANDIDATE=candidate,
    )
