"""Every host fact a start read, recorded once and checked again at the next start.

A warm start may skip the checks only if everything they read is as it was
(golaunch.launch.plan). Rather than trusting each check to list its inputs, the
full path runs inside `Recorder`, which stands in for the functions of `os` (and
`open`) through which the checks see the host: every call and what it saw is
kept. `unchanged` makes the same calls again and compares. So an input nobody
thought of is recorded all the same, as long as it is read through `os`.

What a call "saw" is compared, not just whether it succeeded:
- a file: its identity (device, inode, mode, links, owner, size, and mtime and
  ctime to the nanosecond). Content cannot change without ctime changing, and
  ctime cannot be set from user space; a file replaced by one of the same size and
  mtime has a new inode or a new ctime. A recording that saw a ctime of less than
  RACY_NS ago is not trusted (the clock's granularity could hide a change);
- a directory: its device, inode, mode and owner. Its times change with every
  entry made in it, which no check judges; a listing is a call of its own;
- the kernel's pseudo-files (/proc, /sys): their bytes, since their identity
  never changes. Those whose bytes change by the moment (counters, clock speeds)
  are read through golaunch.inputs.volatile, whose answers are recorded instead;
- everything else (access(2), ACLs, directory listings, links, the IDs, the CPU
  set, the working directory): the value returned, or the errno.

A call the recorder cannot replay (a write, a file descriptor instead of a path)
makes the recording unusable, and the start simply stays on the full path.
"""

from __future__ import annotations

import builtins
import os

from golaunch.inputs import volatile

TYPE_CHECKING = False  # typing itself costs the launch path 5 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

# A ctime this recent may share its clock tick with a change still to come.
RACY_NS = 2_000_000_000
PSEUDO = ("/proc/", "/sys/")
READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
MAX_PSEUDO_BYTES = 1 << 20

Call = tuple[str, tuple[object, ...]]
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


