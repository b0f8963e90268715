"""A small ELF reader: the header, segments, sections and dynamic entries golaunch needs.

pyelftools does all of this and more, but importing it costs about 55 ms at
every service start (README.md, "Start-up cost"); this reader is tested against it on
every fixture (tests/integration/test_elf.py). Every offset and count comes from the
file, so every one is bounded before it is used: a hostile file gets an
ElfError naming what is wrong, never a traceback or an unbounded read.
"""

from __future__ import annotations

import os
import stat
import struct

TYPE_CHECKING = False  # every start reads the program's build info through here: no typing
if TYPE_CHECKING:
    from types import TracebackType

ELF_MAGIC = b"\x7fELF"
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
PF_X, PF_W = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH = 0, 1, 5, 10, 14, 15
DT_RUNPATH, DT_FLAGS_1 = 29, 0x6FFFFFFB
DF_1_NODEFLIB = 0x800
ET_EXEC, ET_DYN = 2, 3
SHN_XINDEX = 0xFFFF

MACHINES = {
    3: "i386",
    8: "mips",
    20: "ppc",
    21: "ppc64",
    22: "s390",
    40: "arm",
    62: "x86-64",
    183: "aarch64",
    243: "riscv",
    258: "loongarch",
}
TYPES = {1: "relocatable", 2: "executable", 3: "shared object", 4: "core file"}

MAX_SECTIONS = 1 << 16
MAX_DYNAMIC_BYTES = 4 << 20
MAX_STRTAB_BYTES = 16 << 20
MAX_INTERP = 4096


class ElfError(Exception):
    """The file is not an ELF file golaunch can read; str(self) says what is wrong."""


# Plain classes with __slots__: a NamedTuple's class costs more to build than a start
# spends reading the file.


class Segment:
    __slots__ = ("filesz", "flags", "memsz", "offset", "type", "vaddr")

    def __init__(
        self, *, type: int, flags: int, offset: int, vaddr: int, filesz: int, memsz: int
    ) -> None:
        self.type = type
        self.flags = flags
        self.offset = offset
        self.vaddr = vaddr
        self.filesz = filesz
        self.memsz = memsz


class Section:
    __slots__ = ("addr", "name", "offset", "size", "type")

    def __init__(self, name: str, type: int, addr: int, offset: int, size: int) -> None:
        self.name = name
        self.type = type
        self.addr = addr
        self.offset = offset
        self.size = size


class Dynamic:
    __slots__ = ("flags_1", "needed", "rpath", "runpath", "soname")

    def __init__(
        self,
        needed: tuple[str, ...],
        soname: str | None,
        rpath: str | None,
        runpath: str | None,
        flags_1: int,
    ) -> None:
        self.needed = needed
        self.soname = soname
        self.rpath = rpath
        self.runpath = runpath
        self.flags_1 = flags_1


