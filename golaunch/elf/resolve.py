"""Resolving a program's shared libraries exactly as glibc's ld.so does, without running it.

The search for each DT_NEEDED name (ld.so(8), glibc elf/dl-load.c):
1. a name containing a slash is used as a path;
2. DT_RPATH of the object that needs it, then of the object that loaded that
   one, and so on up to the program; only when the needing object has no
   DT_RUNPATH (and an object with DT_RUNPATH has its DT_RPATH ignored);
3. LD_LIBRARY_PATH from the environment the program will get;
4. DT_RUNPATH of the needing object only: it is not inherited;
5. /etc/ld.so.cache, and 6. the system directories, both skipped when the
   needing object has DF_1_NODEFLIB.
In each directory of 2, 3, 4 and 6, the CPU's hwcaps subdirectories come
first (golaunch.elf.hwcaps). $ORIGIN, $LIB and $PLATFORM are expanded; a
candidate of the wrong ELF class or machine is passed over, as ld.so passes
over it. Objects load breadth-first, and a name already loaded (by name,
soname or file identity) is not searched.
"""

from __future__ import annotations

import functools
import os
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from golaunch.elf.elffile import DF_1_NODEFLIB, Dynamic, ElfError, ElfFile
from golaunch.elf.hwcaps import host_subdirs
from golaunch.elf.ldcache import LdCache, conf_directories, directories_by_name, load_cache

# Bounds for hostile inputs: real programs load a few hundred objects at most.
MAX_OBJECTS = 4096
GLIBC_HWCAPS = "glibc-hwcaps/"


@dataclass(frozen=True)
class Platform:
    """What ld.so substitutes and where it looks by default, for one ELF class and machine."""

    lib: str  # $LIB
    platform: str  # $PLATFORM
    system_dirs: tuple[str, ...]
    subdirs: tuple[str, ...] = ("",)  # tried in each directory, in order; "" is the directory

    @property
    def levels(self) -> tuple[str, ...]:
        """The glibc-hwcaps levels among the subdirectories, best first: they rank cache entries."""
        return tuple(s[len(GLIBC_HWCAPS) :] for s in self.subdirs if s.startswith(GLIBC_HWCAPS))


@functools.cache  # asked for every object and directory; the host does not change meanwhile
def host_platform(bits: int) -> Platform:
    machine = os.uname().machine
    triplet = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}.get(machine, "")
    subdirs, platform = host_subdirs() if bits == 64 else (("",), machine)
    if bits == 64 and triplet and os.path.isdir(f"/lib/{triplet}"):
        # Debian's multiarch ld.so (glibc configured with slibdir=/lib/<triplet>).
        return Platform(
            f"lib/{triplet}",
            platform,
            (f"/lib/{triplet}", f"/usr/lib/{triplet}", "/lib", "/usr/lib"),
            subdirs,
        )
    if bits == 64:
        return Platform("lib64", platform, ("/lib64", "/usr/lib64"), subdirs)
    return Platform("lib", machine, ("/lib", "/usr/lib"))


class _Headers(NamedTuple):
    bits: int
    machine: int
    dynamic: Dynamic | None
    identity: tuple[int, int]


@dataclass
class LoadedObject:
    path: str
    bits: int
    machine: int
    needed: tuple[str, ...]
    soname: str | None
    rpath: tuple[str, ...]  # expanded; empty when the object has DT_RUNPATH
    runpath: tuple[str, ...] | None  # expanded; None when absent
    nodeflib: bool
    loader: LoadedObject | None


@dataclass(frozen=True)
class Library:
    soname: str  # the DT_NEEDED (or required) name
    path: str | None  # None: not found
    needed_by: str
    searched: tuple[str, ...] = ()  # where it looked, when not found


@dataclass
class Resolution:
    libraries: list[Library] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, what is wrong)

    @property
    def missing(self) -> list[Library]:
        return [lib for lib in self.libraries if lib.path is None]


