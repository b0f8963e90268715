"""ld.so.cache parsing against `ldconfig -p`, and the ld.so.conf fallback."""

from __future__ import annotations

import subprocess
from pathlib import Path

from golaunch.elf.ldcache import conf_directories, directories_by_name, load_cache, parse_cache


def ldconfig_p(*cache: str) -> list[tuple[str, str, str | None]]:
    """(soname, path, glibc-hwcaps subdirectory) for each entry `ldconfig -p` prints."""
    options = ["-C", *cache] if cache else []
    out = subprocess.run(
        ["/sbin/ldconfig", *options, "-p"], capture_output=True, text=True, check=True
    ).stdout
    entries = []
    for line in out.splitlines()[1:]:
        if " => " in line:
            subdir = line.split('hwcap: "', 1)[1].split('"')[0] if 'hwcap: "' in line else None
            entries.append((line.split(" (")[0].strip(), line.rsplit(" => ", 1)[1].strip(), subdir))
    return entries


def test_cache_entries_equal_ldconfig_p() -> None:
    cache = load_cache()
    assert cache is not None
    assert [(key, value, subdir) for _, key, value, subdir in cache.entries] == ldconfig_p()
    assert cache.lookup("libc.so.6", 64, 62) == ["/lib/x86_64-linux-gnu/libc.so.6"]
    assert cache.lookup("libc.so.6", 64, 183) == []  # an aarch64 loader takes no x86-64 entry


def test_glibc_hwcaps_entries_equal_ldconfig_p(tmp_path: Path) -> None:
    """A cache ldconfig builds over glibc-hwcaps subdirectories: the subdirectory names come
    from the cache's extension section; lookup takes the best level the CPU has."""
    from tests.helpers.elf import shared

    for level in ("", "x86-64-v2", "x86-64-v3"):
        shared(tmp_path / "lib" / "glibc-hwcaps" / level if level else tmp_path / "lib",
               "gla.c", "libgla.so.1")  # fmt: skip
    (tmp_path / "ld.so.conf").write_text(f"{tmp_path / 'lib'}\n")
    cache_file = str(tmp_path / "ld.so.cache")
    subprocess.run(
        ["/sbin/ldconfig", "-X", "-C", cache_file, "-f", str(tmp_path / "ld.so.conf")], check=True
    )
    cache = load_cache(cache_file)
    assert cache is not None
    assert [(key, value, subdir) for _, key, value, subdir in cache.entries] == ldconfig_p(
        cache_file
    )
    lib = tmp_path / "lib"
    levels = ("x86-64-v4", "x86-64-v3", "x86-64-v2")
    assert cache.lookup("libgla.so.1", 64, 62, levels) == [
        f"{lib}/glibc-hwcaps/x86-64-v3/libgla.so.1"
    ]
    assert cache.lookup("libgla.so.1", 64, 62, levels[2:]) == [
        f"{lib}/glibc-hwcaps/x86-64-v2/libgla.so.1"
    ]
    assert cache.lookup("libgla.so.1", 64, 62) == [f"{lib}/libgla.so.1"]  # a baseline CPU


def test_garbage_is_not_a_cache() -> None:
    import pytest

    for data in (b"", b"glibc-ld.so.cache1.1", b"glibc-ld.so.cache1.1" + b"\xff" * 40):
        with pytest.raises(ValueError):
            parse_cache(data)


def test_conf_includes_are_followed_once(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "ld.so.conf").write_text("include conf.d/*.conf\n/first # comment\nhwcap 0 x\n")
    (tmp_path / "conf.d" / "a.conf").write_text(f"/from-a/\ninclude {tmp_path / 'ld.so.conf'}\n")
    (tmp_path / "conf.d" / "b.conf").write_text("/from-b\n")
    assert conf_directories(str(tmp_path / "ld.so.conf")) == ["/from-a", "/from-b", "/first"]


def test_conf_fallback_finds_libraries(tmp_path: Path) -> None:
    (tmp_path / "libx.so.1").write_bytes(b"")
    assert directories_by_name([str(tmp_path), "/nonexistent"]) == {
        "libx.so.1": [str(tmp_path / "libx.so.1")]
    }
