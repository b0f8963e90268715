"""The memory limit and CPU quota the process's cgroups impose, read as the kernel states them.

A limit may be set on the process's own cgroup or on any ancestor (a parent
slice), and the tightest one wins, so every level is read up to the top of the
mounted hierarchy. Each controller is found on its own: under cgroup v1 each
has its hierarchy (and its own path in /proc/self/cgroup); under v2 (or for a
controller no v1 hierarchy holds) it is the single "0::" hierarchy.

/proc/self/cgroup paths are relative to the cgroup namespace's root, and so is
a mount's `root` field in /proc/self/mountinfo; a hierarchy mounted from above
that root shows as "/../.." in both, and the directory is the mount point plus
the path below the mount's root (as container-aware runtimes map it).

`ProcTables.root` prefixes every path read, so tests can hand in fixture trees.
The types are plain classes with __slots__: this module loads at every launch,
and defining a dataclass or a NamedTuple costs far more than all it reads.
"""

from __future__ import annotations

import os

from golaunch.inputs import volatile

TYPE_CHECKING = False  # collections.abc would load collections: 1 ms at every start
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    Value = tuple[int, int]  # amount, per
    Parser = Callable[[str], Value | None]

# memory.limit_in_bytes reads this when no limit is set: the kernel's
# PAGE_COUNTER_MAX pages (LONG_MAX / PAGE_SIZE), in bytes.
_PAGE = os.sysconf("SC_PAGE_SIZE")
V1_UNLIMITED = (2**63 - 1) // _PAGE * _PAGE


class CgroupError(Exception):
    """A limit file that exists but holds something no kernel writes."""


