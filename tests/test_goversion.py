"""Go version order and constraints, with Go's own go/version package as the oracle."""

from __future__ import annotations

import subprocess

import pytest

from golaunch.goversion import compare, parse_constraint, parse_go_version, satisfies
from tests.conftest import SOURCES, Toolchain

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


@pytest.mark.parametrize(
    "text", ["", "go", "1.", "1.21.", "01.2", "1.02", "1.21RC1", "1.21.0rc1", "v1.2", "1.2.3.4"]
)
def test_malformed_versions_are_rejected(text: str) -> None:
    assert parse_go_version(text) is None


@pytest.mark.parametrize(
    ("spec", "version", "ok"),
    [
        (">=1.22, <1.28", "go1.27.3", True),
        (">=1.22, <1.28", "go1.19.8", False),
        (">=1.22, <1.28", "go1.28.0", False),
        ("1.19.8", "go1.19.8", True),
        ("==go1.19.8", "go1.19.8", True),
        ("!=1.19.8", "go1.19.8", False),
        (">1.21", "go1.21rc1", True),  # the language version sorts before its release candidates
        ("<1.21.0", "go1.21rc2", True),
        (">= 1.21 , <= 1.21.0", "go1.21.0", True),
        ("1.20", "go1.20.0", True),  # before 1.21, "1.N" is the release itself
    ],
    ids=str,
)
def test_constraints(spec: str, version: str, ok: bool) -> None:
    parsed = parse_go_version(version)
    assert parsed is not None
    assert satisfies(parsed, parse_constraint(spec)) is ok


@pytest.mark.parametrize("spec", ["", ">=", ">=1.22,", "~1.22", ">=1.x", "1.22 || 1.23"])
def test_bad_constraints_name_the_part(spec: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_constraint(spec)
    assert "version" in str(error.value) or "empty" in str(error.value)
