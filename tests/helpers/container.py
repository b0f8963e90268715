"""Debian's podman for the container tests, kept apart from the host's own containers.

Everything lives under build/container: a private storage and configuration, a
Debian minbase root file system with python3.11 made once by debootstrap (the
slow part, cached as a tarball), and the image examples/container/Containerfile
builds on it with the .deb and a Go program.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import subprocess
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from tests.helpers.paths import BASE_PATH, REPO

ROOT = REPO / "build" / "container"
# The state a reboot must clear, where a reboot clears it; one per clone, so that a
# fresh clone never meets the state of another's storage.
STATE = Path("/run") / f"golaunch-test-podman-{hashlib.sha256(bytes(ROOT)).hexdigest()[:8]}"
CONTAINERFILE = REPO / "examples" / "container" / "Containerfile"
SUITE = "bookworm"  # the release of /usr/bin/python3.11, which the .deb is built for
MIRROR = os.environ.get("GOLAUNCH_TEST_MIRROR", "http://deb.debian.org/debian")
BASE_TARBALL = ROOT / f"{SUITE}-minbase-python3.11.tar"
BASE_IMAGE = "localhost/golaunch-test-base:latest"
APP_IMAGE = "localhost/golaunch-test-app:latest"
TOOLS = ("podman", "runc", "conmon", "catatonit", "debootstrap")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if not shutil.which(tool, path=BASE_PATH)]


def _limits() -> list[str]:
    # runc sets RLIMIT_NOFILE and RLIMIT_NPROC for every container, and podman's
    # defaults for root (2^20 files) are above this machine's hard limits, which
    # nothing here may raise (no CAP_SYS_RESOURCE): every run would fail with
    # "error setting rlimit type 7". 4096 processes is far below any host's limit.
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return [f"nofile={files}:{files}", "nproc=4096:4096"]


class Podman:
    """podman with storage and state of its own: GRAPHROOT holds images and containers,
    RUNROOT and TMPDIR the state a reboot must clear (a tmpfs on a real host)."""

    def __init__(self, home: Path, graphroot: Path, runroot: Path, tmpdir: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        limits = ", ".join(f'"{limit}"' for limit in _limits())
        (home / "containers.conf").write_text(
            "[containers]\n"
            f"default_ulimits = [{limits}]\n"
            'log_driver = "k8s-file"\n'
            "[engine]\n"
            # crun fails on this machine's hybrid cgroup v1 layout; runc does not.
            'runtime = "runc"\n'
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'tmp_dir = "{tmpdir}"\n'
            f'static_dir = "{graphroot}/libpod"\n'
            f'volume_path = "{graphroot}/volumes"\n'
        )
        (home / "storage.conf").write_text(
            f'[storage]\ndriver = "overlay"\ngraphroot = "{graphroot}"\nrunroot = "{runroot}"\n'
        )
        self.env = {
            "PATH": BASE_PATH,
            "CONTAINERS_CONF": str(home / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(home / "storage.conf"),
        }

    def command(self, *args: str | Path) -> list[str]:
        """This podman as a command line for elsewhere (a namespace, nsenter)."""
        return ["env", *(f"{k}={v}" for k, v in self.env.items()), "podman", *map(str, args)]

    def __call__(
        self,
        *args: str | Path,
        check: bool = True,
        timeout: float = 300,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        run = subprocess.run(
            ["podman", *map(str, args)],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and run.returncode != 0:
            raise AssertionError(
                f"podman {' '.join(map(str, args))}: {run.returncode}\n{run.stderr}"
            )
        return run

    def remove(self, container: str) -> None:
        """CONTAINER gone, whatever it was doing (or nothing, if there is none)."""
        self("rm", "--force", "--ignore", "--time=0", container)

    def has_image(self, name: str) -> bool:
        return self("image", "exists", name, check=False).returncode == 0

    def logs(self, container: str) -> list[tuple[float, str]]:
        """(wall time, line) of what the container wrote to stdout and stderr, as conmon
        stamped each line on arrival."""
        shown = self("logs", "-t", container)
        lines = []
        for line in (shown.stdout + shown.stderr).splitlines():
            stamp, _, text = line.partition(" ")
            lines.append((rfc3339(stamp), text))
        return sorted(lines)

    def inspect(self, container: str, template: str) -> str:
        return self("inspect", container, "--format", template).stdout.strip()

    def processes(self, container: str) -> list[tuple[int, str, str]]:
        """(pid, command, state) of every process in the container, read in it."""
        listing = (
            "import os\n"
            "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
            "    if int(pid) == os.getpid(): continue\n"
            "    try: stat = open(f'/proc/{pid}/stat').read()\n"
            "    except OSError: continue\n"
            "    name = stat[stat.index('(') + 1:stat.rindex(')')]\n"
            "    print(pid, name, stat[stat.rindex(')') + 2])\n"
        )
        shown = self("exec", container, "python3.11", "-c", listing)
        found = []
        for line in shown.stdout.splitlines():
            pid, name, state = line.split()
            found.append((int(pid), name, state))
        return sorted(found)


def rfc3339(stamp: str) -> float:
    """Seconds since the epoch of podman's "2026-12-02T23:53:58.537780060Z" (or with an
    offset, such as "+01:00", where the host's time zone is not UTC)."""
    microseconds = re.sub(r"(\.\d{6})\d+", r"\1", stamp)  # nanoseconds are too fine
    return datetime.fromisoformat(microseconds).timestamp()


def base_tarball() -> Path:
    """A minbase root file system with python3.11, made once (about a minute)."""
    if BASE_TARBALL.exists():
        return BASE_TARBALL
    work = ROOT / "debootstrap"
    shutil.rmtree(work, ignore_errors=True)
    log = ROOT / "debootstrap.log"
    with log.open("w") as out:
        made = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3.11", SUITE, work, MIRROR],
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if made.returncode != 0:
        raise AssertionError(f"debootstrap failed ({made.returncode}); see {log}")
    partial = BASE_TARBALL.with_suffix(".partial")
    subprocess.run(["tar", "-C", work, "-cf", partial, "."], check=True)
    os.replace(partial, BASE_TARBALL)
    shutil.rmtree(work)
    return BASE_TARBALL


def build_app_image(
    podman: Podman, deb: Path, program: Path, tag: str = APP_IMAGE, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """examples/container/Containerfile on the cached base, with DEB and PROGRAM: what a
    packager runs, but FROM the local base instead of a registry's image."""
    if not podman.has_image(BASE_IMAGE):
        podman("import", "--quiet", base_tarball(), BASE_IMAGE)
    context = ROOT / "context"
    shutil.rmtree(context, ignore_errors=True)
    # Where make deb put it: build/packages/RELEASE/NAME.
    (context / "build" / "packages" / SUITE).mkdir(parents=True)
    shutil.copy(deb, context / "build" / "packages" / SUITE / deb.name)
    shutil.copy(program, context / program.name)
    build_args: Sequence[str] = (
        f"BASE={BASE_IMAGE}",
        f"DEB={SUITE}/{deb.name}",
        f"PROGRAM={program.name}",
    )
    return podman(
        "build", "--pull=never", "--network=host", "-f", CONTAINERFILE, "-t", tag,
        *(f"--build-arg={arg}" for arg in build_args), context, check=check,
    )  # fmt: skip