class Limit:
    """Bytes for memory (per is 1); CPUs as quota / period microseconds."""

    __slots__ = ("amount", "file", "leaf", "per")

    def __init__(self, amount: int, per: int, file: str, leaf: bool) -> None:
        self.amount = amount
        self.per = per
        self.file = file  # the file that set it, without the fixture prefix
        self.leaf = leaf  # set on the process's own cgroup, not an ancestor

    def __repr__(self) -> str:
        return f"Limit({self.amount}/{self.per} from {self.file}, leaf={self.leaf})"

    @property
    def ceiling(self) -> int:
        return -(-self.amount // self.per)


class Hierarchy:
    __slots__ = ("directory", "mount_point", "version")

    def __init__(self, version: int, mount_point: str, directory: str) -> None:
        self.version = version  # 1 or 2
        self.mount_point = mount_point
        self.directory = directory  # the process's cgroup in it


class ProcTables:
    """/proc/self/cgroup and /proc/self/mountinfo, read once for both controllers."""

    __slots__ = ("cgroup", "mountinfo", "root")

    def __init__(self, cgroup: str, mountinfo: str, root: str = "") -> None:
        self.cgroup = cgroup
        self.mountinfo = mountinfo
        self.root = root  # the fixture prefix

    @classmethod
    def read(cls, root: str = "", pid: str = "self") -> ProcTables | None:
        """This process's tables, or process PID's cgroups (with our mounts: both are
        relative to our namespaces, which is where the paths are then opened)."""
        try:
            return cls(
                _read(f"{root}/proc/{pid}/cgroup"), _read(root + "/proc/self/mountinfo"), root
            )
        except OSError:
            return None  # no /proc, no cgroups, or no such process: no limits to find


class Limits:
    """The memory limit and CPU quota a program will run under: read from the cgroups
    of TABLES when asked, or already known (`Limits.known`), as when a unit is checked
    from outside. Either way an unreadable limit raises CgroupError when asked."""

    __slots__ = ("_cpu", "_memory", "tables")

    def __init__(self, tables: ProcTables | None = None) -> None:
        self.tables = tables
        self._memory: Limit | str | None = None
        self._cpu: Limit | str | None = None

    @classmethod
    def known(cls, memory: Limit | str | None, cpu: Limit | str | None) -> Limits:
        """Limits read already: each a Limit, None (no limit), or what made it unreadable."""
        limits = cls()
        limits._memory, limits._cpu = memory, cpu
        return limits

    def memory(self) -> Limit | None:
        if self.tables is None:
            return _known(self._memory)
        return memory_limit(self.tables)

    def cpu(self) -> Limit | None:
        if self.tables is None:
            return _known(self._cpu)
        return cpu_limit(self.tables)


def _known(value: Limit | str | None) -> Limit | None:
    if isinstance(value, str):
        raise CgroupError(value)
    return value


def find_hierarchy(controller: str, tables: ProcTables) -> Hierarchy | None:
    """Where CONTROLLER's hierarchy has this process's cgroup; None when it cannot be found."""
    own, mounts = tables.cgroup, tables.mountinfo
    paths: dict[int, str] = {}
    for line in own.splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and controllers == "":
            paths.setdefault(2, path)
        elif controller in controllers.split(","):
            paths[1] = path
    for version in (1, 2):  # a controller bound to a v1 hierarchy is absent from v2
        own_path = paths.get(version)
        if own_path is None:
            continue
        for mount_root, mount_point in _cgroup_mounts(mounts, version, controller):
            below = _below(own_path, mount_root)
            if below is not None:
                where = tables.root + mount_point
                return Hierarchy(version, where, where + below)
        return None
    return None


def _cgroup_mounts(mountinfo: str, version: int, controller: str) -> Iterator[tuple[str, str]]:
    """(root, mount point) of each mount of the hierarchy, from proc(5)'s mountinfo fields."""
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if "-" not in fields[6:]:
            continue
        separator = fields.index("-", 6)
        fstype, options = fields[separator + 1], (fields[separator + 3 :] or [""])
        wanted = (
            fstype == "cgroup2"
            if version == 2
            else fstype == "cgroup" and controller in options[0].split(",")
        )
        if wanted:
            yield _unescape(fields[3]), _unescape(fields[4])


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for escape, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(escape, char)
    return field


def _below(path: str, mount_root: str) -> str | None:
    """PATH's place under a mount whose root is MOUNT_ROOT: "" for the root itself."""
    path = path.removesuffix(" (deleted)")
    prefix = mount_root.rstrip("/")
    if path == mount_root or (prefix == "" and path == "/"):
        return ""
    if not path.startswith(prefix + "/"):
        return None  # our cgroup is outside what this mount shows
    below = path[len(prefix) :]
    return None if ".." in below.split("/") else below


def levels(hierarchy: Hierarchy) -> Iterator[str]:
    """The process's cgroup directory, then each ancestor up to the mount point."""
    directory = hierarchy.directory
    while True:
        yield directory
        if directory == hierarchy.mount_point or len(directory) <= len(hierarchy.mount_point):
            return
        directory = os.path.dirname(directory)


def memory_limit(tables: ProcTables) -> Limit | None:
    """The tightest of memory.max and memory.high (v2) or memory.limit_in_bytes (v1), on
    the cgroup and every ancestor visible here; on v1 also the kernel's own figure for
    all of them, hierarchical_memory_limit in memory.stat, which covers the ancestors a
    container does not see (podman --cgroup-parent). v2 has no such figure: with a
    private cgroup namespace, a limit above its root cannot be seen.
    Raises CgroupError for a limit file that cannot be read or makes no sense."""
    root = tables.root
    hierarchy = find_hierarchy("memory", tables)
    if hierarchy is None:
        return None
    names = ("memory.max", "memory.high") if hierarchy.version == 2 else ("memory.limit_in_bytes",)
    found = []
    for depth, directory in enumerate(levels(hierarchy)):
        for name in names:
            parse = _bytes_v2 if hierarchy.version == 2 else _bytes_v1
            value = _read_limit(directory, name, parse)
            if value is not None:
                found.append(Limit(*value, _shown(directory, name, root), depth == 0))
    if hierarchy.version == 1:
        hierarchical = _hierarchical_limit(hierarchy.directory)
        if hierarchical is not None:
            shown = _shown(hierarchy.directory, "memory.stat", root)
            found.append(Limit(hierarchical, 1, f"{shown} (hierarchical_memory_limit)", False))
    return tightest(found)


def _hierarchical_limit(directory: str) -> int | None:
    """memory.stat's hierarchical_memory_limit (v1): the tightest limit of the cgroup and
    all its ancestors, as the kernel enforces it; None when unlimited or not there."""
    # Unreadable: the limit files themselves were read, and they say what is known.
    value = volatile.stat_field(os.path.join(directory, "memory.stat"), "hierarchical_memory_limit")
    if value is None:
        return None
    try:
        parsed = _bytes_v1(value)
    except CgroupError:
        return None
    return parsed[0] if parsed else None


def cpu_limit(tables: ProcTables) -> Limit | None:
    """The tightest quota/period of cpu.max (v2) or cpu.cfs_quota_us/cfs_period_us (v1).
    Raises CgroupError as memory_limit does."""
    root = tables.root
    hierarchy = find_hierarchy("cpu", tables)
    if hierarchy is None:
        return None
    found = []
    for depth, directory in enumerate(levels(hierarchy)):
        if hierarchy.version == 2:
            name = "cpu.max"
            value = _read_limit(directory, name, _cpu_v2)
        else:
            name = "cpu.cfs_quota_us"
            value = _read_limit(directory, name, _quota_v1)
            if value is not None:
                period = _read_limit(directory, "cpu.cfs_period_us", _period_v1)
                value = (value[0], period[0] if period else 100_000)
        if value is not None:
            found.append(Limit(*value, _shown(directory, name, root), depth == 0))
    return tightest(found)


def tightest(limits: Sequence[Limit]) -> Limit | None:
    """The limit that allows the least, of one kind."""
    # min() keeps the first of equals: the level nearest the process, which the
    # runtime itself would read.
    return min(limits, key=lambda limit: limit.amount / limit.per) if limits else None


def _shown(directory: str, name: str, root: str) -> str:
    return os.path.join(directory, name).removeprefix(root)


def _read_limit(directory: str, name: str, parse: Parser) -> Value | None:
    """A level's value; None for no limit there, or no such file (controller not enabled)."""
    path = os.path.join(directory, name)
    try:
        text = _read(path).strip()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise CgroupError(f"{path}: {e.strerror}") from None
    try:
        return parse(text)
    except ValueError:
        shown = text[:40].encode("unicode_escape").decode("ascii")
        raise CgroupError(f"{path} holds {shown!r}, which is not a cgroup limit") from None


def _number(text: str) -> int:
    if not text.isdigit() or not text.isascii():
        raise ValueError(text)
    return int(text)


def _positive(text: str) -> int:
    value = _number(text)
    if value == 0:
        raise ValueError(text)
    return value


def _bytes_v1(text: str) -> Value | None:
    value = _number(text)
    return None if value >= V1_UNLIMITED else (value, 1)


def _bytes_v2(text: str) -> Value | None:
    return None if text == "max" else (_number(text), 1)


def _quota_v1(text: str) -> Value | None:
    return None if text == "-1" else (_positive(text), 1)


def _period_v1(text: str) -> Value | None:
    return (_positive(text), 1)


def _cpu_v2(text: str) -> Value | None:
    quota, _, period = text.partition(" ")
    per = _positive(period)
    return None if quota == "max" else (_positive(quota), per)


def _read(path: str) -> str:
    # Raw reads: a text-mode open would load a codec on the launch path.
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 1 << 20).decode("utf-8", "replace")
    finally:
        os.close(fd)
