"""Go build information, read as Go's debug/buildinfo reads it (`go version -m` prints it).

The data sits in the .go.buildinfo section (older linkers: the first writable,
non-executable PT_LOAD), 16-byte aligned, behind a 32-byte header that starts
with "\\xff Go buildinf:". Byte 14 is the pointer size; byte 15 has flags: bit 0
big-endian, bit 1 strings inline (Go 1.18+). Inline: two uvarint-prefixed
strings follow, the Go version and the module info. Before 1.18: two pointers
at offset 16 to Go string headers (data pointer, length).
"""

from __future__ import annotations

import struct

from golaunch.elf.elffile import PF_W, PF_X, PT_LOAD, ElfError, ElfFile

BUILDINFO_MAGIC = b"\xff Go buildinf:"
HEADER_SIZE = 32
ALIGN = 16
MAX_SEARCH = 32 << 20  # Go's own reader scans the whole section; 32 MB bounds hostile ones
MAX_STRING = 4 << 20


# Plain classes: every start that computes GOMEMLIMIT reads the program's build info, and
# a dataclass or NamedTuple costs more to define than the reading.


class Module:
    __slots__ = ("path", "sum", "version")

    def __init__(self, path: str, version: str, sum: str = "") -> None:
        self.path = path
        self.version = version
        self.sum = sum


class BuildInfo:
    __slots__ = ("deps", "go_version", "main", "path", "settings")

    def __init__(
        self,
        go_version: str,
        path: str = "",
        main: Module | None = None,
        deps: tuple[Module, ...] = (),
        settings: dict[str, str] | None = None,
    ) -> None:
        self.go_version = go_version
        self.path = path
        self.main = main
        self.deps = deps
        self.settings = settings or {}


def read_buildinfo(elf: ElfFile) -> BuildInfo | None:
    """The build info of a Go program; None when it is not one. ElfError when it is damaged."""
    start, size = _data_region(elf)
    if size == 0:
        return None
    address = _search_magic(elf, start, size)
    if address is None:
        return None
    header = _read_virtual(elf, address, HEADER_SIZE)
    flags = header[15]
    if flags & 0x2:
        version, after = _inline_string(elf, address + HEADER_SIZE)
        modinfo, _ = _inline_string(elf, after)
    else:
        version, modinfo = _pointer_strings(elf, header)
    if not version:
        return None
    # The module info has a 16-byte sentinel at each end.
    modinfo = modinfo[16:-16] if len(modinfo) >= 33 and modinfo[-17] == "\n" else ""
    return parse_modinfo(version, modinfo)


def _data_region(elf: ElfFile) -> tuple[int, int]:
    for section in elf.sections():
        if section.name == ".go.buildinfo":
            return section.addr, section.size
    for segment in elf.segments:
        if segment.type == PT_LOAD and segment.flags & (PF_X | PF_W) == PF_W:
            return segment.vaddr, segment.memsz
    return 0, 0


def _read_virtual(elf: ElfFile, address: int, size: int) -> bytes:
    """SIZE bytes at virtual ADDRESS, all within one segment's file image."""
    for s in elf.segments:
        if s.type == PT_LOAD and s.vaddr <= address and address + size <= s.vaddr + s.filesz:
            return elf.read(address - s.vaddr + s.offset, size)
    raise ElfError(f"Go build info: {size} bytes at {address:#x} lie outside the file's segments")


def _search_magic(elf: ElfFile, start: int, size: int) -> int | None:
    start = (start + ALIGN - 1) & ~(ALIGN - 1)
    for s in elf.segments:
        if s.type == PT_LOAD and s.vaddr <= start < s.vaddr + s.filesz:
            available = min(size, s.vaddr + s.filesz - start, MAX_SEARCH)
            data = elf.read(start - s.vaddr + s.offset, available)
            index = data.find(BUILDINFO_MAGIC)
            while index >= 0:
                if index % ALIGN == 0 and len(data) - index >= HEADER_SIZE:
                    return start + index
                index = data.find(BUILDINFO_MAGIC, index + 1)
            return None
    return None


def _uvarint(data: bytes) -> tuple[int, int]:
    value = shift = 0
    for i, byte in enumerate(data[:10]):
        if i == 9 and byte > 1:
            raise ElfError("Go build info: a length past 64 bits")  # as binary.Uvarint
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i + 1
        shift += 7
    raise ElfError("Go build info: bad length")


