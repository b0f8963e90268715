"""The layers point one way (issue 21): no import cycle between modules and no two parts
that import each other, counting imports inside functions, which hide a cycle from
Python but not from a reader. And the top level stays short."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.helpers.paths import REPO

PACKAGE = REPO / "golaunch"
MAX_TOP_LEVEL_MODULES = 7


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Every golaunch module PATH imports, at any depth of the code."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("golaunch"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if not base.startswith("golaunch"):
                continue
            for alias in node.names:  # `from golaunch.x import y`: y may be a module
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in MODULES else base


MODULES = {module_name(p) for p in PACKAGE.rglob("*.py")}
GRAPH = {
    module_name(p): {m for m in imports(p) if m in MODULES and m != module_name(p)}
    for p in PACKAGE.rglob("*.py")
}


def part(module: str) -> str:
    """The part of golaunch a module belongs to: its package, or itself at the top."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "golaunch"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_sees_function_level_imports() -> None:
    # golaunch.__main__ imports the CLI only inside run(): the graph must see it.
    assert "golaunch.cli" in GRAPH["golaunch.__main__"]


def test_no_module_import_cycle() -> None:
    assert find_cycle(GRAPH) is None


def test_no_two_parts_import_each_other() -> None:
    edges = {(part(a), part(b)) for a, targets in GRAPH.items() for b in targets}
    two_way = sorted((a, b) for a, b in edges if a < b and (b, a) in edges)
    assert two_way == []


def test_parts_form_no_cycle() -> None:
    parts: dict[str, set[str]] = {}
    for a, targets in GRAPH.items():
        parts.setdefault(part(a), set()).update(part(b) for b in targets if part(b) != part(a))
    assert find_cycle(parts) is None


def test_the_top_level_is_short() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


# Names every module of a kind defines on purpose: the finding a module makes, NAME;
# each check module's check(ctx) (golaunch.checks); and the entry point of each process
# golaunch runs (python -m golaunch, python -m golaunch.readiness.helper).
CONVENTIONS = {"NAME": "golaunch.", "check": "golaunch.checks.", "main": "golaunch."}


def public_definitions(path: Path) -> Iterator[str]:
    """The public names PATH's module defines at its top level."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        else:
            names = []
        yield from (n for n in names if not n.startswith("_") and n != "TYPE_CHECKING")


def test_no_public_name_means_two_things() -> None:
    """One word per idea (issue 32): a public name defined in two modules is either one
    fact written twice or two ideas under one word."""
    where: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in public_definitions(path):
            where.setdefault(name, []).append(module_name(path))
    twice = {
        name: modules
        for name, modules in where.items()
        if len(modules) > 1 and not all(m.startswith(CONVENTIONS.get(name, "\0")) for m in modules)
    }
    assert twice == {}
