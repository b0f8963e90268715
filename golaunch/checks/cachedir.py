"""What the gocache and gomodcache checks share: judging a place the go command writes.

Checks only read. A directory that does not exist yet is judged by whether it
can be created (its nearest existing ancestor's filesystem); launch creates it
after every check passed (golaunch.launch.startup), and `--check` never does.
"""

from __future__ import annotations

import os
import stat

from golaunch.config.schema import GoConfig
from golaunch.findings import Finding, failed, passed, skipped, warned
from golaunch.host import surroundings
from golaunch.host.context import LaunchContext
from golaunch.host.execution import go_dirs_in_play
from golaunch.host.godirs import GoDir
from golaunch.host.permissions import other_writers
from golaunch.inputs import volatile


def judge(ctx: LaunchContext, directory: GoDir, other: GoDir) -> list[Finding]:
    check = directory.name.lower()
    if not go_dirs_in_play(ctx.goroot, directory):
        return [skipped(check, f"{directory.name}: no Go toolchain in play and nothing sets it")]
    required = ctx.cache_required(directory)
    if directory.value is None:
        if required:
            return [failed(check, f"{directory.error}")]
        return [
            skipped(check, f"{_DISCOVERED}; a program that runs go would stop: {directory.error}")
        ]
    fields = {directory.name: directory.value, "GOLAUNCH_PATH": directory.value}
    where = f"{directory.name}={directory.value} (from {directory.source})"
    problem = _placement_problem(ctx, directory, other)
    if problem is None and not os.path.lexists(directory.value):
        if not required:
            later = f"{where} does not exist; the go command creates it if it ever runs"
            return [passed(check, later, **fields)]
        problem = _creatable(
            directory.value, ctx.config.go, ctx.cache_fix(directory.name), ctx.euid
        )
        if problem is None:
            later = f"{where} does not exist yet; launch creates it (0700)"
            return [passed(check, later, **fields)]
    if problem is None and not os.path.isdir(directory.value):
        problem = "exists but is not a directory"
    if problem is None:
        problem = _usable(directory.value, ctx.config.go.min_free_mb, ctx.surroundings, ctx.euid)
    if problem is None:
        return [passed(check, where, **fields)]
    if not required:
        return [warned(check, f"{where} {problem} ({_DISCOVERED})", **fields)]
    return [failed(check, f"{where} {problem}", **fields)]


# Why a cache problem is not fatal: see host.context.requires_toolchain.
_DISCOVERED = "not required: nothing asked for Go, the toolchain was only discovered"


def _placement_problem(ctx: LaunchContext, directory: GoDir, other: GoDir) -> str | None:
    path = directory.value or ""
    if path == "off" and directory.name == "GOCACHE":
        return (
            "disables the build cache, which the go command requires since Go 1.12; "
            "unset GOCACHE or point it at a directory"
        )
    if path.startswith("~"):
        return "starts with ~, which golaunch does not expand (no shell); write the absolute path"
    if not os.path.isabs(path):
        return "is not an absolute path; the go command rejects relative cache paths"
    if ctx.goroot and _inside(path, ctx.goroot.path):
        return f"is inside GOROOT {ctx.goroot.path}; the toolchain must stay unmodified"
    if other.value and os.path.normpath(other.value) == os.path.normpath(path):
        return f"is the same directory as {other.name}; give each its own"
    return None


