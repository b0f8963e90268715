"""hwcaps subdirectories: golaunch's search order is ld.so's own, read from LD_DEBUG=libs
of a program built here, and libraries placed in them resolve where ldd finds them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from golaunch.elf.hwcaps import host_subdirs, search_subdirs
from golaunch.elf.resolve import Resolver, host_platform
from tests.helpers.elf import gcc, shared
from tests.helpers.namespace import run_isolated
from tests.helpers.paths import BASE_PATH, BUILD, SOURCES

pytestmark = pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86-64 hwcaps")


@pytest.fixture(scope="module")
def program() -> Path:
    """prog needs libgla.so.1 through DT_RUNPATH $ORIGIN/libs, which starts empty: then
    ld.so's debug output lists every place it searched."""
    root = BUILD / "hwcaps"
    shutil.rmtree(root, ignore_errors=True)
    build = root / "build"
    shared(build, "gla.c", "libgla.so.1")
    gcc("-o", root / "prog", SOURCES / "c" / "prog.c", f"-L{build}", "-l:libgla.so.1",
        "-Wl,--enable-new-dtags,-rpath,$ORIGIN/libs", cwd=root)  # fmt: skip
    (root / "libs").mkdir()
    return root / "prog"


def searched(program: Path, env: dict[str, str]) -> dict[str, list[str]]:
    """ld.so's "search path=" lines for the missing libgla.so.1, by what they came from."""
    run = subprocess.run(
        [program], env={**env, "LD_DEBUG": "libs"}, capture_output=True, text=True, check=False
    )
    lines = run.stderr.split("find library=libgla.so.1", 1)[1].splitlines()
    paths = {}
    for line in lines:
        if "search path=" in line:
            value, _, origin = line.split("search path=", 1)[1].partition("\t\t")
            paths[origin.strip("()").split(" from")[0]] = value.split(":")
    return paths


def expected(directories: list[str]) -> list[str]:
    subdirs, _ = host_subdirs()
    return [f"{d}/{s}" if s else d for d in directories for s in subdirs]


def test_search_order_is_ld_sos(program: Path, tmp_path: Path) -> None:
    paths = searched(program, {"LD_LIBRARY_PATH": str(tmp_path)})
    assert paths["LD_LIBRARY_PATH"] == expected([str(tmp_path)])
    assert paths["RUNPATH"] == expected([str(program.parent / "libs")])
    assert paths["system search path"] == expected(list(host_platform(64).system_dirs))


PLACES = [
    ["glibc-hwcaps/x86-64-v2"],
    ["glibc-hwcaps/x86-64-v3", ""],
    ["glibc-hwcaps/x86-64-v2", "tls/x86_64"],
    ["tls", "x86_64"],
    ["x86_64/x86_64", ""],
    ["glibc-hwcaps/x86-64-v9", ""],  # a level no CPU has: ld.so never looks there
]


@pytest.mark.parametrize("places", PLACES, ids=["+".join(p) or "base" for p in PLACES])
@pytest.mark.parametrize("via", ["RUNPATH", "LD_LIBRARY_PATH"])
def test_library_in_hwcaps_subdirectories_resolves_where_ldd_finds_it(
    program: Path, tmp_path: Path, places: list[str], via: str
) -> None:
    directory = program.parent / "libs" if via == "RUNPATH" else tmp_path / "ld-library-path"
    shutil.rmtree(directory, ignore_errors=True)
    for place in places:
        (directory / place).mkdir(parents=True, exist_ok=True)
        shutil.copy(program.parent / "build" / "libgla.so.1", directory / place / "libgla.so.1")
    env = {"LD_LIBRARY_PATH": str(directory)} if via == "LD_LIBRARY_PATH" else {}
    ldd = subprocess.run(["ldd", program], env=env, capture_output=True, text=True, check=False)
    ldd_path = next(
        line.split()[2] for line in ldd.stdout.splitlines() if line.strip().startswith("libgla")
    )
    resolution = Resolver(env).resolve(str(program), "/lib64/ld-linux-x86-64.so.2")
    ours = next(lib.path for lib in resolution.libraries if lib.soname == "libgla.so.1")
    assert ours == os.path.normpath(ldd_path)
    shutil.rmtree(directory)


