"""Every host fact the checks read, recorded once and asked again at the next start.

A warm start may skip the checks only if everything they read is as it was
(golaunch.launch.plan). Rather than trusting each check to list its inputs, the
full start runs the checks inside `Recorder`, which stands in for the functions
of `os` (and `open`) through which they see the host. Each call is made once:
the answer is what the check got, and it is recorded as the check got it. So an
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
    from collections.abc import Callable, Iterable, Iterator
    from types import TracebackType
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
# go.env, ld.so.conf, /etc/ld.so.cache), but for ELF objects (see _contents).
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
_real = {
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
_real_open = builtins.open


def _pseudo(path: str) -> bool:
    # /proc/self/exe is a link to a real file (the interpreter): that file's identity counts.
    return path.startswith(PSEUDO) and path != "/proc/self/exe"


def _identity(info: os.stat_result, path: str) -> tuple[object, ...]:
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


def _error(e: OSError) -> tuple[str, int]:
    return ("errno", e.errno or 0)


def _stat(path: str, follow: bool) -> object:
    try:
        return _identity(_real["stat"](path, follow_symlinks=follow), path)
    except OSError as e:
        return _error(e)


def _contents(fd: int, info: os.stat_result, path: str) -> object:
    """What an open file FD holds, as it is compared: its identity and, for a small
    regular file, a digest of its bytes; a pseudo-file's bytes, digested. ELF objects
    are compared by identity alone: package managers replace them (a new inode), and
    one written in place would crash every process that maps it; reading the bytes of
    each of a program's libraries at every start would double its cost."""
    identity = _identity(info, path)
    regular = info.st_mode & 0o170000 == 0o100000
    if not regular:
        return identity
    if _pseudo(path):
        return (*identity, digest(os.pread(fd, MAX_PSEUDO_BYTES, 0)).digest())
    if info.st_size > SMALL_FILE or os.pread(fd, 4, 0) == _ELF:
        return identity
    return (*identity, digest(os.pread(fd, SMALL_FILE + 1, 0)).digest())


def _opened(path: str, flags: int) -> object:
    """What opening PATH for reading finds (see `_contents`); never writes, never blocks."""
    try:
        fd = _real["open"](path, (flags & KEPT_FLAGS) | READ_FLAGS)
    except OSError as e:
        return _error(e)
    try:
        return _contents(fd, os.fstat(fd), path)
    except OSError as e:
        return _error(e)
    finally:
        os.close(fd)


def _listing(path: str) -> object:
    try:
        with _real["scandir"](path) as entries:
            return tuple(sorted((e.name, e.is_dir(), e.is_symlink()) for e in entries))
    except OSError as e:
        return _error(e)


def _value(name: str, *args: object, **kwargs: object) -> object:
    try:
        return _canonical(name, _real[name](*args, **kwargs))
    except OSError as e:
        return _error(e)
    except ValueError as e:  # sysconf/confstr of a name this system lacks
        return ("ValueError", str(e))


def _canonical(name: str, result: Any) -> object:
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
    return _canonical_fact(getattr(volatile, name)(*args))


def _canonical_fact(answer: object) -> object:
    """Sets in a fact's answer (the CPU flags) as sorted tuples: a set's order varies."""
    if isinstance(answer, tuple):
        return tuple(_canonical_fact(a) for a in answer)
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


def _forget_memos() -> None:
    """Empty golaunch's functools caches, so that what they hold is read again, here:
    a fact read before the recording began would be missing from it."""
    import sys

    for name, module in list(sys.modules.items()):
        if name.startswith("golaunch.") and module is not None:
            for value in vars(module).values():
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()


class _Listing:
    """os.scandir's iterator, over entries read once: the ones recorded."""

    __slots__ = ("_entries",)

    def __init__(self, entries: list[os.DirEntry[str]]) -> None:
        self._entries = iter(entries)

    def __iter__(self) -> Iterator[os.DirEntry[str]]:
        return self._entries

    def __next__(self) -> os.DirEntry[str]:
        return next(self._entries)

    def __enter__(self) -> _Listing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._entries = iter(())


