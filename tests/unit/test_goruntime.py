"""GOMEMLIMIT and GOMAXPROCS decisions over fixture cgroup trees and made-up build info."""

from __future__ import annotations

from pathlib import Path

import pytest

from golaunch.elf.buildinfo import BuildInfo, Module
from golaunch.host.goruntime import AUTOMAXPROCS, AUTOMEMLIMIT, Setting, exported, runtime_settings

LEAF = "/sys/fs/cgroup/glf.slice/app.service"
SLICE = "/sys/fs/cgroup/glf.slice"
OLD_MODULE_DEFAULTS = "containermaxprocs=0,tlssha1=1,updatemaxprocs=0"


@pytest.fixture(autouse=True)
def four_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3})


def host(root: Path, files: dict[str, str]) -> str:
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/cgroup").write_text("0::/glf.slice/app.service\n")
    (root / "proc/self/mountinfo").write_text(
        "30 23 0:26 / /sys/fs/cgroup rw,relatime shared:4 - cgroup2 cgroup2 rw\n"
    )
    for name, text in files.items():
        path = root / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return str(root)


def binary(go: str = "go1.27.3", defaults: str = "", deps: tuple[str, ...] = ()) -> BuildInfo:
    settings = {"DefaultGODEBUG": defaults} if defaults else {}
    return BuildInfo(go, deps=tuple(Module(d, "v1.0.0") for d in deps), settings=settings)


def decide(
    root: Path,
    files: dict[str, str],
    info: BuildInfo,
    environment: dict[str, str] | None = None,
    ratio: float = 0.9,
) -> dict[str, Setting]:
    settings = runtime_settings(info, environment or {}, ratio, root=host(root, files))
    return {s.variable: s for s in settings}


def test_not_a_go_program_gets_nothing(tmp_path: Path) -> None:
    root = host(tmp_path, {f"{LEAF}/memory.max": "1000"})
    assert runtime_settings(None, {}, 0.9, root=root) == ()


def test_gomemlimit_is_the_ratio_of_the_tightest_limit(tmp_path: Path) -> None:
    files = {f"{LEAF}/memory.max": "209715200", f"{SLICE}/memory.high": "104857600"}
    s = decide(tmp_path, files, binary())["GOMEMLIMIT"]
    assert (s.outcome, s.value) == ("set", str(int(104857600 * 0.9)))
    assert s.limit is not None and s.limit.file == f"{SLICE}/memory.high"
    settings = runtime_settings(binary(), {}, 0.5, root=host(tmp_path / "half", files))
    assert exported(settings) == {"GOMEMLIMIT": "52428800"}


@pytest.mark.parametrize(
    ("info", "ratio", "why"),
    [
        (binary(), 0, "turns it off"),
        (binary("go1.18.10"), 0.9, "go1.18.10 ignores it"),
        (binary(deps=(AUTOMEMLIMIT,)), 0.9, AUTOMEMLIMIT),
    ],
)
def test_gomemlimit_left_alone(tmp_path: Path, info: BuildInfo, ratio: float, why: str) -> None:
    s = decide(tmp_path, {f"{LEAF}/memory.max": "209715200"}, info, ratio=ratio)["GOMEMLIMIT"]
    assert (s.outcome, s.value) == ("kept", None) and why in s.reason


def test_no_limit_no_gomemlimit(tmp_path: Path) -> None:
    s = decide(tmp_path, {f"{LEAF}/memory.max": "max"}, binary())["GOMEMLIMIT"]
    assert (s.outcome, s.value) == ("kept", None)


def test_the_units_gomemlimit_wins_and_is_judged(tmp_path: Path) -> None:
    files = {f"{LEAF}/memory.max": "209715200"}
    kept = decide(tmp_path / "a", files, binary(), {"GOMEMLIMIT": "150MiB"})["GOMEMLIMIT"]
    assert (kept.outcome, kept.value) == ("kept", "150MiB")
    above = decide(tmp_path / "b", files, binary(), {"GOMEMLIMIT": "1GiB"})["GOMEMLIMIT"]
    assert above.outcome == "above" and above.limit is not None
    bad = decide(tmp_path / "c", files, binary(), {"GOMEMLIMIT": "150mb"})["GOMEMLIMIT"]
    assert bad.outcome == "malformed"


