"""Reusing validated configurations across starts, so the launch path skips pydantic and click.

Validating the configuration costs about 200 ms of imports; a service start
must not. After a launch validated its inputs, the validated configuration is
stored, serialized, under a key made of everything it depends on: golaunch's
version, the command line, the GOLAUNCH_* variables and the effective user.
The entry also records which configuration file was read and a digest of its
bytes (or that the default file was absent), rechecked at every use.

The store lives where only the effective user can write: $CACHE_DIRECTORY
(systemd's CacheDirectory=, which stays writable under ProtectSystem=strict),
else /run/golaunch for root or $XDG_RUNTIME_DIR/golaunch for others. Any doubt
(wrong owner or mode, unreadable, a digest or version mismatch) means no entry,
and the caller validates again.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys

from golaunch import __version__

TYPE_CHECKING = False  # the warm path (golaunch.launch.plan) uses the entry functions here
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from golaunch.config.file import ConfigFile
    from golaunch.config.schema import Config


def _fast_sha256() -> Callable[..., Any]:
    """CPython's built-in SHA-256: hashlib's OpenSSL import costs 3 ms at every start."""
    for module in ("_sha2", "_sha256"):  # 3.12+, 3.11
        try:
            return __import__(module).sha256  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            pass
    import hashlib

    return hashlib.sha256


sha256 = _fast_sha256()

SCHEMA = 5
# Entries are marshal data, not JSON: json pulls in re (5 ms), while marshal is
# built in. marshal's format belongs to the interpreter, so its version is part of
# the key; entries are read only from a directory and files of our own (below).
FORMAT = f"marshal {marshal.version} {sys.implementation.cache_tag}"
MAX_ENTRY_BYTES = 1 << 20
# One entry per distinct command line and GOLAUNCH_* set would grow forever: an entry
# unused this long goes, and beyond this many the least recently used go.
MAX_AGE_SECONDS = 30 * 24 * 3600
MAX_ENTRIES = 64


def cache_key(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    header = f"golaunch {__version__} schema {SCHEMA} {FORMAT} uid {os.geteuid()}\0"
    digest = sha256(header.encode())
    for arg in argv:
        digest.update(b"arg\0" + arg.encode("utf-8", "surrogateescape") + b"\0")
    for name in sorted(n for n in environ if n.upper().startswith("GOLAUNCH_")):
        digest.update(f"env\0{name}\0{environ[name]}\0".encode("utf-8", "surrogateescape"))
    return str(digest.hexdigest())


def cache_directory(environ: Mapping[str, str]) -> str | None:
    cache_dir = environ.get("CACHE_DIRECTORY", "").split(":")[0]
    if cache_dir:
        return os.path.join(cache_dir, "golaunch")
    if os.geteuid() == 0:
        return "/run/golaunch"
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    return os.path.join(runtime, "golaunch") if runtime.startswith("/") else None


def private_directory(path: str, create: bool) -> bool:
    """PATH is a real directory of ours that nobody else can write."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if not create:
            return False
        try:
            os.mkdir(path, 0o700)
        except OSError:
            return False
        info = os.lstat(path)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def load(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[Config, str | None] | None:
    """The configuration validated before for these inputs, and the configuration file's path."""
    from golaunch.config.schema import from_plain

    directory = cache_directory(environ)
    if directory is None or not private_directory(directory, create=False):
        return None
    key = cache_key(argv, environ)
    path = os.path.join(directory, key + ".entry")
    entry = read_entry(path)
    if entry is None or entry.get("key") != key or not _inputs_unchanged(entry):
        return None
    try:
        found = from_plain(entry["config"]), entry["config_path"]
    except (KeyError, TypeError, ValueError, AttributeError):  # an entry of the wrong shape
        return None
    try:  # noqa: SIM105  (contextlib is not loaded on the warm path)
        os.utime(path)  # used now: pruning goes by the time of last use
    except OSError:
        pass
    return found


def read_entry(path: str) -> dict[str, Any] | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if (
            not stat.S_ISREG(info.st_mode)
            or info.st_uid != os.geteuid()
            or info.st_mode & 0o077
            or info.st_size > MAX_ENTRY_BYTES
        ):
            return None
        data = os.read(fd, MAX_ENTRY_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        entry = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    return entry if isinstance(entry, dict) else None


def _inputs_unchanged(entry: Mapping[str, Any]) -> bool:
    from golaunch.config.file import ConfigFileError, read_config_file
    from golaunch.config.schema import DEFAULT_CONFIG_FILE

    path = entry.get("config_path")
    if path is not None and not isinstance(path, str):
        return False
    if path is None:
        # The default file was absent; if it appeared since, validate again.
        return entry.get("default_absent") is True and not os.path.exists(DEFAULT_CONFIG_FILE)
    try:
        current = read_config_file(path)
    except ConfigFileError:
        return False
    return bool(sha256(current.data).hexdigest() == entry.get("config_sha256"))


def store(
    argv: Sequence[str],
    environ: Mapping[str, str],
    config_file: ConfigFile | None,
    config: Config,
) -> None:
    """Remember a validated configuration; failure to store only costs speed, so it is silent."""
    from golaunch.config.schema import DEFAULT_CONFIG_FILE, to_plain

    directory = cache_directory(environ)
    if directory is None:
        return
    key = cache_key(argv, environ)
    entry = {
        "key": key,
        "golaunch": __version__,
        "config_path": config_file.path if config_file else None,
        "config_sha256": sha256(config_file.data).hexdigest() if config_file else None,
        "default_absent": config_file is None and not os.path.exists(DEFAULT_CONFIG_FILE),
        "config": to_plain(config),
    }
    write_entry(os.path.join(directory, key + ".entry"), marshal.dumps(entry))


def write_entry(final: str, data: bytes) -> None:
    """Put DATA at FINAL, a file in a private directory of ours (made if need be), atomically;
    silent on failure. Prunes the directory afterwards."""
    import contextlib

    directory = os.path.dirname(final)
    if not private_directory(directory, create=True):
        return
    temporary = f"{final}.{os.getpid()}.tmp"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, final)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    prune(directory)


def prune(directory: str, now: float | None = None) -> None:
    """Drop entries unused for MAX_AGE_SECONDS, then all but the MAX_ENTRIES used last,
    and temporaries a crash left behind."""
    import contextlib
    import time

    now = time.time() if now is None else now
    entries = []
    with contextlib.suppress(OSError), os.scandir(directory) as listing:
        for item in listing:
            if not item.name.endswith((".entry", ".plan", ".tmp")):
                continue
            with contextlib.suppress(OSError):
                used = item.stat(follow_symlinks=False).st_mtime
                entries.append((used, item.path, item.name.endswith(".tmp")))
    entries.sort(reverse=True)
    kept = 0
    for used, path, temporary in entries:
        stale = now - used > (3600 if temporary else MAX_AGE_SECONDS)
        if not temporary:
            kept += 1
        if stale or (not temporary and kept > MAX_ENTRIES):
            with contextlib.suppress(OSError):
                os.unlink(path)
