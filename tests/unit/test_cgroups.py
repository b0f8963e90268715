"""Cgroup limits from fixture trees: v1 as this machine has it, v2 nested, and odd trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from golaunch.host.cgroups import (
    V1_UNLIMITED,
    CgroupError,
    Limit,
    ProcTables,
    cpu_limit,
    find_hierarchy,
    memory_limit,
)

# The hybrid layout systemd 252 gives a unit in this machine's namespace: each v1
# controller with its own path, the memory hierarchy mounted from above the
# cgroup namespace's root ("/../..").
V1_CGROUP = """\
9:name=systemd:/glf.slice/app.service
4:memory:/../../glf.slice/app.service
2:cpu,cpuacct:/glf.slice/app.service
0::/glf.slice/app.service
"""
V1_MOUNTINFO = """\
82 81 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:6 - tmpfs tmpfs ro,mode=755
83 82 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:7 - cgroup cgroup rw,cpu,cpuacct
86 82 0:32 /../.. /sys/fs/cgroup/memory rw,relatime shared:10 - cgroup cgroup rw,memory
92 82 0:38 / /sys/fs/cgroup/unified rw,relatime shared:16 - cgroup2 cgroup2 rw
"""
V2_CGROUP = "0::/system.slice/glf.slice/app.service\n"
V2_MOUNTINFO = "30 23 0:26 / /sys/fs/cgroup rw,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"


def tree(root: Path, cgroup: str, mountinfo: str, files: dict[str, str]) -> ProcTables:
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/cgroup").write_text(cgroup)
    (root / "proc/self/mountinfo").write_text(mountinfo)
    for name, text in files.items():
        path = root / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    tables = ProcTables.read(str(root))
    assert tables is not None
    return tables


def shown(limit: Limit | None) -> tuple[int, int, str, bool] | None:
    return None if limit is None else (limit.amount, limit.per, limit.file, limit.leaf)


def v1(root: Path, **files: str) -> ProcTables:
    return tree(root, V1_CGROUP, V1_MOUNTINFO, files)


def v2(root: Path, files: dict[str, str]) -> ProcTables:
    return tree(root, V2_CGROUP, V2_MOUNTINFO, files)


MEM1 = "/sys/fs/cgroup/memory"
CPU1 = "/sys/fs/cgroup/cpu,cpuacct"
LEAF2 = "/sys/fs/cgroup/system.slice/glf.slice/app.service"
SLICE2 = "/sys/fs/cgroup/system.slice/glf.slice"


def test_v1_paths_map_through_the_mount_root(tmp_path: Path) -> None:
    tables = v1(tmp_path)
    memory = find_hierarchy("memory", tables)
    cpu = find_hierarchy("cpu", tables)
    assert memory is not None and cpu is not None
    assert memory.version == 1 and memory.directory == f"{tmp_path}{MEM1}/glf.slice/app.service"
    assert cpu.directory == f"{tmp_path}{CPU1}/glf.slice/app.service"


def test_v1_memory_limit_on_the_parent_slice_wins(tmp_path: Path) -> None:
    tables = v1(
        tmp_path,
        **{
            f"{MEM1}/memory.limit_in_bytes": str(V1_UNLIMITED),
            f"{MEM1}/glf.slice/memory.limit_in_bytes": "104857600",
            f"{MEM1}/glf.slice/app.service/memory.limit_in_bytes": "209715200",
        },
    )
    limit = memory_limit(tables)
    assert shown(limit) == (104857600, 1, f"{MEM1}/glf.slice/memory.limit_in_bytes", False)


def test_v1_unlimited_sentinel_is_no_limit(tmp_path: Path) -> None:
    tables = v1(
        tmp_path, **{f"{MEM1}/glf.slice/app.service/memory.limit_in_bytes": str(V1_UNLIMITED)}
    )
    assert memory_limit(tables) is None


def test_v1_cpu_quota_and_period(tmp_path: Path) -> None:
    leaf = f"{CPU1}/glf.slice/app.service"
    tables = v1(
        tmp_path,
        **{
            f"{leaf}/cpu.cfs_quota_us": "-1",
            f"{leaf}/cpu.cfs_period_us": "100000",
            f"{CPU1}/glf.slice/cpu.cfs_quota_us": "75000",
            f"{CPU1}/glf.slice/cpu.cfs_period_us": "50000",
        },
    )
    limit = cpu_limit(tables)
    assert limit is not None
    assert (limit.amount, limit.per, limit.leaf, limit.ceiling) == (75000, 50000, False, 2)


def test_v2_nested_memory_high_below_max(tmp_path: Path) -> None:
    tables = v2(
        tmp_path,
        {
            f"{LEAF2}/memory.max": "max",
            f"{LEAF2}/memory.high": "157286400",
            f"{SLICE2}/memory.max": "209715200",
            f"{SLICE2}/memory.high": "max",
            "/sys/fs/cgroup/system.slice/memory.max": "max",
        },
    )
    assert shown(memory_limit(tables)) == (157286400, 1, f"{LEAF2}/memory.high", True)


def test_v2_nested_cpu_max_takes_the_tightest(tmp_path: Path) -> None:
    tables = v2(
        tmp_path,
        {f"{LEAF2}/cpu.max": "150000 100000", f"{SLICE2}/cpu.max": "50000 100000"},
    )
    limit = cpu_limit(tables)
    assert limit is not None and (limit.amount, limit.per, limit.leaf) == (50000, 100000, False)
    assert limit.file == f"{SLICE2}/cpu.max"


def test_v2_equal_limits_name_the_process_own_cgroup(tmp_path: Path) -> None:
    tables = v2(
        tmp_path, {f"{LEAF2}/cpu.max": "50000 100000", f"{SLICE2}/cpu.max": "100000 200000"}
    )
    limit = cpu_limit(tables)
    assert limit is not None and limit.leaf


@pytest.mark.parametrize(
    "files", [{}, {f"{LEAF2}/memory.max": "max", f"{LEAF2}/cpu.max": "max 100000"}]
)
def test_v2_missing_files_and_max_are_no_limit(tmp_path: Path, files: dict[str, str]) -> None:
    tables = v2(tmp_path, files)
    assert memory_limit(tables) is None
    assert cpu_limit(tables) is None


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("memory.max", "lots"),
        ("memory.high", "-5"),
        ("cpu.max", "100000"),  # no period
        ("cpu.max", "100000 0"),
        ("cpu.max", "max x"),
        ("memory.max", "\x1b[31m"),
    ],
)
def test_garbage_is_an_error_naming_the_file(tmp_path: Path, name: str, text: str) -> None:
    tables = v2(tmp_path, {f"{LEAF2}/{name}": text})
    read = memory_limit if name.startswith("memory") else cpu_limit
    with pytest.raises(CgroupError) as raised:
        read(tables)
    assert f"{LEAF2}/{name}" in str(raised.value)
    assert "\x1b" not in str(raised.value)


def test_a_cgroup_outside_every_mount_finds_nothing(tmp_path: Path) -> None:
    # The mount shows /other only; our cgroup is elsewhere.
    mountinfo = V2_MOUNTINFO.replace(" / /sys/fs/cgroup ", " /other /sys/fs/cgroup ")
    tables = tree(tmp_path, V2_CGROUP, mountinfo, {f"{LEAF2}/memory.max": "1"})
    assert find_hierarchy("memory", tables) is None
    assert memory_limit(tables) is None


def test_escaped_mount_points_and_missing_proc(tmp_path: Path) -> None:
    mountinfo = V2_MOUNTINFO.replace("/sys/fs/cgroup ", "/sys/fs/my\\040cgroups ")
    tables = tree(tmp_path, V2_CGROUP, mountinfo, {})
    hierarchy = find_hierarchy("cpu", tables)
    assert hierarchy is not None and hierarchy.mount_point == f"{tmp_path}/sys/fs/my cgroups"
    assert ProcTables.read(str(tmp_path / "nowhere")) is None


def test_v1_a_limit_above_what_is_mounted_shows_in_memory_stat(tmp_path: Path) -> None:
    """A container sees its own memory cgroup only (podman --cgroup-parent limited to
    150M, none on the container): the kernel's hierarchical_memory_limit still says."""
    leaf = f"{MEM1}/glf.slice/app.service"
    tables = v1(
        tmp_path,
        **{
            f"{leaf}/memory.limit_in_bytes": str(V1_UNLIMITED),
            f"{leaf}/memory.stat": "cache 0\nrss 4096\nhierarchical_memory_limit 157286400\n",
        },
    )
    limit = memory_limit(tables)
    assert shown(limit) == (
        157286400, 1, f"{leaf}/memory.stat (hierarchical_memory_limit)", False
    )  # fmt: skip


def test_v1_an_unlimited_hierarchy_is_no_limit(tmp_path: Path) -> None:
    leaf = f"{MEM1}/glf.slice/app.service"
    tables = v1(
        tmp_path,
        **{
            f"{leaf}/memory.limit_in_bytes": str(V1_UNLIMITED),
            f"{leaf}/memory.stat": f"hierarchical_memory_limit {V1_UNLIMITED}\n",
        },
    )
    assert memory_limit(tables) is None
