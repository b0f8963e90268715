"""The stand-in for `os` (and `open`) while a full start's checks run: every call they
make is made once, and its answer recorded as the check got it (golaunch.inputs.trace
says what is compared, and replays the calls at the next start).

Only a full start that may keep a plan loads this module (golaunch.launch.keeper).
"""

from __future__ import annotations

import builtins
import os

from golaunch.inputs import volatile
from golaunch.inputs.trace import (
    KEPT_FLAGS,
    RACY_NS,
    REAL,
    REAL_OPEN,
    SUPPORTS,
    WRITE_FLAGS,
    canonical,
    canonical_fact,
    error_answer,
    file_contents,
    file_identity,
    fingerprint,
    fingerprint_now,
    observe,
    well_formed,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import TracebackType

    from golaunch.inputs.trace import Call


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
        self._saved = {name: getattr(os, name) for name in REAL}
        self._saved["open()"] = builtins.open
        self.note(("getcwd", ()), observe(("getcwd", ())))  # relative paths mean this
        for name, replacement in self._replacements().items():
            for supports in SUPPORTS:  # code that asks `os.access in ...` gets the same answer
                if REAL[name] in getattr(os, supports):
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
            self.note(call, error_answer(e))
            raise
        except ValueError as e:
            self.note(call, ("ValueError", str(e)))
            raise
        self.note(call, canonical(call[0], result))
        return result

    def _simple(self, name: str) -> Callable[..., object]:
        def recorded(*given: object) -> object:
            args = tuple(os.fspath(a) if isinstance(a, os.PathLike) else a for a in given)
            if not well_formed((name, args)):
                self.unusable(f"{name}{args!r}")
                return REAL[name](*args)
            return self._answer((name, args), lambda: REAL[name](*args))

        return recorded

    def _stat(
        self, path: object, *, dir_fd: int | None = None, follow_symlinks: bool = True
    ) -> object:
        where = self._path(path, "stat")
        if where is None or dir_fd is not None:
            if dir_fd is not None:
                self.unusable("stat relative to a directory fd")
            return REAL["stat"](path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
        call = ("stat", (where, bool(follow_symlinks)))
        try:
            info = REAL["stat"](where, follow_symlinks=follow_symlinks)
        except OSError as e:
            self.note(call, error_answer(e))
            raise
        self.note(call, file_identity(info, where))
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
            return REAL["access"](
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
            return REAL["getxattr"](path, attribute, follow_symlinks=follow_symlinks)

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
            return REAL["open"](path, flags, mode, dir_fd=dir_fd)
        call = ("open", (where, flags & KEPT_FLAGS))
        try:
            fd = REAL["open"](where, flags, mode)
        except OSError as e:
            self.note(call, error_answer(e))
            raise
        self._note_contents(call, fd, where)
        return fd

    def _open(self, file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        where = self._path(file, "open()")
        if any(c in mode for c in "wax+") or where is None:
            self.unusable(f"open({file!r}, {mode!r})")
            return REAL_OPEN(file, mode, *args, **kwargs)  # type: ignore[call-overload]
        call = ("open", (where, 0))
        try:
            f = REAL_OPEN(file, mode, *args, **kwargs)  # type: ignore[call-overload]
        except OSError as e:
            self.note(call, error_answer(e))
            raise
        self._note_contents(call, f.fileno(), where)
        return f

    def _note_contents(self, call: Call, fd: int, path: str) -> None:
        """The identity and bytes of the file the check itself opened, read from its fd."""
        try:
            self.note(call, file_contents(fd, os.fstat(fd), path))
        except OSError as e:  # a pseudo-file that cannot be read at an offset
            self.unusable(f"{path!r} cannot be read again: {e.strerror}")

    def _scandir(self, path: object = ".") -> object:
        where = self._path(path, "scandir")
        if where is None:
            return REAL["scandir"](path)
        call = ("scandir", (where,))
        try:
            with REAL["scandir"](where) as iterator:
                entries = list(iterator)
            listing = tuple(sorted((e.name, e.is_dir(), e.is_symlink()) for e in entries))
        except OSError as e:
            self.note(call, error_answer(e))
            raise
        self.note(call, listing)
        return _Listing(entries)

    def _listdir(self, path: object = ".") -> object:
        where = self._path(path, "listdir")
        if where is None:
            return REAL["listdir"](path)
        return self._answer(("listdir", (where,)), lambda: REAL["listdir"](where))

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
                self.note(call, canonical_fact(result))
            else:
                self.unusable(f"fact {name}{args!r}")
            return result

        return recorded
