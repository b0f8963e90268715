"""Go version order and constraints, with Go's own go/version package as the oracle."""

from __future__ import annotations

import subprocess

from golaunch.syntax.goversion import compare, parse_go_version
from tests.helpers.paths import SOURCES
from tests.helpers.toolchain import Toolchain

VERSIONS = [
    "go1",
    "go1.0",
    "go1.2",
    "go1.9",
    "go1.19",
    "go1.19.8",
    "go1.20",
    "go1.20.0",
    "go1.20rc1",
    "go1.21",
    "go1.21rc1",
    "go1.21rc2",
    "go1.21beta1",
    "go1.21alpha1",
    "go1.21.0",
    "go1.21.1",
    "go1.21.10",
    "go1.22",
    "go1.22.3",
    "go1.27.3",
    "go1.100",
    "go2",
    "go1.21.0-bigcorp",
    "go1.99999999999999999999",
]


def test_order_matches_go_version_compare(go_new: Toolchain) -> None:
    oracle = go_new.build(SOURCES / "gocompare", "gocompare")
    out = subprocess.run([oracle, *VERSIONS], capture_output=True, text=True, check=True).stdout
    expected = {(x, y): int(r) for x, y, r in (line.split() for line in out.splitlines())}
    assert len(expected) == len(VERSIONS) ** 2
    for (x, y), result in expected.items():
        vx, vy = parse_go_version(x), parse_go_version(y)
        assert vx is not None and vy is not None, (x, y)
        assert compare(vx, vy) == result, f"compare({x}, {y})"
