"""Who other than the trusted can write a file: owner, group, others, and POSIX ACLs.

Mode bits alone lie when a file has an ACL: `setfacl -m u:nobody:rwx DIR` gives
nobody write access while the mode still reads drwxr-x---... (the group bits
then show the ACL mask). The access ACL is read from the `system.posix_acl_access`
extended attribute, in the kernel's format (include/uapi/linux/posix_acl_xattr.h):
a little-endian u32 version (2), then 8-byte entries of u16 tag, u16 permissions
and u32 id.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
from collections.abc import Collection
from typing import NamedTuple

ACL_XATTR = "system.posix_acl_access"
ACL_VERSION = 2
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
WRITE = 0x02


class Acl(NamedTuple):
    """The write permission an access ACL grants, the mask applied."""

    users: tuple[int, ...]  # named users (ACL_USER) who can write
    groups: tuple[int, ...]  # named groups (ACL_GROUP) who can write
    owning_group: bool  # the file's group (ACL_GROUP_OBJ) can write


def parse_acl(data: bytes) -> Acl | None:
    """The ACL in DATA, or None when it is not the kernel's version-2 format."""
    if len(data) < 4 or (len(data) - 4) % 8 or struct.unpack_from("<I", data)[0] != ACL_VERSION:
        return None
    entries = list(struct.iter_unpack("<HHI", data[4:]))
    mask = next((perm for tag, perm, _ in entries if tag == MASK), 0x7)
    users = tuple(i for tag, perm, i in entries if tag == USER and perm & mask & WRITE)
    groups = tuple(i for tag, perm, i in entries if tag == GROUP and perm & mask & WRITE)
    owning = any(tag == GROUP_OBJ and perm & mask & WRITE for tag, perm, _ in entries)
    return Acl(users, groups, owning)


def read_acl(path: str) -> Acl | None:
    """PATH's access ACL; None when it has none beyond its mode (or the filesystem has none)."""
    try:
        return parse_acl(os.getxattr(path, ACL_XATTR))
    except OSError as e:
        if e.errno in (errno.ENODATA, errno.EOPNOTSUPP, errno.ENOTSUP):
            return None
        raise


def other_writers(
    path: str,
    info: os.stat_result,
    uids: Collection[int],
    gids: Collection[int],
    sticky_is_safe: bool = False,
) -> list[str]:
    """Who besides the users UIDS and the groups GIDS can write PATH (stat INFO).

    A sticky world-writable directory (/tmp) lets anyone add files but not replace
    another's: where only replacing matters (an ancestor directory), STICKY_IS_SAFE.
    """
    try:
        acl = read_acl(path)
    except OSError as e:
        return [f"nobody knows: its ACL cannot be read ({e.strerror})"]
    who = []
    if info.st_uid not in uids:
        who.append(f"its owner, uid {info.st_uid}")
    group_writes = acl.owning_group if acl else bool(info.st_mode & stat.S_IWGRP)
    if group_writes and info.st_gid not in gids:
        who.append(f"group {info.st_gid}")
    sticky = stat.S_ISDIR(info.st_mode) and bool(info.st_mode & stat.S_ISVTX)
    if info.st_mode & stat.S_IWOTH and not (sticky and sticky_is_safe):
        note = " (sticky, but a new file can still be put in it)" if sticky else ""
        who.append(f"everyone{note}")
    if acl:
        who += [f"uid {uid} (through an ACL)" for uid in acl.users if uid not in uids]
        who += [f"group {gid} (through an ACL)" for gid in acl.groups if gid not in gids]
    return who