class SystemLibraries:
    """ld.so.cache, or when it is missing the ld.so.conf directories (read once)."""

    def __init__(self, cache: LdCache | None = None, loaded: bool = False) -> None:
        self._cache = cache
        self._loaded = loaded
        self._conf: Mapping[str, list[str]] | None = None

    def candidates(
        self, name: str, bits: int, machine: int, hwcaps: tuple[str, ...] = ()
    ) -> list[str]:
        if not self._loaded:
            self._cache, self._loaded = load_cache(), True
        if self._cache is not None:
            return self._cache.lookup(name, bits, machine, hwcaps)
        if self._conf is None:
            self._conf = directories_by_name(conf_directories())
        return list(self._conf.get(name, ()))


def expand_tokens(path: str, origin: str, platform: Platform) -> str:
    """Substitute $ORIGIN, $LIB, $PLATFORM and their ${...} forms, as ld.so does."""
    if "$" not in path:
        return path
    import re  # 3 ms to import, and most paths have no token

    values = {"ORIGIN": origin, "LIB": platform.lib, "PLATFORM": platform.platform}
    return re.sub(
        r"\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_]))",
        lambda m: values[m.group(1) or m.group(2)],
        path,
    )


def split_path_list(
    value: str, origin: str, platform: Platform, separators: str = ":"
) -> tuple[str, ...]:
    for separator in separators[1:]:
        value = value.replace(separator, separators[0])
    parts = value.split(separators[0])
    directories = []
    for part in parts:
        expanded = expand_tokens(part, origin, platform) if part else "."
        if len(expanded) > 1:
            expanded = expanded.rstrip("/") or "/"
        directories.append(expanded)
    return tuple(directories)


class Resolver:
    def __init__(
        self,
        environment: Mapping[str, str],
        system: SystemLibraries | None = None,
        platform_for: Callable[[int], Platform] = host_platform,
        secure: bool = False,
    ) -> None:
        self.ld_library_path = "" if secure else environment.get("LD_LIBRARY_PATH", "")
        self.system = system or SystemLibraries()
        self.platform_for = platform_for
        self._headers: dict[str, _Headers | ElfError] = {}
        self._is_dir: dict[str, bool] = {}

    def read(self, path: str) -> _Headers:
        """Each candidate is read once per walk, whether it is then taken or passed over."""
        if path not in self._headers:
            try:
                with ElfFile(path) as elf:
                    self._headers[path] = _Headers(
                        elf.bits, elf.machine, elf.dynamic(), elf.identity
                    )
            except ElfError as e:
                self._headers[path] = e
        found = self._headers[path]
        if isinstance(found, ElfError):
            raise found
        return found

    def matches(self, candidate: str, loader: LoadedObject) -> bool:
        """Whether ld.so would take CANDIDATE: an ELF file of the loader's class and machine."""
        try:
            headers = self.read(candidate)
        except ElfError:
            return False
        return headers.bits == loader.bits and headers.machine == loader.machine

    def open_object(
        self, path: str, loader: LoadedObject | None
    ) -> tuple[LoadedObject, tuple[int, int]]:
        bits, machine, dynamic, identity = self.read(path)
        platform = self.platform_for(bits)
        origin = os.path.dirname(
            os.path.realpath(path) if loader is None else os.path.abspath(path)
        )
        runpath = dynamic.runpath if dynamic else None
        rpath = dynamic.rpath if dynamic and runpath is None else None
        obj = LoadedObject(
            path=path,
            bits=bits,
            machine=machine,
            needed=dynamic.needed if dynamic else (),
            soname=dynamic.soname if dynamic else None,
            rpath=split_path_list(rpath, origin, platform) if rpath else (),
            runpath=split_path_list(runpath, origin, platform) if runpath is not None else None,
            nodeflib=bool(dynamic and dynamic.flags_1 & DF_1_NODEFLIB),
            loader=loader,
        )
        return obj, identity

    def search_directories(self, loader: LoadedObject, program: LoadedObject) -> list[str]:
        directories: list[str] = []
        if loader.runpath is None:
            ancestor: LoadedObject | None = loader
            while ancestor is not None:
                directories += ancestor.rpath
                ancestor = ancestor.loader
        if self.ld_library_path:
            origin = os.path.dirname(os.path.realpath(program.path))
            directories += split_path_list(
                self.ld_library_path, origin, self.platform_for(program.bits), ":;"
            )
        if loader.runpath is not None:
            directories += loader.runpath
        return directories

    def find(
        self, name: str, loader: LoadedObject, program: LoadedObject
    ) -> tuple[str | None, list[str]]:
        """The path ld.so would load for NAME needed by LOADER, and the places it tried."""
        if "/" in name:
            return (name if self.matches(name, loader) else None), [name]
        tried: list[str] = []
        for directory in self.search_directories(loader, program):
            tried.append(directory)
            found = self._in_directory(directory, name, loader)
            if found:
                return found, tried
        if loader.nodeflib:
            return None, tried
        tried.append("/etc/ld.so.cache")
        platform = self.platform_for(loader.bits)
        for candidate in self.system.candidates(name, loader.bits, loader.machine, platform.levels):
            if self.matches(candidate, loader):
                return candidate, tried
        for directory in platform.system_dirs:
            tried.append(directory)
            found = self._in_directory(directory, name, loader)
            if found:
                return found, tried
        return None, tried

    def _in_directory(self, directory: str, name: str, loader: LoadedObject) -> str | None:
        """NAME in DIRECTORY's hwcaps subdirectories, then in DIRECTORY itself."""
        base = directory if directory != "/" else ""
        for subdir in self.platform_for(loader.bits).subdirs:
            if subdir and not self._directory_exists(f"{base}/{subdir}"):
                continue  # as ld.so remembers: one stat per subdirectory, not one per name
            candidate = f"{base}/{subdir}/{name}" if subdir else f"{base}/{name}"
            if self.matches(candidate, loader):
                return candidate
        return None

    def _directory_exists(self, path: str) -> bool:
        if path not in self._is_dir:
            self._is_dir[path] = os.path.isdir(path)
        return self._is_dir[path]

    def resolve(
        self, program_path: str, interpreter: str | None, required: Sequence[str] = ()
    ) -> Resolution:
        """Walk the dependency graph breadth-first from the program, as ld.so loads it."""
        try:
            program, identity = self.open_object(program_path, None)
        except ElfError as e:
            return Resolution(problems=[(program_path, str(e))])
        walk = _Walk(self, program)
        walk.identities[identity] = program_path
        if interpreter:
            walk.preload_interpreter(interpreter)
        walk.queue.append(program)
        walk.drain()
        # dlopen() from the program searches with the program's own paths, after start-up.
        for name in required:
            walk.load(name, program)
        walk.drain()
        return walk.result


