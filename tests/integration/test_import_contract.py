"""The headline rule of the launch path: a start whose configuration golaunch reads
itself (golaunch.config.plain) imports neither click nor pydantic, nor cysystemd while
nothing goes to the journal.

(With a journal, the launch entry is sent through cysystemd's C extension
`cysystemd._journal`, never its Python wrapper `cysystemd.journal`.)"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from golaunch.inputs.trace import RACY_NS
from tests.helpers.paths import BASE_PATH

# golaunch's real entry point, with execve replaced by a report of what was imported.
PROBE = """
import os, sys
def report(path, argv, env):
    loaded = sorted(sys.modules)  # before json, which the report itself needs
    import json
    print(json.dumps(loaded))
    sys.stdout.flush()
    os._exit(0)
os.execve = report
from golaunch.__main__ import main
sys.argv = ["golaunch", *sys.argv[1:]]
main()
"""
# A start that ends before exec reports at exit instead.
AT_EXIT = (
    "import atexit, sys\n"
    "atexit.register(lambda: (lambda m: print(__import__('json').dumps(m)))(sorted(sys.modules)))\n"
)
ENVIRONMENT = {"PATH": BASE_PATH, "LANG": "C.UTF-8"}
HEAVY = ("click", "pydantic", "pydantic_settings", "cysystemd")
# Only --check --unit and --all-units need these; no start ever does.
UNIT_CHECK_ONLY = ("jeepney", "prometheus_client")


def imported_by_a_start(cache: Path, *extra: str) -> set[str]:
    """The modules a start with EXTRA options loaded by its exec, or by its exit when it
    ends before (a usage error: the command line's path, which validates)."""
    argv = [*extra, "--notify", "none", "--log-target", "stderr", "--", "/bin/true"]
    result = subprocess.run(
        [sys.executable, "-c", (AT_EXIT if extra else "") + PROBE, *argv],
        env={**ENVIRONMENT, "CACHE_DIRECTORY": str(cache)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode in (0, 64), result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


def test_a_launch_imports_no_click_pydantic_or_cysystemd(tmp_path: Path) -> None:
    full = imported_by_a_start(tmp_path)
    assert heavy(full) == set()
    assert "golaunch.launch.startup" in full  # it did go through the launch path
    assert "tomllib" not in full and "typing" in full  # the checks' modules use typing
    validated = imported_by_a_start(tmp_path, "--nosuch-option")
    assert {"click"} <= heavy(validated)  # the command line's path: the probe sees imports
    assert {m for m in full | validated if m.split(".")[0] in UNIT_CHECK_ONLY} == set()
    assert not any(m.startswith("golaunch.unitcheck") for m in full | validated)


# What a warm start may load beyond what the interpreter itself loads for `pass`: the
# configuration read afresh, the execution computed afresh (issue 30), the plan, the
# replay of what the checks read, and the tail of a start. The count is the ceiling
# (34 today, packages included); each new module must earn its place.
MAX_WARM_GOLAUNCH_MODULES = 34
NEVER_WARM = ("typing", "enum", "dataclasses", "inspect", "json", "re", "contextlib", "socket")
# The standard library a warm start may add: built-in modules and the smallest of files.
WARM_STDLIB = {"__future__", "_blake2", "_signal", "errno", "encodings.ascii", "struct", "_struct"}


def test_a_warm_start_loads_only_the_plan_and_the_tail_of_a_start(tmp_path: Path) -> None:
    imported_by_a_start(tmp_path)  # keeps its verdict (see golaunch.launch.plan)...
    time.sleep(RACY_NS / 1e9 + 0.1)  # ... once the files it read are old enough to trust
    imported_by_a_start(tmp_path)
    assert list((tmp_path / "golaunch").glob("*.plan")), "no plan was kept"
    warm = imported_by_a_start(tmp_path)
    assert "golaunch.launch.plan" in warm and "golaunch.launch.startup" not in warm
    assert {m for m in NEVER_WARM if m in warm} == set()
    interpreter = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; m = sorted(sys.modules); import json; print(json.dumps(m))",
        ],
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        check=True,
    )
    baseline = set(json.loads(interpreter.stdout))
    ours = sorted(m for m in warm - baseline if m.startswith("golaunch"))
    others = sorted(m for m in warm - baseline if not m.startswith("golaunch"))
    assert len(ours) <= MAX_WARM_GOLAUNCH_MODULES, ours
    assert set(others) <= WARM_STDLIB, others