class Recorder:
    """`with recorder:` records what the code inside reads (entered once or more)."""

    __slots__ = ("_depth", "_saved", "calls", "usable", "why")

    def __init__(self) -> None:
        self.calls: dict[Call, object] = {}
        self.usable = True
        self.why = ""
        self._depth = 0  # inside a golaunch.inputs.volatile fact: its answer is what counts
        self._saved: dict[str, object] = {}

    def unusable(self, why: str) -> None:
        if self.usable:
            self.usable, self.why = False, why

    def note(self, call: Call, seen: object) -> None:
        if self._depth:
            return
        if call in self.calls and self.calls[call] != seen:
            self.unusable(f"{call[0]} {call[1]!r} changed while the checks ran")
        self.calls.setdefault(call, seen)

    def _path(self, what: object, call: str) -> str | None:
        if isinstance(what, os.PathLike):
            what = os.fspath(what)
        if isinstance(what, str):
            return what
        self.unusable(f"{call} of {what!r}, not a path")
        return None

    def __enter__(self) -> Recorder:
        _forget_memos()
        self._saved = {name: getattr(os, name) for name in _real}
        self._saved["open()"] = builtins.open
        self.note(("getcwd", ()), observe(("getcwd", ())))  # relative paths mean this
        for name, replacement in self._replacements().items():
            for supports in SUPPORTS:  # code that asks `os.access in ...` gets the same answer
                if _real[name] in getattr(os, supports):
                    getattr(os, supports).add(replacement)
            setattr(os, name, replacement)
        builtins.open = self._open  # type: ignore[assignment]
        for name in volatile.FACTS:
            self._saved[f"fact:{name}"] = getattr(volatile, name)
            setattr(volatile, name, self._recorded_fact(name))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        e: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for name, original in self._saved.items():
            if name == "open()":
                builtins.open = original  # type: ignore[assignment]
            elif name.startswith("fact:"):
                setattr(volatile, name[5:], original)
            else:
                replacement = getattr(os, name)
                for supports in SUPPORTS:
                    getattr(os, supports).discard(replacement)
                setattr(os, name, original)

    def verified(self, now_ns: int) -> bool:
        """Usable: nothing changed since it was read, and nothing was changed too recently."""
        for seen in self.calls.values():
            changed = seen[9] if isinstance(seen, tuple) and seen[:1] == ("file",) else 0
            if isinstance(changed, int) and changed > now_ns - RACY_NS:
                self.unusable("a file the checks read changed less than 2 s ago")
        if self.usable and fingerprint(self.calls.items()) != fingerprint_now(self.calls):
            self.unusable("something the checks read changed while they ran")
        return self.usable

    def _replacements(self) -> dict[str, Callable[..., object]]:
        replacements: dict[str, Callable[..., object]] = {
            "stat": self._stat,
            "lstat": self._lstat,
            "access": self._access,
            "open": self._os_open,
            "scandir": self._scandir,
            "listdir": self._listdir,
            "readlink": self._simple("readlink"),
            "getxattr": self._getxattr,
            "statvfs": self._simple("statvfs"),
            "sched_getaffinity": self._simple("sched_getaffinity"),
        }
        for name in ("sysconf", "confstr", "uname", "getcwd", "geteuid", "getegid"):
            replacements[name] = self._simple(name)
        for name in ("getuid", "getgid", "getgroups", "getpid"):
            replacements[name] = self._simple(name)
        return replacements

    def _answer(self, call: Call, run: Callable[[], object]) -> object:
        """RUN's result, recorded for CALL as the caller gets it (its error too)."""
        try:
            result = run()
        except OSError as e:
            self.note(call, _error(e))
            raise
        except ValueError as e:
            self.note(call, ("ValueError", str(e)))
            raise
        self.note(call, _canonical(call[0], result))
        return result

    def _simple(self, name: str) -> Callable[..., object]:
        def recorded(*given: object) -> object:
            args = tuple(os.fspath(a) if isinstance(a, os.PathLike) else a for a in given)
            if not well_formed((name, args)):
                self.unusable(f"{name}{args!r}")
                return _real[name](*args)
            return self._answer((name, args), lambda: _real[name](*args))

        return recorded

    def _stat(
        self, path: object, *, dir_fd: int | None = None, follow_symlinks: bool = True
    ) -> object:
        where = self._path(path, "stat")
        if where is None or dir_fd is not None:
            if dir_fd is not None:
                self.unusable("stat relative to a directory fd")
            return _real["stat"](path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
        call = ("stat", (where, bool(follow_symlinks)))
        try:
            info = _real["stat"](where, follow_symlinks=follow_symlinks)
        except OSError as e:
            self.note(call, _error(e))
            raise
        self.note(call, _identity(info, where))
        return info

    def _lstat(self, path: object, *, dir_fd: int | None = None) -> object:
        return self._stat(path, dir_fd=dir_fd, follow_symlinks=False)

    def _access(
        self,
        path: object,
        mode: int,
        *,
        dir_fd: int | None = None,
        effective_ids: bool = False,
        follow_symlinks: bool = True,
    ) -> object:
        def run() -> object:
            return _real["access"](
                path,
                mode,
                dir_fd=dir_fd,
                effective_ids=effective_ids,
                follow_symlinks=follow_symlinks,
            )

        where = self._path(path, "access")
        if where is None or dir_fd is not None:
            if dir_fd is not None:
                self.unusable("access relative to a directory fd")
            return run()
        args = (where, mode, bool(effective_ids), bool(follow_symlinks))
        return self._answer(("access", args), run)

    def _getxattr(self, path: object, attribute: str, *, follow_symlinks: bool = True) -> object:
        def run() -> object:
            return _real["getxattr"](path, attribute, follow_symlinks=follow_symlinks)

        where = self._path(path, "getxattr")
        if where is None:
            return run()
        return self._answer(("getxattr", (where, attribute, bool(follow_symlinks))), run)

    def _os_open(
        self, path: object, flags: int, mode: int = 0o777, *, dir_fd: int | None = None
    ) -> object:
        where = self._path(path, "open")
        if flags & WRITE_FLAGS or dir_fd is not None or where is None:
            self.unusable(f"open {path!r} for writing or by directory fd")
            return _real["open"](path, flags, mode, dir_fd=dir_fd)
        call = ("open", (where, flags & KEPT_FLAGS))
        try:
            fd = _real["open"](where, flags, mode)
        except OSError as e:
            self.note(call, _error(e))
            raise
        self._note_contents(call, fd, where)
        return fd

    def _open(self, file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        where = self._path(file, "open()")
        if any(c in mode for c in "wax+") or where is None:
            self.unusable(f"open({file!r}, {mode!r})")
            return _real_open(file, mode, *args, **kwargs)  # type: ignore[call-overload]
        call = ("open", (where, 0))
        try:
            f = _real_open(file, mode, *args, **kwargs)  # type: ignore[call-overload]
        except OSError as e:
            self.note(call, _error(e))
            raise
        self._note_contents(call, f.fileno(), where)
        return f

    def _note_contents(self, call: Call, fd: int, path: str) -> None:
        """The identity and bytes of the file the check itself opened, read from its fd."""
        try:
            self.note(call, _contents(fd, os.fstat(fd), path))
        except OSError as e:  # a pseudo-file that cannot be read at an offset
            self.unusable(f"{path!r} cannot be read again: {e.strerror}")

    def _scandir(self, path: object = ".") -> object:
        where = self._path(path, "scandir")
        if where is None:
            return _real["scandir"](path)
        call = ("scandir", (where,))
        try:
            with _real["scandir"](where) as iterator:
                entries = list(iterator)
            listing = tuple(sorted((e.name, e.is_dir(), e.is_symlink()) for e in entries))
        except OSError as e:
            self.note(call, _error(e))
            raise
        self.note(call, listing)
        return _Listing(entries)

    def _listdir(self, path: object = ".") -> object:
        where = self._path(path, "listdir")
        if where is None:
            return _real["listdir"](path)
        return self._answer(("listdir", (where,)), lambda: _real["listdir"](where))

    def _recorded_fact(self, name: str) -> Callable[..., object]:
        original = getattr(volatile, name)

        def recorded(*args: object) -> object:
            self._depth += 1
            try:
                result = original(*args)
            finally:
                self._depth -= 1
            call = (f"fact:{name}", args)
            if well_formed(call):
                self.note(call, _canonical_fact(result))
            else:
                self.unusable(f"fact {name}{args!r}")
            return result

        return recorded