def _identity(info: os.stat_result, path: str) -> tuple[int, ...]:
    kind = (info.st_mode, info.st_uid, info.st_gid)
    if _pseudo(path):  # their inodes are made up afresh for each process
        return kind
    if info.st_mode & 0o170000 == 0o040000:
        # A directory's times, size and links change with every entry made in it (/tmp, a
        # cache in use); the checks judge its type, mode and owner, and what they list or
        # ask of it (scandir, access, ACLs) is recorded apart.
        return (*kind, info.st_dev, info.st_ino)
    return (
        *kind,
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


def _opened(path: str, flags: int) -> object:
    """What opening PATH for reading finds: the file's identity, or a pseudo-file's bytes."""
    try:
        fd = _real["open"](path, flags | READ_FLAGS)
    except OSError as e:
        return _error(e)
    try:
        if _pseudo(path):
            return _real["stat"](fd).st_mode, os.read(fd, MAX_PSEUDO_BYTES)
        return _identity(_real["stat"](fd), path)
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
        result = _real[name](*args, **kwargs)
    except OSError as e:
        return _error(e)
    except ValueError as e:  # sysconf/confstr of a name this system lacks
        return ("ValueError", str(e))
    if name == "uname":
        return tuple(result)
    if name in ("sched_getaffinity", "getgroups"):
        return tuple(sorted(result))
    if name == "getpid":
        return result == 1  # PID 1 decides things (no ready probe); its number does not
    return result


def _fact(name: str, *args: object) -> object:
    return getattr(volatile, name)(*args)


def observe(call: Call) -> object:
    """What CALL sees now, in the form it was recorded."""
    kind, args = call
    if kind == "stat":
        return _stat(str(args[0]), bool(args[1]))
    if kind == "open":
        return _opened(str(args[0]), int(args[1]))  # type: ignore[call-overload]
    if kind == "scandir":
        return _listing(str(args[0]))
    if kind == "listdir":
        found = _listing(str(args[0]))
        if isinstance(found, tuple) and found[:1] != ("errno",):
            return tuple(entry[0] for entry in found)
        return found
    if kind.startswith("fact:"):
        return _fact(kind[5:], *args)
    if kind == "access":
        return _value(kind, args[0], args[1], effective_ids=args[2], follow_symlinks=args[3])
    if kind == "getxattr":
        return _value(kind, args[0], args[1], follow_symlinks=args[2])
    if kind == "statvfs":
        found = _value(kind, *args)
        return tuple(found) if isinstance(found, os.statvfs_result) else found
    return _value(kind, *args)


def unchanged(calls: dict[Call, object]) -> bool:
    """Every recorded call still sees what it saw."""
    return all(observe(call) == seen for call, seen in calls.items())


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

    def _path(self, what: object, kind: str) -> str | None:
        if isinstance(what, os.PathLike):
            what = os.fspath(what)
        if isinstance(what, str):
            return what
        self.unusable(f"{kind} of {what!r}, not a path")
        return None

    def __enter__(self) -> Recorder:
        _forget_memos()
        self._saved = {name: getattr(os, name) for name in _real}
        self._saved["open()"] = builtins.open
        self.note(("getcwd", ()), observe(("getcwd", ())))  # relative paths mean this
        for name, replacement in self._replacements().items():
            setattr(os, name, replacement)
        builtins.open = self._open  # type: ignore[assignment]
        for name in volatile.FACTS:
            self._saved[f"fact:{name}"] = getattr(volatile, name)
            setattr(volatile, name, self._recorded_fact(name))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        for name, original in self._saved.items():
            if name == "open()":
                builtins.open = original  # type: ignore[assignment]
            elif name.startswith("fact:"):
                setattr(volatile, name[5:], original)
            else:
                setattr(os, name, original)

    def verified(self, now_ns: int) -> bool:
        """Usable: nothing changed since it was read, and nothing was changed too recently."""
        for (kind, _), seen in self.calls.items():
            recent = kind in ("stat", "open") and len(seen) == 9 and seen[8] > now_ns - RACY_NS  # type: ignore[arg-type, index]
            if recent:
                self.unusable("a file the checks read changed less than 2 s ago")
        if self.usable and not unchanged(self.calls):
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

    def _simple(self, name: str) -> Callable[..., object]:
        def recorded(*args: object) -> object:
            if any(not isinstance(a, (str, int)) for a in args):
                self.unusable(f"{name}{args!r}")
            self.note((name, args), observe((name, args)))
            return _real[name](*args)

        return recorded

    def _stat(
        self, path: object, *, dir_fd: int | None = None, follow_symlinks: bool = True
    ) -> object:
        where = self._path(path, "stat")
        if where is None or dir_fd is not None:
            if dir_fd is not None:
                self.unusable("stat relative to a directory fd")
            return _real["stat"](path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
        call = ("stat", (where, follow_symlinks))
        try:  # one call serves both: the checks stat the most
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
        where = self._path(path, "access")
        args = (where, mode, effective_ids, follow_symlinks)
        if where is not None and dir_fd is None:
            self.note(("access", args), observe(("access", args)))
        elif dir_fd is not None:
            self.unusable("access relative to a directory fd")
        return _real["access"](
            path, mode, dir_fd=dir_fd, effective_ids=effective_ids, follow_symlinks=follow_symlinks
        )

    def _getxattr(self, path: object, attribute: str, *, follow_symlinks: bool = True) -> object:
        where = self._path(path, "getxattr")
        if where is not None:
            args = (where, attribute, follow_symlinks)
            self.note(("getxattr", args), observe(("getxattr", args)))
        return _real["getxattr"](path, attribute, follow_symlinks=follow_symlinks)

    def _os_open(
        self, path: object, flags: int, mode: int = 0o777, *, dir_fd: int | None = None
    ) -> object:
        where = self._path(path, "open")
        if flags & WRITE_FLAGS or dir_fd is not None:
            self.unusable(f"open {path!r} for writing or by directory fd")
        elif where is not None:
            call = ("open", (where, flags & (os.O_NOFOLLOW | os.O_DIRECTORY)))
            if _pseudo(where):
                self.note(call, _opened(*call[1]))
            else:
                try:
                    fd = _real["open"](where, flags, mode)
                except OSError as e:
                    self.note(call, _error(e))
                    raise
                self.note(call, _identity(_real["stat"](fd), where))
                return fd
        return _real["open"](path, flags, mode, dir_fd=dir_fd)

    def _open(self, file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        where = self._path(file, "open()")
        if any(c in mode for c in "wax+"):
            self.unusable(f"open({file!r}, {mode!r})")
        elif where is not None:
            self.note(("open", (where, 0)), _opened(where, 0))
        return _real_open(file, mode, *args, **kwargs)  # type: ignore[call-overload]

    def _scandir(self, path: object = ".") -> object:
        where = self._path(path, "scandir")
        if where is not None:
            self.note(("scandir", (where,)), _listing(where))
        return _real["scandir"](path)

    def _listdir(self, path: object = ".") -> object:
        where = self._path(path, "listdir")
        if where is not None:
            self.note(("listdir", (where,)), observe(("listdir", (where,))))
        return _real["listdir"](path)

    def _recorded_fact(self, name: str) -> Callable[..., object]:
        original = getattr(volatile, name)

        def recorded(*args: object) -> object:
            self._depth += 1
            try:
                result = original(*args)
            finally:
                self._depth -= 1
            self.note((f"fact:{name}", args), result)
            return result

        return recorded
