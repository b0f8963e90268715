"""The ACL reader, on the kernel's xattr format (tests/integration proves it on setfacl's)."""

from __future__ import annotations

import struct

import pytest

from golaunch.host.permissions import GROUP, GROUP_OBJ, MASK, OTHER, USER, USER_OBJ, Acl, parse_acl


def xattr(*entries: tuple[int, int, int], version: int = 2) -> bytes:
    return struct.pack("<I", version) + b"".join(struct.pack("<HHI", *e) for e in entries)


BASE = ((USER_OBJ, 7, 0xFFFFFFFF), (GROUP_OBJ, 5, 0xFFFFFFFF), (OTHER, 5, 0xFFFFFFFF))


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (BASE, Acl((), (), False)),
        ((*BASE, (USER, 7, 65534), (MASK, 7, 0xFFFFFFFF)), Acl((65534,), (), False)),
        ((*BASE, (USER, 7, 65534), (MASK, 5, 0xFFFFFFFF)), Acl((), (), False)),
        ((*BASE, (GROUP, 6, 100), (MASK, 6, 0xFFFFFFFF)), Acl((), (100,), False)),
        (((USER_OBJ, 7, 0), (GROUP_OBJ, 7, 0), (MASK, 7, 0), (OTHER, 0, 0)), Acl((), (), True)),
        (((USER_OBJ, 7, 0), (GROUP_OBJ, 7, 0), (MASK, 5, 0), (OTHER, 0, 0)), Acl((), (), False)),
    ],
    ids=["mode-only", "named-user", "masked-user", "named-group", "owning-group", "masked-group"],
)
def test_write_permission_after_the_mask(
    entries: tuple[tuple[int, int, int], ...], expected: Acl
) -> None:
    assert parse_acl(xattr(*entries)) == expected


@pytest.mark.parametrize("data", [b"", b"\x02\x00\x00", xattr(*BASE, version=1), xattr(*BASE)[:-1]])
def test_anything_else_is_not_an_acl(data: bytes) -> None:
    assert parse_acl(data) is None
