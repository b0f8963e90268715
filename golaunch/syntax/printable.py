"""One rule for every byte golaunch shows: escaped for people, valid UTF-8 for parsers.

Paths, arguments, variables and the strings inside a binary are bytes that an
attacker may choose. golaunch carries them as str with surrogateescape (each
byte that is not UTF-8 becomes U+DC80..U+DCFF). Before any of them reaches a
terminal, the journal, STATUS= or a stream header, `visible` writes every
character that is not printable (controls, escape sequences, newlines, bytes
that are not UTF-8) as a backslash escape; JSON keeps exact bytes instead
(`for_json`).
"""

from __future__ import annotations

TYPE_CHECKING = False  # on the warm path: typing would cost 5 ms
if TYPE_CHECKING:
    from typing import Any


def visible(text: str) -> str:
    """TEXT on one line, with nothing a terminal or a line-based reader would act on."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def shortened(text: str, limit: int = 300) -> str:
    """TEXT as `visible` writes it, at most about LIMIT characters: what a server, a page
    or a file says is quoted into messages, STATUS= and the journal, which it must not
    flood (a datagram has a size limit, and an entry one screen)."""
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text) - limit} more characters)"
    return visible(text)


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def is_utf8(text: str) -> bool:
    """TEXT came from bytes that were valid UTF-8 (no surrogateescape in it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def for_json(value: Any) -> Any:
    """VALUE with every string that was not UTF-8 as the list of its bytes, as
    `journalctl -o json` writes such fields: reversible, and valid for strict parsers.
    Object keys cannot be lists: theirs are escaped as `visible` does."""
    if isinstance(value, str):
        return value if is_utf8(value) else list(value.encode("utf-8", "surrogateescape"))
    if isinstance(value, dict):
        return {(k if is_utf8(k) else visible(k)): for_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [for_json(v) for v in value]
    return value