def _inside(path: str, root: str) -> bool:
    path, root = os.path.normpath(path), os.path.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def _creatable(path: str, go: GoConfig, fix: str, euid: int) -> str | None:
    """What would stop launch from creating PATH: judged on its nearest existing ancestor.
    FIX: how to get a writable cache where golaunch runs."""
    if not go.create_dirs:
        return f"does not exist and go.create_dirs is false; create it, or {fix}"
    ancestor = os.path.dirname(path)
    while not os.path.lexists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        return f"cannot be created: {ancestor} is not a directory"
    try:
        vfs = os.statvfs(ancestor)
    except OSError as e:
        return f"cannot be created: {ancestor} cannot be examined: {e.strerror}"
    if vfs.f_flag & os.ST_RDONLY:
        return f"cannot be created: {ancestor} is on a read-only filesystem; {fix}"
    if not os.access(ancestor, os.W_OK | os.X_OK, effective_ids=_EFFECTIVE):
        return f"cannot be created: uid {euid} cannot write to {ancestor}; {fix}"
    problem = volatile.space_shortage(ancestor, go.min_free_mb)
    return problem and f"would be created in {ancestor}, which {problem}"


def not_created(directory: GoDir, error: OSError, fix: str) -> Finding:
    """Launch could not create a directory the check judged creatable (a race, or a lie)."""
    return failed(
        directory.name.lower(),
        f"{directory.name}={directory.value} cannot be created: {error.strerror}; "
        f"create it, or {fix}",
        **{directory.name: directory.value or "", "GOLAUNCH_PATH": directory.value or ""},
    )


def _usable(path: str, min_free_mb: int, where: str, euid: int) -> str | None:
    try:
        info = os.stat(path)
    except OSError as e:
        return f"cannot be examined: {e.strerror}"
    problem = _link_problem(path, where, euid)
    if problem:
        return problem
    real = os.path.realpath(path)
    via = f" (through the symlink to {real})" if real != os.path.normpath(path) else ""
    if info.st_mode & stat.S_IWOTH:
        return (
            f"is world-writable{via} ({stat.filemode(info.st_mode)}): anyone could poison "
            f"the cache; chmod o-w {real}"
        )
    if info.st_uid not in (euid, 0):
        # Whoever owns the cache can swap the build outputs the go command trusts.
        return (
            f"is owned by uid {info.st_uid}{via}, not by uid {euid} that runs the program "
            f"(or root): uid {info.st_uid} could poison the cache; chown {euid} {real} "
            f"or {_instead(where)}"
        )
    others = other_writers(path, info, uids=(euid, 0), gids=())
    if others:
        # The cache is private: a group or an ACL entry that can write it can poison it.
        return (
            f"is writable by {', '.join(others)}{via} ({stat.filemode(info.st_mode)}): they "
            f"could poison the cache; chmod go-w {real} and remove ACL entries that grant "
            f"write (setfacl -b), or {_instead(where)}"
        )
    if not os.access(path, os.W_OK | os.X_OK, effective_ids=_EFFECTIVE):
        # access(2) with the effective IDs honours ACLs and read-only mounts.
        return f"cannot be written to by uid {euid}: {_access_error(path)}"
    return volatile.space_shortage(path, min_free_mb)


def _instead(where: str) -> str:
    """The other way out: a directory of the program's own, where golaunch runs."""
    return "use a volume of its own" if where == surroundings.CONTAINER else "use CacheDirectory="


def _link_problem(path: str, where: str, euid: int) -> str | None:
    """A cache reached through a symlink is only as safe as the directory holding the link:
    whoever can write there can point it elsewhere after the check."""
    if not os.path.islink(path):
        return None
    parent = os.path.dirname(os.path.normpath(path)) or "/"
    try:
        info = os.stat(parent)
    except OSError as e:
        return f"is a symlink in {parent}, which cannot be examined: {e.strerror}"
    who = other_writers(parent, info, uids=(euid, 0), gids=(), sticky_is_safe=True)
    if not who:
        return None
    return (
        f"is a symlink in {parent}, which {', '.join(who)} can write: the link could be "
        f"pointed elsewhere after this check; use a real directory, or {_instead(where)}"
    )


def _access_error(path: str) -> str:
    """Why the effective user cannot write PATH: read-only filesystem, or permissions."""
    try:
        readonly = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        readonly = False
    return "Read-only file system" if readonly else "Permission denied"


_EFFECTIVE = os.access in os.supports_effective_ids
