"""The headline rule of the launch path: a start whose configuration is cached imports
neither click nor pydantic, nor cysystemd while nothing goes to the journal.

(With a journal, the launch entry is sent through cysystemd's C extension
`cysystemd._journal`, never its Python wrapper `cysystemd.journal`.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.paths import BASE_PATH

# golaunch's real entry point, with execve replaced by a report of what was imported.
PROBE = """
import json, os, sys
def report(path, argv, env):
    print(json.dumps(sorted(sys.modules)))
    sys.stdout.flush()
    os._exit(0)
os.execve = report
from golaunch.__main__ import main
sys.argv = ["golaunch", *sys.argv[1:]]
main()
"""
HEAVY = ("click", "pydantic", "pydantic_settings", "cysystemd")
# Only --check --unit and --all-units need these; no start ever does.
UNIT_CHECK_ONLY = ("jeepney", "prometheus_client")


def imported_by_a_start(cache: Path) -> set[str]:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            "--notify",
            "none",
            "--log-target",
            "stderr",
            "--",
            "/bin/true",
        ],
        env={"PATH": BASE_PATH, "CACHE_DIRECTORY": str(cache), "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


def test_a_cached_launch_imports_no_click_pydantic_or_cysystemd(tmp_path: Path) -> None:
    cold = imported_by_a_start(tmp_path)
    assert {"click", "pydantic"} <= heavy(cold)  # the first start validated: the probe works
    assert list((tmp_path / "golaunch").glob("*.entry")), "the first start stored no entry"
    warm = imported_by_a_start(tmp_path)
    assert heavy(warm) == set()
    assert "golaunch.launch.startup" in warm  # and it did go through the launch path
    assert {m for m in cold | warm if m.split(".")[0] in UNIT_CHECK_ONLY} == set()
    assert not any(m.startswith("golaunch.unitcheck") for m in cold | warm)
