"""Every host fact the checks read, recorded once and asked again at the next start.

A warm start may skip the checks only if everything they read is as it was
(golaunch.launch.plan). Rather than trusting each check to list its inputs, the
full start runs the checks inside a Recorder (golaunch.inputs.recorder), which
stands in for the functions of `os` (and `open`) through which they see the host.
Each call is made once: the answer is what the check got, and it is recorded as
the check got it. So an
input nobody thought of is recorded all the same, as long as it is read through
`os`, and recording never changes what a check computes: the stand-ins are in
os.supports_effective_ids (and the other such sets) wherever the real ones are.

What a call "saw" is compared, not just whether it succeeded:
- a file: its identity (device, inode, mode, links, owner, size, mtime and
  ctime), and the bytes of one the checks opened that is small enough to read
  again (SMALL_FILE) and not an ELF object: a write through a shared mapping
  can keep every time stamp for 30 s (on tmpfs, for ever), but not the bytes.
  A recording that saw a ctime of less than RACY_NS ago is not trusted;
- a directory: its device, inode, mode and owner. Its times change with every
  entry made in it, which no check judges; a listing is a call of its own;
- the kernel's pseudo-files (/proc, /sys): their bytes, since their identity
  never changes. Those whose bytes change by the moment (counters, clock speeds)
  are read through golaunch.inputs.volatile, whose answers are recorded instead;
- everything else (access(2), ACLs, directory listings, links, the IDs, the CPU
  set, the working directory): the value returned, or the errno.

A call the recorder cannot replay (a write, a file descriptor instead of a path)
makes the recording unusable, and the start simply stays on the full path.

A plan holds the calls, never the answers: `fingerprint` digests the answers,
and the next start asks every call again (`observe`) and compares digests. The
calls come from a file the service could have written, so every replay is safe
whatever it is asked: read-only, non-blocking, bounded, regular files only.
"""

from __future__ import annotations

import builtins
import os

from golaunch.inputs import volatile
from golaunch.inputs.digest import digest

TYPE_CHECKING = False  # typing itself costs the launch path 5 ms
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    Call = tuple[str, tuple[object, ...]]

# A ctime this recent may share its clock tick with a change still to come.
RACY_NS = 2_000_000_000
PSEUDO = ("/proc/", "/sys/")
READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
KEPT_FLAGS = os.O_NOFOLLOW | os.O_DIRECTORY  # the only flags of a check's open that matter
MAX_PSEUDO_BYTES = 1 << 20
# Files up to this size that the checks open are compared by their bytes ($GOROOT/VERSION,
# go.env, ld.so.conf, /etc/ld.so.cache), but for ELF objects (see file_contents).
SMALL_FILE = 256 << 10
_ELF = b"\x7fELF"  # an ELF file's first bytes (as elf.elffile, which imports this part)
SUPPORTS = ("supports_dir_fd", "supports_effective_ids", "supports_fd", "supports_follow_symlinks")
# Each call a plan may hold, with the types of its arguments.
SIGNATURES: dict[str, tuple[type, ...]] = {
    "stat": (str, bool),
    "open": (str, int),
    "scandir": (str,),
    "listdir": (str,),
    "access": (str, int, bool, bool),
    "getxattr": (str, str, bool),
    "readlink": (str,),
    "statvfs": (str,),
    "sched_getaffinity": (int,),
    "sysconf": (str,),
    "confstr": (str,),
    "uname": (),
    "getcwd": (),
    "geteuid": (),
    "getegid": (),
    "getuid": (),
    "getgid": (),
    "getgroups": (),
    "getpid": (),
    "fact:cpuinfo": (),
    "fact:stat_field": (str, str),
    "fact:space_shortage": (str, int),
}
REAL = {
    name: getattr(os, name)
    for name in (
        "stat",
        "lstat",
        "access",
        "open",
        "listdir",
        "scandir",
        "readlink",
        "getxattr",
        "statvfs",
        "sched_getaffinity",
        "sysconf",
        "confstr",
        "uname",
        "getcwd",
        "geteuid",
        "getegid",
        "getuid",
        "getgid",
        "getgroups",
        "getpid",
    )
}
REAL_OPEN = builtins.open


def _pseudo(path: str) -> bool:
    # /proc/self/exe is a link to a real file (the interpreter): that file's identity counts.
    return path.startswith(PSEUDO) and path != "/proc/self/exe"


def file_identity(info: os.stat_result, path: str) -> tuple[object, ...]:
    owned = (info.st_mode, info.st_uid, info.st_gid)
    if _pseudo(path):  # their inodes are made up afresh for each process
        return ("pseudo", *owned)
    if info.st_mode & 0o170000 == 0o040000:
        # A directory's times, size and links change with every entry made in it (/tmp, a
        # cache in use); the checks judge its type, mode and owner, and what they list or
        # ask of it (scandir, access, ACLs) is recorded apart.
        return ("directory", *owned, info.st_dev, info.st_ino)
    return (
        "file",
        *owned,
        info.st_dev,
        info.st_ino,
        info.st_nlink,
        info.st_size,
        info.st_mtime_ns,
        info.st_ctime_ns,
    )