class ElfFile:
    """An open ELF file. Use as a context manager; reads happen on demand with pread."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError as e:
            raise ElfError(f"cannot open: {e.strerror}") from None
        try:
            info = os.fstat(self.fd)
            if not stat.S_ISREG(info.st_mode):
                raise ElfError("is not a regular file")
            self.size = info.st_size
            self.identity = (info.st_dev, info.st_ino)
            self._read_header()
        except BaseException:
            os.close(self.fd)
            raise

    def __enter__(self) -> ElfFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        os.close(self.fd)

    def read(self, offset: int, size: int) -> bytes:
        """Exactly SIZE bytes at OFFSET, or ElfError when the file is shorter."""
        if offset < 0 or size < 0 or offset + size > self.size:
            raise ElfError(
                f"truncated: needs bytes {offset}..{offset + size}, file has {self.size}"
            )
        try:
            data = os.pread(self.fd, size, offset)
        except OSError as e:
            raise ElfError(f"cannot read: {e.strerror}") from None
        if len(data) != size:
            raise ElfError("truncated while reading")
        return data

    def _read_header(self) -> None:
        ident = self.read(0, 16) if self.size >= 16 else b""
        if ident[:4] != ELF_MAGIC:
            raise ElfError("is not an ELF file")
        if ident[4] not in (1, 2) or ident[5] not in (1, 2):
            raise ElfError(f"has an invalid ELF class {ident[4]} or byte order {ident[5]}")
        self.bits = 32 if ident[4] == 1 else 64
        self.endian = "<" if ident[5] == 1 else ">"
        layout = "HHIIIIIHHHHHH" if self.bits == 32 else "HHIQQQIHHHHHH"
        fields = struct.unpack(self.endian + layout, self.read(16, struct.calcsize("=" + layout)))
        (
            self.type,
            self.machine,
            _,
            self.entry,
            self.phoff,
            self.shoff,
            _,
            _,
            self.phentsize,
            self.phnum,
            self.shentsize,
            self.shnum,
            self.shstrndx,
        ) = fields
        self.segments = self._read_segments()

    @property
    def machine_name(self) -> str:
        return MACHINES.get(self.machine, f"machine {self.machine}")

    @property
    def description(self) -> str:
        order = "LSB" if self.endian == "<" else "MSB"
        elf_type = TYPES.get(self.type, f"type {self.type}")
        return f"ELF {self.bits}-bit {order} {elf_type}, {self.machine_name}"

    def _entry_format(self, layout32: str, layout64: str, size: int, table: str) -> tuple[str, int]:
        """The struct format of one header-table entry, after checking the size the file says."""
        layout = layout32 if self.bits == 32 else layout64
        expected = struct.calcsize("=" + layout)
        if size != expected:
            raise ElfError(f"has {table} header size {size}, expected {expected}")
        return self.endian + layout, expected

    def _read_segments(self) -> tuple[Segment, ...]:
        if self.phnum == 0:
            return ()
        layout, expected = self._entry_format("IIIIIIII", "IIQQQQQQ", self.phentsize, "program")
        data = self.read(self.phoff, self.phnum * expected)
        segments = []
        for fields in struct.iter_unpack(layout, data):
            if self.bits == 32:
                ptype, offset, vaddr, _, filesz, memsz, flags, _ = fields
            else:
                ptype, flags, offset, vaddr, _, filesz, memsz, _ = fields
            segments.append(
                Segment(
                    type=ptype, flags=flags, offset=offset, vaddr=vaddr, filesz=filesz, memsz=memsz
                )
            )
        return tuple(segments)

    def segment(self, ptype: int) -> Segment | None:
        return next((s for s in self.segments if s.type == ptype), None)

    def _bounded_segment(self, ptype: int, limit: int, what: str) -> Segment | None:
        segment = self.segment(ptype)
        if segment is not None and segment.filesz > limit:
            raise ElfError(f"has a {segment.filesz}-byte {what}")
        return segment

    def interpreter(self) -> str | None:
        """PT_INTERP: the path of the dynamic loader the kernel will start."""
        segment = self._bounded_segment(PT_INTERP, MAX_INTERP, "PT_INTERP")
        if segment is None:
            return None
        return _c_string(self.read(segment.offset, segment.filesz), 0)

    def vaddr_to_offset(self, vaddr: int) -> int:
        for s in self.segments:
            if s.type == PT_LOAD and s.vaddr <= vaddr < s.vaddr + s.filesz:
                return vaddr - s.vaddr + s.offset
        raise ElfError(f"address {vaddr:#x} is in no loadable segment")

    def dynamic(self) -> Dynamic | None:
        """The DT_* entries golaunch uses; None for a static executable."""
        segment = self._bounded_segment(PT_DYNAMIC, MAX_DYNAMIC_BYTES, "dynamic section")
        if segment is None:
            return None
        layout = "iI" if self.bits == 32 else "qQ"
        entry = struct.calcsize("=" + layout)
        data = self.read(segment.offset, segment.filesz - segment.filesz % entry)
        entries: list[tuple[int, int]] = []
        for tag, value in struct.iter_unpack(self.endian + layout, data):
            if tag == DT_NULL:
                break
            entries.append((tag, value))
        return self._dynamic_strings(entries)

    def _dynamic_strings(self, entries: list[tuple[int, int]]) -> Dynamic:
        values = dict(entries)  # for single-valued tags; DT_NEEDED repeats
        strtab = b""
        if DT_STRTAB in values:
            size = values.get(DT_STRSZ, 0)
            if size > MAX_STRTAB_BYTES:
                raise ElfError(f"has a {size}-byte dynamic string table")
            strtab = self.read(self.vaddr_to_offset(values[DT_STRTAB]), size)

        def string(tag: int) -> str | None:
            return _c_string(strtab, values[tag]) if tag in values else None

        needed = tuple(_c_string(strtab, v) for t, v in entries if t == DT_NEEDED)
        return Dynamic(
            needed,
            string(DT_SONAME),
            string(DT_RPATH),
            string(DT_RUNPATH),
            values.get(DT_FLAGS_1, 0),
        )

    def sections(self) -> tuple[Section, ...]:
        if self.shoff == 0:
            return ()
        layout, expected = self._entry_format("IIIIIIIIII", "IIQQQQIIQQ", self.shentsize, "section")
        raw = [struct.unpack(layout, self.read(self.shoff, expected))]
        count, names_index = self.shnum, self.shstrndx
        if count == 0:  # extended numbering: the real count is in section 0
            count = raw[0][5]
        if names_index == SHN_XINDEX:
            names_index = raw[0][6]
        if count > MAX_SECTIONS:
            raise ElfError(f"claims {count} sections")
        data = self.read(self.shoff, count * expected)
        raw = list(struct.iter_unpack(layout, data))
        if not 0 <= names_index < count:
            raise ElfError(f"has section name table index {names_index} of {count}")
        names_header = raw[names_index]
        names_size = names_header[5]
        if names_size > MAX_STRTAB_BYTES:
            raise ElfError(f"has a {names_size}-byte section name table")
        names = self.read(names_header[4], names_size)
        return tuple(Section(_c_string(names, h[0]), h[1], h[3], h[4], h[5]) for h in raw)


def _c_string(table: bytes, offset: int) -> str:
    if not 0 <= offset < len(table):
        raise ElfError(f"string offset {offset} is outside its table ({len(table)} bytes)")
    end = table.find(b"\0", offset)
    raw = table[offset:] if end < 0 else table[offset:end]
    return raw.decode("utf-8", "surrogateescape")
