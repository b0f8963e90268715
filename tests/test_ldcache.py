"""ld.so.cache parsing against `ldconfig -p`, and the ld.so.conf fallback."""

from __future__ import annotations

import subprocess
from pathlib import Path

from golaunch.elf.ldcache import conf_directories, directories_by_name, load_cache, parse_cache


def test_cache_entries_equal_ldconfig_p() -> None:
    out = subprocess.run(
        ["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=True
    ).stdout
    expected = [
        (line.split(" (")[0].strip(), line.rsplit(" => ", 1)[1].strip())
        for line in out.splitlines()[1:]
        if " => " in line and "hwcap" not in line
    ]
    cache = load_cache()
    assert cache is not None
    assert [(key, value) for _, key, value in cache.entries] == expected
    assert cache.lookup("libc.so.6", 64, 62) == ["/lib/x86_64-linux-gnu/libc.so.6"]
    assert cache.lookup("libc.so.6", 64, 183) == []  # an aarch64 loader takes no x86-64 entry


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
