"""`make bench`, the instructions' part: what a warm start executes, counted by callgrind.

Wall times vary from run to run on a shared machine; instruction counts do not, so a
change to the warm path shows here even when the table above cannot see it. The warm
start of the cgo program is counted up to its execve, which is stubbed (the program's
own instructions are not golaunch's), and primed under callgrind itself: callgrind adds
its own LD_PRELOAD, so its starts have a key, and a plan, of their own.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The launch path as bench.py starts it, with execve replaced by an exit: the count
# ends where the program would begin.
STUBBED = (
    "import os; os.execve = lambda *a: os._exit(0); from golaunch.__main__ import main; main()"
)
SETTLE = 2.1  # as bench.py: files younger than this keep a start from keeping a plan


def counted(argv: list[str], env: dict[str, str], work: Path) -> int:
    """Instructions (Ir) of one run of ARGV, children not followed."""
    out = work / "callgrind.out"
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
        env=env,
        check=True,
        capture_output=True,
    )
    summary = re.search(r"^summary:\s+(\d+)", out.read_text(), re.MULTILINE)
    out.unlink()
    if summary is None:
        raise SystemExit(f"callgrind wrote no summary for {argv}")
    return int(summary.group(1))


def report(work: Path, launch: list[str], program: Path, env: dict[str, str]) -> None:
    """The warm start's count beside the interpreter's. LAUNCH: golaunch's options up
    to and including `--`, started as bench.py starts it."""
    if shutil.which("valgrind") is None:
        print("\ninstructions: skipped (no valgrind; make deps installs it as root)")
        return
    work.mkdir(parents=True, exist_ok=True)
    cache = Path(tempfile.mkdtemp(prefix="instructions-", dir=work))
    env = {**env, "CACHE_DIRECTORY": str(cache)}
    argv = [sys.executable, "-B", "-c", STUBBED, *launch, str(program)]
    try:
        counted(argv, env, work)  # the full start, which keeps a plan once files settle
        time.sleep(SETTLE)
        counted(argv, env, work)
        warm = min(counted(argv, env, work) for _ in range(3))
        interpreter = counted([sys.executable, "-I", "-c", "pass"], env, work)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print("\ninstructions (callgrind Ir), warm start of the cgo program up to its execve:")
    print(f"  golaunch warm start    {warm / 1e6:>7.1f} M")
    print(f"  python3 -I -c pass     {interpreter / 1e6:>7.1f} M")