class _Walk:
    """One dependency walk: what is loaded (by name, soname and file), and what is queued."""

    def __init__(self, resolver: Resolver, program: LoadedObject) -> None:
        self.resolver = resolver
        self.program = program
        self.names: dict[str, str] = {program.path: program.path}
        self.identities: dict[tuple[int, int], str] = {}
        self.queue: deque[LoadedObject] = deque()
        self.result = Resolution()

    def preload_interpreter(self, interpreter: str) -> None:
        """ld.so is loaded before anything else; libc's DT_NEEDED on it finds it by soname."""
        try:
            obj, identity = self.resolver.open_object(interpreter, self.program)
        except ElfError:
            return  # the interpreter check reports it
        self.names[interpreter] = interpreter
        if obj.soname:
            self.names[obj.soname] = interpreter
        self.identities[identity] = interpreter

    def drain(self) -> None:
        while self.queue:
            loader = self.queue.popleft()
            for name in loader.needed:
                self.load(name, loader)

    def load(self, name: str, loader: LoadedObject) -> None:
        if name in self.names:
            return
        path, tried = self.resolver.find(name, loader, self.program)
        self.names[name] = path or ""
        if path is None:
            self.result.libraries.append(Library(name, None, loader.path, tuple(tried)))
            return
        try:
            obj, identity = self.resolver.open_object(path, loader)
        except ElfError as e:
            self.result.problems.append((path, str(e)))
            return
        self.result.libraries.append(Library(name, path, loader.path))
        if identity in self.identities:  # the same file under another name: ld.so maps it once
            return
        self.identities[identity] = path
        if obj.soname:
            self.names.setdefault(obj.soname, path)
        if len(self.identities) < MAX_OBJECTS:
            self.queue.append(obj)