def error_answer(e: OSError) -> tuple[str, int]:
    return ("errno", e.errno or 0)


def _stat(path: str, follow: bool) -> object:
    try:
        return file_identity(REAL["stat"](path, follow_symlinks=follow), path)
    except OSError as e:
        return error_answer(e)


def file_contents(fd: int, info: os.stat_result, path: str) -> object:
    """What an open file FD holds, as it is compared: its identity and, for a small
    regular file, a digest of its bytes; a pseudo-file's bytes, digested. ELF objects
    are compared by identity alone: package managers replace them (a new inode), and
    one written in place would crash every process that maps it; reading the bytes of
    each of a program's libraries at every start would double its cost."""
    known = file_identity(info, path)
    regular = info.st_mode & 0o170000 == 0o100000
    if not regular:
        return known
    if _pseudo(path):
        return (*known, digest(os.pread(fd, MAX_PSEUDO_BYTES, 0)).digest())
    if info.st_size > SMALL_FILE or os.pread(fd, 4, 0) == _ELF:
        return known
    return (*known, digest(os.pread(fd, SMALL_FILE + 1, 0)).digest())


def _opened(path: str, flags: int) -> object:
    """What opening PATH for reading finds (see `file_contents`); never writes, never blocks."""
    try:
        fd = REAL["open"](path, (flags & KEPT_FLAGS) | READ_FLAGS)
    except OSError as e:
        return error_answer(e)
    try:
        return file_contents(fd, os.fstat(fd), path)
    except OSError as e:
        return error_answer(e)
    finally:
        os.close(fd)


def _listing(path: str) -> object:
    try:
        with REAL["scandir"](path) as entries:
            return tuple(sorted((e.name, e.is_dir(), e.is_symlink()) for e in entries))
    except OSError as e:
        return error_answer(e)


def _value(name: str, *args: object, **kwargs: object) -> object:
    try:
        return canonical(name, REAL[name](*args, **kwargs))
    except OSError as e:
        return error_answer(e)
    except ValueError as e:  # sysconf/confstr of a name this system lacks
        return ("ValueError", str(e))


def canonical(name: str, result: Any) -> object:
    """RESULT in the form it is recorded and compared."""
    if name in ("uname", "statvfs"):
        return tuple(result)
    if name in ("sched_getaffinity", "getgroups", "listdir"):
        return tuple(sorted(result))
    if name == "getpid":
        return result == 1  # PID 1 decides things (no ready probe); its number does not
    return result


def observe(call: Call) -> object:
    """What CALL sees now, in the form it was recorded. CALL has SIGNATURES' types."""
    name, args = call
    if name == "stat":
        return _stat(str(args[0]), bool(args[1]))
    if name == "open":
        return _opened(str(args[0]), int(args[1]))  # type: ignore[call-overload]
    if name == "scandir":
        return _listing(str(args[0]))
    if name.startswith("fact:"):
        return _fact(name[5:], *args)
    if name == "access":
        return _value(name, args[0], args[1], effective_ids=args[2], follow_symlinks=args[3])
    if name == "getxattr":
        return _value(name, args[0], args[1], follow_symlinks=args[2])
    return _value(name, *args)


def _fact(name: str, *args: object) -> object:
    return canonical_fact(getattr(volatile, name)(*args))


def canonical_fact(answer: object) -> object:
    """Sets in a fact's answer (the CPU flags) as sorted tuples: a set's order varies."""
    if isinstance(answer, tuple):
        return tuple(canonical_fact(a) for a in answer)
    if isinstance(answer, frozenset | set):
        return tuple(sorted(answer))
    return answer


def fingerprint(answers: Iterable[tuple[Call, object]]) -> str:
    """One digest of CALLS and what each saw: what a plan keeps of the answers."""
    text = "\0".join([repr(pair) for pair in answers])
    return str(digest(text.encode("utf-8", "surrogateescape")).hexdigest())


def fingerprint_now(calls: Iterable[Call]) -> str:
    """The fingerprint of what CALLS see now."""
    return fingerprint((call, observe(call)) for call in calls)


def well_formed(call: object) -> bool:
    """CALL is one a plan may hold: a known name, with arguments of its types."""
    if not (isinstance(call, tuple) and len(call) == 2 and isinstance(call[1], tuple)):
        return False
    name, args = call
    types = SIGNATURES.get(name) if isinstance(name, str) else None
    return (
        types is not None
        and len(args) == len(types)
        and all(type(a) is t for a, t in zip(args, types, strict=True))
    )