def test_legacy_subdirectories_are_the_power_set_of_dl_hwcaps_c() -> None:
    """An Intel Haswell-class CPU under glibc 2.36: platform "haswell"; under 2.37, no
    legacy subdirectories (ld.so 2.37 dropped them); levels stop at the first missing."""
    v3 = {"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"} | {
        "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"
    }  # fmt: skip
    subdirs, platform = search_subdirs("GenuineIntel", v3, (2, 36))
    assert platform == "haswell"
    assert subdirs == (
        "glibc-hwcaps/x86-64-v3", "glibc-hwcaps/x86-64-v2",
        "tls/haswell/x86_64", "tls/haswell", "tls/x86_64", "tls",
        "haswell/x86_64", "haswell", "x86_64", "",
    )  # fmt: skip
    assert search_subdirs("GenuineIntel", v3, (2, 37))[0] == (
        "glibc-hwcaps/x86-64-v3", "glibc-hwcaps/x86-64-v2", "",
    )  # fmt: skip
    assert search_subdirs("AuthenticAMD", v3 - {"pni"}, (2, 37)) == (("",), "x86_64")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a mount namespace")
def test_cache_entries_of_hwcaps_subdirectories_resolve_where_ldd_finds_them() -> None:
    """A cache built by ldconfig over a directory with glibc-hwcaps subdirectories, bound
    over /etc/ld.so.cache in a private mount namespace: ldd there and golaunch there agree."""
    root = BUILD / "hwcaps-cache"
    shutil.rmtree(root, ignore_errors=True)
    lib = root / "lib"
    for soname, places in (
        ("libgla.so.1", ["", "x86-64-v2", "x86-64-v3"]),
        ("libv2.so.1", ["x86-64-v2"]),
    ):
        for place in places:
            shared(lib / "glibc-hwcaps" / place if place else lib, "gla.c", soname)
    gcc("-o", root / "prog", SOURCES / "c" / "prog.c", f"-L{lib}",
        f"-L{lib}/glibc-hwcaps/x86-64-v2", "-Wl,--no-as-needed", "-l:libgla.so.1",
        "-l:libv2.so.1", cwd=root)  # fmt: skip
    (root / "ld.so.conf").write_text(f"{lib}\n")
    cache = root / "ld.so.cache"
    subprocess.run(["ldconfig", "-X", "-C", cache, "-f", root / "ld.so.conf"], check=True)
    script = (
        f"mount --bind {cache} /etc/ld.so.cache && ldd {root / 'prog'} && echo @@@ && "
        f"{sys.executable} -m golaunch --check --json -- {root / 'prog'}"
    )
    result = run_isolated(["sh", "-ec", script], {"PATH": BASE_PATH, "HOME": str(BUILD / "home")})
    ldd_text, _, report = result.stdout.partition("@@@\n")
    ldd = {line.split()[0]: line.split()[2] for line in ldd_text.splitlines() if " => " in line}
    ours = {lib["soname"]: lib["path"] for lib in json.loads(report)["binary"]["libraries"]}
    levels = [s for s in host_subdirs()[0] if s.startswith("glibc-hwcaps/")]
    if "glibc-hwcaps/x86-64-v3" in levels:  # what this test is about: the v3 copy wins
        assert ldd["libgla.so.1"] == f"{lib}/glibc-hwcaps/x86-64-v3/libgla.so.1"
    assert ours["libgla.so.1"] == ldd["libgla.so.1"]
    assert ours["libv2.so.1"] == ldd["libv2.so.1"] == f"{lib}/glibc-hwcaps/x86-64-v2/libv2.so.1"
