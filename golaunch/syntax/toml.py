"""A reader for the part of TOML 1.0 that golaunch's configuration files use.

Every start reads the configuration file (golaunch.config.plain), and tomllib's
imports (re, typing, datetime) cost more than a warm start's whole budget. This
reader takes the common forms: comments, `[table]` and `[table.sub]` headers,
`key = value` with bare or quoted keys, basic and literal strings, decimal
integers and floats, booleans, arrays (over several lines too) and inline tables.
Anything else (multi-line strings, dates, dotted keys, hex numbers, inf, a table
defined twice, a control character) gives None, and the caller reads the file
with tomllib. So it never parses a document differently from tomllib: it parses
it the same or not at all (tests/unit/test_toml.py holds it to tomllib).
"""

from __future__ import annotations

TYPE_CHECKING = False  # on every start's path: no typing
if TYPE_CHECKING:
    from typing import Any

BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
DECIMAL_DIGITS = frozenset("0123456789")
ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}
MAX_DEPTH = 16  # arrays and inline tables within each other


class Unsupported(Exception):
    """Not in the subset, or not valid TOML: tomllib decides."""


def read_toml(text: str) -> dict[str, Any] | None:
    """TEXT's tables as tomllib.loads would give them, or None (see the module)."""
    if _has_control_characters(text):
        return None
    try:
        return _Reader(text).document()
    except (Unsupported, IndexError, ValueError, RecursionError):
        return None