def _inline_string(elf: ElfFile, address: int) -> tuple[str, int]:
    prefix = b""
    for size in (10, 1):  # the string may end within 10 bytes of a segment's end
        try:
            prefix = _read_virtual(elf, address, size)
            break
        except ElfError:
            continue
    length, used = _uvarint(prefix)
    if length > MAX_STRING:
        raise ElfError(f"Go build info: a {length}-byte string")
    data = _read_virtual(elf, address + used, length)
    return data.decode("utf-8", "replace"), address + used + length


def _pointer_strings(elf: ElfFile, header: bytes) -> tuple[str, str]:
    size = header[14]
    if size not in (4, 8):
        raise ElfError(f"Go build info: pointer size {size}")
    order = ">" if header[15] & 0x1 else "<"
    pointer = order + ("I" if size == 4 else "Q")

    def string_at(address: int) -> str:
        data, length = struct.unpack(
            order + ("II" if size == 4 else "QQ"), _read_virtual(elf, address, 2 * size)
        )
        if length > MAX_STRING:
            raise ElfError(f"Go build info: a {length}-byte string")
        return _read_virtual(elf, data, length).decode("utf-8", "replace")

    (version_ptr,) = struct.unpack_from(pointer, header, 16)
    (modinfo_ptr,) = struct.unpack_from(pointer, header, 16 + size)
    return string_at(version_ptr), string_at(modinfo_ptr)


def parse_modinfo(version: str, modinfo: str) -> BuildInfo:
    """Parse the module info text: "path", "mod", "dep", "=>" and "build" lines, tab-separated."""
    path, main, deps, settings = "", None, [], {}
    for line in modinfo.splitlines():
        word, _, rest = line.partition("\t")
        fields = rest.split("\t")
        if word == "path":
            path = rest
        elif word == "mod" and len(fields) >= 2:
            main = Module(fields[0], fields[1], fields[2] if len(fields) > 2 else "")
        elif word == "dep" and len(fields) >= 2:
            deps.append(Module(fields[0], fields[1], fields[2] if len(fields) > 2 else ""))
        elif word == "build":
            key, _, value = rest.partition("=")
            settings[key] = _unquote(value)
    return BuildInfo(version, path, main, tuple(deps), settings)


def _unquote(value: str) -> str:
    """A build setting as debug/buildinfo gives it: one with spaces, quotes or tabs is
    written as a Go string literal (strconv.Quote), read back here as strconv.Unquote
    reads it. A literal Go would refuse stays as written."""
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    unquoted = _go_string(value[1:-1])
    return value if unquoted is None else unquoted


GO_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
# x, u and U take this many hexadecimal digits; three octal digits after a backslash are a byte.
GO_NUMERIC = {"x": (2, 16), "u": (4, 16), "U": (8, 16)}
HEX, OCTAL = "0123456789abcdefABCDEF", "01234567"


def _go_string(body: str) -> str | None:
    """The text of a Go interpreted string literal's BODY (between the quotes), or None
    where Go refuses it. Hexadecimal and octal escapes are bytes, so the result is decoded
    as UTF-8."""
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c in '"\n':
            return None
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        escaped = _go_escape(body, i + 1)
        if escaped is None:
            return None
        out += escaped[0]
        i = escaped[1]
    return out.decode("utf-8", "replace")


def _go_escape(body: str, i: int) -> tuple[bytes, int] | None:
    """The bytes of the escape whose code starts at BODY[I], and the index after it."""
    code = body[i : i + 1]
    if code in GO_ESCAPES:
        return bytes([GO_ESCAPES[code]]), i + 1
    width, base = GO_NUMERIC.get(code, (3, 8))
    start = i + 1 if code in GO_NUMERIC else i
    digits = body[start : start + width]
    if len(digits) != width or any(d not in (HEX if base == 16 else OCTAL) for d in digits):
        return None
    number = int(digits, base)
    if code in ("u", "U"):
        if 0xD800 <= number <= 0xDFFF or number > 0x10FFFF:
            return None
        return chr(number).encode("utf-8"), start + width
    return (bytes([number]), start + width) if number <= 255 else None
