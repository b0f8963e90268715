"""The layout's promises: check X lives in checks/X.py, names come from one registry,
and checks only read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import golaunch
from golaunch.checks import RUN_ORDER
from golaunch.findings import CHECK_NAMES, REGISTRY

PACKAGE = Path(golaunch.__file__).parent
CHECK_FILES = sorted((PACKAGE / "checks").glob("*.py"))
# Calls that change the file system or the process: none belongs in a check.
WRITERS = {
    "makedirs", "mkdir", "rmdir", "unlink", "remove", "rename", "replace", "chmod", "chown",
    "symlink", "link", "truncate", "write", "write_text", "write_bytes", "mkfifo", "setuid",
}  # fmt: skip


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_each_check_lives_where_the_registry_says(name: str) -> None:
    source = PACKAGE.parent / REGISTRY[name]["source"]
    assert source.is_file(), f"{name}: {source} does not exist"
    assert f'"{name}"' in source.read_text(), f"{source} does not report {name!r}"


def test_every_check_module_is_named_after_its_finding_and_runs() -> None:
    names = [module.NAME for module in RUN_ORDER]
    assert [Path(str(m.__file__)).stem for m in RUN_ORDER] == [n.replace("-", "_") for n in names]
    in_checks = {n for n in CHECK_NAMES if REGISTRY[n]["source"].startswith("golaunch/checks/")}
    assert set(names) == in_checks
    assert len(names) == len(set(names))
    # Reports list findings in registry order.
    assert names == [n for n in CHECK_NAMES if n in names]


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda p: p.name)
def test_checks_only_read(path: Path) -> None:
    calls = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
    }
    assert not calls & WRITERS, f"{path.name} calls {sorted(calls & WRITERS)}"
    assert "open(" not in path.read_text(), f"{path.name} opens files; host/ reads them"