def _has_control_characters(text: str) -> bool:
    """TOML allows tab anywhere, and CR only before LF; the subset allows no other."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return True
    return any((c < " " and c not in "\t\r\n") or c == "\x7f" for c in text)


class _Reader:
    __slots__ = ("defined", "frozen", "pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text.replace("\r\n", "\n")
        self.pos = 0
        self.defined: set[int] = set()  # id() of each table given a header
        self.frozen: set[int] = set()  # id() of each inline table: never extended

    def document(self) -> dict[str, Any]:
        root: dict[str, Any] = {}
        table = root
        while self._skip_blank_lines():
            if self.text[self.pos] == "[":
                table = self._header(root)
            else:
                key = self._key()
                self._expect("=")
                self._put(table, key, self._value(0))
            self._end_of_line()
        return root

    def _skip_blank_lines(self) -> bool:
        """Past whitespace, comments and newlines; False at the end."""
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c in " \t\n":
                self.pos += 1
            elif c == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return True
        return False

    def _spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def _expect(self, char: str) -> None:
        self._spaces()
        if self.text[self.pos] != char:
            raise Unsupported
        self.pos += 1
        self._spaces()

    def _end_of_line(self) -> None:
        self._spaces()
        if self.pos < len(self.text) and self.text[self.pos] == "#":
            end = self.text.find("\n", self.pos)
            self.pos = len(self.text) if end < 0 else end
        if self.pos < len(self.text) and self.text[self.pos] != "\n":
            raise Unsupported

    def _header(self, root: dict[str, Any]) -> dict[str, Any]:
        if self.text.startswith("[[", self.pos):
            raise Unsupported  # arrays of tables
        self.pos += 1
        self._spaces()
        names = [self._key()]
        self._spaces()
        while self.text[self.pos] == ".":
            self.pos += 1
            self._spaces()
            names.append(self._key())
            self._spaces()
        if self.text[self.pos] != "]":
            raise Unsupported
        self.pos += 1
        table = root
        for name in names:
            inner = table.setdefault(name, {})
            if not isinstance(inner, dict) or id(inner) in self.frozen:
                raise Unsupported  # a value, or an inline table, by that name
            table = inner
        if id(table) in self.defined:
            raise Unsupported  # a table defined twice
        if any(isinstance(v, dict) and id(v) in self.defined for v in table.values()):
            # A sub-table defined before this header: valid TOML, but the order rules
            # are subtle; tomllib decides.
            raise Unsupported
        self.defined.add(id(table))
        return table

    def _key(self) -> str:
        quoted = self._quoted()
        if quoted is not None:
            return quoted
        text = self.text
        start = self.pos
        while self.pos < len(text) and text[self.pos] in BARE:
            self.pos += 1
        if self.pos == start:
            raise Unsupported
        return text[start : self.pos]

    def _put(self, table: dict[str, Any], key: str, value: object) -> None:
        if key in table:
            raise Unsupported  # a key given twice, or a table's name as a key
        table[key] = value

    def _value(self, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise Unsupported
        quoted = self._quoted()
        if quoted is not None:
            return quoted
        text = self.text
        c = text[self.pos]
        if c == "[":
            return self._array(depth)
        if c == "{":
            return self._inline_table(depth)
        if text.startswith("true", self.pos):
            self.pos += 4
            return True
        if text.startswith("false", self.pos):
            self.pos += 5
            return False
        return self._number()

    def _quoted(self) -> str | None:
        """The string at the position, or None when none starts there."""
        c = self.text[self.pos]
        if c == '"':
            return self._basic_string()
        if c == "'":
            return self._literal_string()
        return None

    def _basic_string(self) -> str:
        text = self.text
        if text.startswith('"""', self.pos):
            raise Unsupported  # multi-line strings
        self.pos += 1
        parts = []
        start = self.pos
        while True:
            c = text[self.pos]
            if c == '"':
                parts.append(text[start : self.pos])
                self.pos += 1
                return "".join(parts)
            if c == "\n":
                raise Unsupported
            if c == "\\":
                parts.append(text[start : self.pos])
                parts.append(self._escape())
                start = self.pos
            else:
                self.pos += 1

    def _escape(self) -> str:
        code = self.text[self.pos + 1]
        if code in ESCAPES:
            self.pos += 2
            return ESCAPES[code]
        width = {"u": 4, "U": 8}.get(code)
        if width is None:
            raise Unsupported
        digits = self.text[self.pos + 2 : self.pos + 2 + width]
        if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
            raise Unsupported
        value = int(digits, 16)
        if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
            raise Unsupported  # not a Unicode scalar value
        self.pos += 2 + width
        return chr(value)

    def _literal_string(self) -> str:
        text = self.text
        if text.startswith("'''", self.pos):
            raise Unsupported
        end = text.find("'", self.pos + 1)
        newline = text.find("\n", self.pos + 1)
        if end < 0 or 0 <= newline < end:
            raise Unsupported
        value = text[self.pos + 1 : end]
        self.pos = end + 1
        return value

    def _array(self, depth: int) -> list[object]:
        self.pos += 1
        items: list[object] = []
        while True:
            self._skip_blank_lines()
            if self.text[self.pos] == "]":
                self.pos += 1
                return items
            items.append(self._value(depth + 1))
            self._skip_blank_lines()
            c = self.text[self.pos]
            if c == ",":
                self.pos += 1
            elif c != "]":
                raise Unsupported

    def _inline_table(self, depth: int) -> dict[str, Any]:
        self.pos += 1
        table: dict[str, Any] = {}
        self.frozen.add(id(table))
        self._spaces()
        if self.text[self.pos] == "}":
            self.pos += 1
            return table
        while True:
            self._spaces()
            key = self._key()
            self._expect("=")
            self._put(table, key, self._value(depth + 1))
            self._spaces()
            c = self.text[self.pos]
            self.pos += 1
            if c == "}":
                return table
            if c != ",":
                raise Unsupported

    def _number(self) -> int | float:
        text = self.text
        start = self.pos
        if text[self.pos] in "+-":
            self.pos += 1
        whole = self._digits()
        if whole is None or (len(whole) > 1 and whole[0] == "0"):
            raise Unsupported  # hex, octal, binary, inf, nan, a date, or a leading zero
        is_float = False
        if self.pos < len(text) and text[self.pos] == ".":
            self.pos += 1
            if self._digits() is None:
                raise Unsupported
            is_float = True
        if self.pos < len(text) and text[self.pos] in "eE":
            self.pos += 1
            if self.pos < len(text) and text[self.pos] in "+-":
                self.pos += 1
            if self._digits() is None:
                raise Unsupported
            is_float = True
        if self.pos < len(text) and (text[self.pos] in BARE or text[self.pos] in ".:+"):
            raise Unsupported  # more follows: a date, a time, or something else
        number = text[start : self.pos].replace("_", "")
        return float(number) if is_float else int(number)

    def _digits(self) -> str | None:
        """Decimal digits with single underscores between them, as TOML writes them."""
        text = self.text
        start = self.pos
        while self.pos < len(text):
            c = text[self.pos]
            if c in DECIMAL_DIGITS:
                self.pos += 1
            elif c == "_" and self.pos > start and text[self.pos - 1] in DECIMAL_DIGITS:
                self.pos += 1
                if self.pos >= len(text) or text[self.pos] not in DECIMAL_DIGITS:
                    raise Unsupported
            else:
                break
        return text[start : self.pos] if self.pos > start else None
