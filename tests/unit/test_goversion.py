"""Go version parsing and constraints."""

from __future__ import annotations

import pytest

from golaunch.syntax.goversion import parse_constraint, parse_go_version, satisfies


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