def test_garbage_in_a_limit_file_is_unreadable_not_fatal(tmp_path: Path) -> None:
    s = decide(tmp_path, {f"{SLICE}/memory.max": "plenty"}, binary())["GOMEMLIMIT"]
    assert s.outcome == "unreadable" and f"{SLICE}/memory.max" in s.reason


@pytest.mark.parametrize(
    ("info", "environment", "where", "expected"),
    [
        # Before Go 1.25 the runtime never reads a quota: 0.5 CPUs is 1.
        (binary("go1.24.5"), {}, LEAF, "1"),
        (binary("go1.19.8"), {}, SLICE, "1"),
        # A go 1.24 main module built by a newer toolchain keeps containermaxprocs=0; what
        # golaunch sets then follows the runtime's own rule, at least 2.
        (binary(defaults=OLD_MODULE_DEFAULTS), {}, LEAF, "2"),
        # GODEBUG in the environment overrides the binary's defaults, both ways.
        (binary(), {"GODEBUG": "containermaxprocs=0"}, LEAF, "2"),
        (binary(defaults=OLD_MODULE_DEFAULTS), {"GODEBUG": "containermaxprocs=1"}, LEAF, None),
        # Go 1.25+ reads its own cgroup's quota, never a parent's.
        (binary(), {}, LEAF, None),
        (binary(), {}, SLICE, "2"),
        (binary("go1.25rc1"), {}, SLICE, "2"),
        (binary("go1.25rc1"), {}, LEAF, None),
    ],
)
def test_gomaxprocs_only_where_the_runtime_would_be_wrong(
    tmp_path: Path, info: BuildInfo, environment: dict[str, str], where: str, expected: str | None
) -> None:
    s = decide(tmp_path, {f"{where}/cpu.max": "50000 100000"}, info, environment)["GOMAXPROCS"]
    assert s.value == expected
    assert s.outcome == ("set" if expected else "kept")
    assert s.limit is not None and s.limit.file == f"{where}/cpu.max"


@pytest.mark.parametrize(
    ("quota", "expected"), [("250000 100000", "3"), ("100000 100000", "1"), ("1000 100000", "1")]
)
def test_gomaxprocs_rounds_the_quota_up(tmp_path: Path, quota: str, expected: str) -> None:
    s = decide(tmp_path, {f"{LEAF}/cpu.max": quota}, binary("go1.22.0"))["GOMAXPROCS"]
    assert (s.outcome, s.value) == ("set", expected)


@pytest.mark.parametrize(
    ("info", "environment", "files", "why"),
    [
        (binary("go1.22.0"), {}, {f"{LEAF}/cpu.max": "350000 100000"}, "allows all 4 CPUs"),
        (binary("go1.22.0"), {}, {f"{LEAF}/cpu.max": "max 100000"}, "no CPU quota"),
        (binary("go1.22.0"), {"GOMAXPROCS": "3"}, {f"{LEAF}/cpu.max": "50000 100000"}, "set for"),
        (
            binary("go1.22.0", deps=(AUTOMAXPROCS,)),
            {},
            {f"{LEAF}/cpu.max": "50000 100000"},
            "links",
        ),
    ],
)
def test_gomaxprocs_left_alone(
    tmp_path: Path, info: BuildInfo, environment: dict[str, str], files: dict[str, str], why: str
) -> None:
    s = decide(tmp_path, files, info, environment)["GOMAXPROCS"]
    assert s.outcome == "kept" and why in s.reason
    assert "GOMAXPROCS" not in exported(
        tuple(decide(tmp_path / "again", files, info, environment).values())
    )
