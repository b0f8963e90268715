"""A host for comparing warm starts with full ones, all of it real: golaunch processes, a C
program with a library of its own (found through $ORIGIN) that reports the argv and
environment the kernel gave it, a GOROOT, a cache, a TOML file and a notify socket.

`start` runs golaunch as the units run it and says what happened and whether the start
was warm, which it reads from the modules the process loaded (-X importtime): a warm start
never loads the checks' start-up sequence. `full` is the same start with the plans gone.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from golaunch.inputs.trace import RACY_NS
from tests.helpers.paths import BASE_PATH, REPO
from tests.helpers.process import NotifyListener

SETTLE = RACY_NS / 1e9 + 0.1  # files older than this may be trusted by their ctime
REPORTER = r"""
#include <fcntl.h>
#include <unistd.h>
int plan_answer(void);
static void copy(const char *from, int to) {
    char buffer[65536];
    ssize_t n;
    int fd = open(from, O_RDONLY);
    while (fd >= 0 && (n = read(fd, buffer, sizeof buffer)) > 0)
        write(to, buffer, n);
    close(fd);
}
int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    copy("/proc/self/cmdline", out);
    write(out, "\n", 1);
    copy("/proc/self/environ", out);
    close(out);
    return plan_answer() == 42 ? 0 : 1;
}
"""


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: int
    notifications: tuple[str, ...]
    log: tuple[str, ...]  # golaunch's lines on stderr, each launch's PID as "N"
    exec: tuple[tuple[str, ...], tuple[str, ...]] | None  # the program's argv and environ


@dataclasses.dataclass
class Host:
    root: Path
    program: Path
    library: Path
    goroot: Path
    gocache: Path
    config: Path
    cache: Path
    report: Path
    listener: NotifyListener
    environ: dict[str, str]
    options: list[str]
    prefix: list[str] = dataclasses.field(default_factory=list)  # setpriv, a shell, ...
    interpreter: str = sys.executable
    pythonpath: str | None = None  # another copy of golaunch's code

    @property
    def argv(self) -> list[str]:
        return [
            "--config", str(self.config), "--goroot", str(self.goroot),
            "--gocache", str(self.gocache), "--gomodcache", str(self.root / "gomod"),
            "--log-target", "stderr", *self.options, "--", str(self.program), str(self.report),
        ]  # fmt: skip

    def plans(self) -> list[Path]:
        return sorted((self.cache / "golaunch").glob("*.plan"))


def gcc(*args: str | Path) -> None:
    subprocess.run(["gcc", "-O0", *map(str, args)], check=True, capture_output=True)


def build_library(path: Path, answer: int) -> None:
    source = path.with_suffix(".c")
    source.write_text(f"int plan_answer(void) {{ return {answer}; }}\n")
    gcc("-shared", "-fPIC", "-Wl,-soname,libplan.so.1", "-o", path, source)


def make_host(root: Path, options: Sequence[str] = ()) -> Host:
    """Everything a start reads, under ROOT, old enough (SETTLE) to be trusted."""
    lib = root / "app" / "lib"
    lib.mkdir(parents=True)
    build_library(lib / "libplan.so.1", 42)
    (root / "reporter.c").write_text(REPORTER)
    program = root / "app" / "server"
    gcc("-o", program, root / "reporter.c", f"-L{lib}", "-l:libplan.so.1", "-Wl,-rpath,$ORIGIN/lib")
    goroot = root / "goroot"
    for part in ("bin", "src", "pkg"):
        (goroot / part).mkdir(parents=True)
    (goroot / "VERSION").write_text("go1.22.5\ntime 2024-07-02T00:00:00Z\n")
    (goroot / "bin" / "go").write_text("#!/bin/sh\nexit 1\n")
    (goroot / "bin" / "go").chmod(0o755)
    gocache = root / "caches" / "go-build"
    gocache.mkdir(parents=True, mode=0o755)
    (root / "gomod").mkdir()
    config = root / "golaunch.toml"
    config.write_text('[go]\nversion = ">=1.22"\n[environment]\nset = { PLAN_MODE = "one" }\n')
    cache = root / "state"
    cache.mkdir()
    socket_path = str(root / "notify")
    environ = {
        "PATH": BASE_PATH,
        "HOME": str(root),
        "LANG": "C.UTF-8",
        "CACHE_DIRECTORY": str(cache),
        "NOTIFY_SOCKET": socket_path,
        "INVOCATION_ID": "0123456789abcdef0123456789abcdef",
    }
    host = Host(
        root, program, lib / "libplan.so.1", goroot, gocache, config, cache,
        root / "report", NotifyListener(socket_path, socket_path), environ, list(options),
    )  # fmt: skip
    time.sleep(SETTLE)
    return host


LAUNCH_PID = re.compile(r"as PID \d+")


def start(host: Host, environ: Mapping[str, str] | None = None) -> tuple[Outcome, bool]:
    """One start of golaunch as a process: what it did, and whether it was warm."""
    host.listener.messages()  # nothing left over
    host.report.unlink(missing_ok=True)
    env = dict(host.environ if environ is None else environ)
    if host.pythonpath:
        env["PYTHONPATH"] = host.pythonpath
    run = subprocess.run(
        [*host.prefix, host.interpreter, "-B", "-X", "importtime", "-m", "golaunch", *host.argv],
        env=env, capture_output=True, text=True, timeout=60, check=False, cwd=host.root,
    )  # fmt: skip
    loaded = [line for line in run.stderr.splitlines() if line.startswith("import time:")]
    if not loaded:
        raise AssertionError(f"no import times: {run.stderr}")
    warm = not any(line.rstrip().endswith("golaunch.launch.startup") for line in loaded)
    log = tuple(
        LAUNCH_PID.sub("as PID N", line)
        for line in run.stderr.splitlines()
        if not line.startswith("import time:")
    )
    assert "Traceback" not in run.stderr, run.stderr
    outcome = Outcome(run.returncode, tuple(host.listener.messages()), log, reported(host))
    return outcome, warm


def reported(host: Host) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    if not host.report.exists():
        return None
    cmdline, _, environ = host.report.read_bytes().partition(b"\n")
    return _strings(cmdline), tuple(sorted(_strings(environ)))


def _strings(block: bytes) -> tuple[str, ...]:
    return tuple(s.decode("utf-8", "surrogateescape") for s in block.split(b"\0") if s)


def shared_code(directory: Path) -> str:
    """golaunch and what a launch imports, where any user can read them (a clone under a
    0700 home cannot be), for Debian's own python3.11: a PYTHONPATH."""
    import sdnotify

    code = directory / "code"
    if not code.exists():
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(REPO / "golaunch", code / "golaunch", ignore=ignore)
        shutil.copy(sdnotify.__file__, code / "sdnotify.py")
        for path in (directory, *code.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
    return str(code)


def kept(host: Host) -> Outcome:
    """Start until a plan is kept and used on the unchanged host: the warm start's outcome.
    Without one the comparisons prove nothing, so its absence fails."""
    recorded, was_warm = start(host)
    assert not was_warm and host.plans(), f"no plan was kept after {recorded}"
    outcome, was_warm = start(host)
    assert was_warm, "the kept plan was not used on an unchanged host"
    assert outcome == recorded, "the warm start differs from the full start that kept its plan"
    return outcome


def full(host: Host) -> Outcome:
    """The full start: the same start, with every plan gone."""
    for plan in host.plans():
        plan.unlink()
    outcome, was_warm = start(host)
    assert not was_warm
    return outcome
