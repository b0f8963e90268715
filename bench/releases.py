"""`make bench-releases`: each Debian release's .deb, installed by its apt into a clean
root of that release, and what a start costs there. Not a test: it prints the README's
Packages table (root only; it builds what it lacks, as `make test` does).

cold: a full start (no kept plan); warm: a start that reuses the plan the last one kept;
python: `python3 -I -c pass` of the release, run in turn with them. Medians of RUNS.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from golaunch import __version__  # noqa: E402
from tests.helpers.release import apt_install, in_root, unpack_root  # noqa: E402

RELEASES = ("bookworm", "trixie")
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
WORK = REPO / "build" / "bench" / "releases"

# Run by the release's own python3 inside its root: medians in milliseconds.
TIMER = """
import os, shutil, statistics, sys, time
runs = int(sys.argv[1])
cache = "/var/tmp/golaunch-bench"
env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "CACHE_DIRECTORY": cache}
start = ["/usr/bin/golaunch", "--notify", "none", "--", "/bin/true"]
python = ["/usr/bin/python3", "-I", "-c", "pass"]
def once(argv):
    began = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv} exited {os.waitstatus_to_exitcode(status)}")
    return (time.perf_counter() - began) * 1000
def cold():
    shutil.rmtree(cache + "/golaunch", ignore_errors=True)  # the kept plans
    return once(start)
shutil.rmtree(cache, ignore_errors=True)
os.mkdir(cache, 0o700)  # as CacheDirectory= makes it
once(start)
time.sleep(2.1)  # a plan is reused only once its inputs are older than the racy window
once(start)
times = {"cold": [], "warm": [], "bare": []}
for _ in range(runs):
    times["bare"].append(once(python))
    times["warm"].append(once(start))
for _ in range(runs):
    times["cold"].append(cold())
print(" ".join(f"{k}={statistics.median(v):.1f}" for k, v in times.items()))
"""


def facts(dist: str) -> dict[str, str]:
    deb = REPO / "build" / "packages" / dist / f"golaunch_{__version__}_amd64.deb"
    made = subprocess.run(["make", "-s", "deb", f"DIST={dist}"], cwd=REPO, check=False)
    if made.returncode != 0:
        raise SystemExit(f"make deb DIST={dist} failed")
    root = unpack_root(dist, "clean", WORK / dist)
    apt_install(root, deb)
    versions = in_root(
        root, "python3 -c 'import sys; print(sys.version.split()[0])'; systemctl --version"
    )
    python, systemd = versions.stdout.split()[0], versions.stdout.split()[2]
    installed = subprocess.run(
        ["dpkg-deb", "-f", deb, "Installed-Size"], capture_output=True, text=True, check=True
    )
    (root / "root" / "timer.py").write_text(TIMER)
    timed = in_root(root, f"python3 /root/timer.py {RUNS}")
    if timed.returncode != 0:
        raise SystemExit(f"{dist}: {timed.stderr.strip()}")
    subprocess.run(["rm", "-rf", root], check=True)
    return {
        "release": dist,
        "python": python,
        "systemd": systemd,
        "deb": f"{deb.stat().st_size / 1e6:.1f} MB",
        "installed": f"{int(installed.stdout) / 1024:.1f} MiB",
        **dict(item.split("=") for item in timed.stdout.split()),
    }


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("bench/releases.py makes and enters Debian roots: run it as root")
    rows = [facts(dist) for dist in RELEASES]
    print(
        "| release | Python | systemd | .deb | installed | cold start | warm start | python3 -I |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['release']} | {r['python']} | {r['systemd']} | {r['deb']} | {r['installed']} "
            f"| {r['cold']} ms | {r['warm']} ms | {r['bare']} ms |"
        )


if __name__ == "__main__":
    main()
