"""The digest of the warm start's keys and fingerprints: BLAKE2b, from CPython's built-in
module. hashlib's import loads OpenSSL (3 ms at every start, 4 MB of memory), and the
built-in SHA-256 is three times slower than BLAKE2b over a library's bytes."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _builtin_blake2b() -> Callable[..., Any]:
    try:
        from _blake2 import blake2b
    except ImportError:  # an interpreter built without it
        from hashlib import blake2b
    return blake2b


_blake2b = _builtin_blake2b()


def digest(data: bytes = b"") -> Any:
    """A new 256-bit BLAKE2b of DATA, to update and read as hashlib's objects are."""
    return _blake2b(data, digest_size=32)
