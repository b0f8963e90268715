"""golaunch as a podman container's entrypoint: Debian's podman 4.3 with runc and conmon,
the image examples/container/Containerfile builds, and one --sdnotify=container
service under the machine's systemd 252."""

from __future__ import annotations

import errno
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from tests.helpers.container import (
    APP_IMAGE,
    ROOT,
    STATE,
    Podman,
    build_app_image,
    missing_tools,
)
from tests.helpers.paths import REPO
from tests.helpers.toolchain import Toolchain
from tests.system.conftest import Machine, free_port, http_get, make, wait_until
from tests.system.test_packages import DEB

pytestmark = [
    pytest.mark.skipif(
        bool(missing_tools()),
        reason=f"not installed: {' '.join(missing_tools())} (make test installs them as root)",
    ),
    pytest.mark.host_systemd,  # this host's podman, in the namespace of its own systemd
]

DELAY = 3.0  # seconds the server waits before it listens
SERVER = ["/app/server", "-delay", f"{DELAY:g}s"]  # the image's ENTRYPOINT probes :8080/health
INIT = "podman-init"  # catatonit, as podman mounts it


@pytest.fixture(scope="module")
def podman() -> Podman:
    return Podman(ROOT / "host", ROOT / "storage", STATE / "run", STATE / "tmp")


@pytest.fixture(scope="module")
def app(podman: Podman, go_new: Toolchain) -> str:
    """The example Containerfile's image: the .deb, and the Go server built with cgo, so
    that golaunch resolves its libraries in the image."""
    make("deb")
    server = go_new.build(REPO / "examples" / "server", "server", cgo=True)
    build_app_image(podman, DEB, server)
    return APP_IMAGE


@pytest.fixture
def container(podman: Podman, request: pytest.FixtureRequest) -> Iterator[str]:
    """A name for one container, removed afterwards whatever it did."""
    name = f"golaunch-test-{request.node.name}"
    podman.remove(name)
    yield name
    podman.remove(name)


@dataclass
class Served:
    """One container run as the example says, through conmon's relay, to READY=1."""

    started: float  # wall time of `podman run`
    datagrams: list[tuple[float, str]]  # what reached our notify socket, when
    logs: list[tuple[float, str]]  # conmon's time stamps
    answer: str  # GET /health from inside, right after READY=1
    processes: list[tuple[int, str, str]]  # once the helper is gone

    @property
    def ready_at(self) -> float:
        return next(at for at, text in self.datagrams if text == "READY=1")

    def line(self, prefix: str) -> tuple[float, str]:
        return next((at, text) for at, text in self.logs if text.startswith(prefix))


def receive(sock: socket.socket, until: str, timeout: float) -> list[tuple[float, str]]:
    got: list[tuple[float, str]] = []
    deadline = time.monotonic() + timeout
    while not any(text == until for _, text in got):
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(4096)
        except TimeoutError:
            raise AssertionError(f"no {until} within {timeout:g} s; got {got}") from None
        got.append((time.time(), data.decode()))
    return got


@pytest.fixture(scope="module")
def served(podman: Podman, app: str) -> Iterator[Served]:
    """`podman run --init --sdnotify=container` of the image, with its ENTRYPOINT's probe
    and a server that listens DELAY seconds late, our socket standing for systemd's."""
    name = "golaunch-test-served"
    podman.remove(name)
    address = ROOT / "notify.sock"
    address.unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(address))
        started = time.time()
        podman(
            "run", "--detach", "--init", "--sdnotify=container", "--network=none",
            f"--name={name}", app, *SERVER, env={"NOTIFY_SOCKET": str(address)},
        )  # fmt: skip
        try:
            datagrams = receive(sock, "READY=1", timeout=DELAY + 30)
            answer = podman("exec", name, "python3.11", "-c", GET_HEALTH).stdout

            def helper_gone() -> list[tuple[int, str, str]] | None:
                found = podman.processes(name)
                alive = [p for p in found if p[1] not in (INIT, "server") and p[2] != "Z"]
                return None if alive else found

            processes = wait_until("the readiness helper to leave", helper_gone, timeout=10)
            yield Served(started, datagrams, podman.logs(name), answer, processes)
        finally:
            podman.remove(name)


GET_HEALTH = (
    "import urllib.request\n"
    "answer = urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=1)\n"
    "print(answer.read().decode(), end='')"
)


def test_ready_reaches_the_manager_through_conmon_only_once_the_server_answers(
    served: Served,
) -> None:
    serving_at, _ = served.line("server: pid")
    assert serving_at - served.started >= DELAY
    # conmon relays any datagram containing READY=1 as a bare READY=1; golaunch's own
    # STATUS= text ("READY=1 once http://... answers") once arrived here 3 s early.
    assert served.ready_at >= serving_at
    assert served.ready_at - serving_at < 2.0  # the probe's back-off is at most 2 s
    assert served.answer == "ok\n"
    # conmon announces itself as the main process, and drops STATUS= and the barrier.
    texts = [text for _, text in served.datagrams]
    assert texts[-1] == "READY=1" and all(t.startswith("MAINPID=") for t in texts[:-1])


def test_the_readiness_helper_leaves_no_zombie(served: Served) -> None:
    names = [(name, state) for _, name, state in served.processes]
    assert [n for n, state in names if state == "Z"] == []
    assert sorted(n for n, _ in names) == [INIT, "server"]


def test_a_container_start_gets_no_service_manager_advice(served: Served) -> None:
    """No NotifyAccess=, CacheDirectory= or manager warning: one launch line, naming the
    same PID the server reports, and the dropped variables (podman's TERM passes, as a
    service's does: systemd.exec(5) lists it among the manager's own)."""
    (server_pid,) = [pid for pid, name, _ in served.processes if name == "server"]
    said = [text for _, text in served.logs if text.startswith("golaunch")]
    assert said == [
        f"golaunch: launching /app/server as PID {server_pid}; not passed: "
        "HOSTNAME PWD container (--keep-env NAME passes one on)"
    ]
    assert served.line("server: pid")[1].startswith(f"server: pid {server_pid} serving")


def test_a_probe_without_an_init_is_refused_in_podman_logs(
    podman: Podman, app: str, container: str
) -> None:
    """golaunch as PID 1 would leave its helper to a Go program that never reaps it."""
    run = podman("run", "--network=none", f"--name={container}", app, *SERVER, check=False)
    assert run.returncode == 78
    said = " ".join(text for _, text in podman.logs(container))
    assert "golaunch is PID 1 (a container without an init)" in said
    assert "podman run --init" in said
    assert "server: pid" not in said  # the program never ran


def test_podman_stop_during_wait_for_ends_golaunch_at_once(
    podman: Podman, app: str, container: str
) -> None:
    """Python as PID 1 ignores SIGTERM without a handler: podman stop used to wait its
    10 s and end in SIGKILL (137)."""
    podman(
        "run", "--detach", "--network=none", f"--name={container}",
        "--entrypoint=golaunch", app,
        "--wait-for", "tcp://127.0.0.1:9", "--wait-timeout", "300", "--", "/app/server",
    )  # fmt: skip
    pid = int(podman.inspect(container, "{{.State.Pid}}"))  # PID 1 inside, seen from here

    def handles_sigterm() -> bool:
        caught = Path(f"/proc/{pid}/status").read_text().split("SigCgt:")[1].split()[0]
        return bool(int(caught, 16) & (1 << (15 - 1)))

    wait_until("golaunch to handle SIGTERM", handles_sigterm)
    began = time.monotonic()
    podman("stop", "--time=10", container)
    took = time.monotonic() - began
    assert podman.inspect(container, "{{.State.ExitCode}}") == "143"
    assert took < 3.0
    said = [text for _, text in podman.logs(container)]
    assert "golaunch: stopped by SIGTERM before the program started" in said


MEMORY_V1 = Path("/sys/fs/cgroup/memory")


@pytest.fixture
def limited_parent() -> Iterator[tuple[str, int]]:
    """A cgroup v1 memory parent limited to 150 MiB, which the container cannot see."""
    if not (MEMORY_V1 / "memory.limit_in_bytes").exists():
        pytest.skip("no cgroup v1 memory controller at /sys/fs/cgroup/memory")
    name = f"golaunch-test-parent-{os.getpid()}"
    limit = 150 * 1024 * 1024
    (MEMORY_V1 / name).mkdir(exist_ok=True)
    (MEMORY_V1 / name / "memory.limit_in_bytes").write_text(str(limit))
    yield f"/{name}", limit
    # podman made the parent in every controller, with a "conmon" cgroup it leaves
    # behind; the container's own go with the container (this fixture comes first).
    for below in sorted(Path("/sys/fs/cgroup").glob(f"*/{name}/**/"), reverse=True):
        wait_until(f"{below} to empty", partial(removed, below))


def removed(cgroup: Path) -> bool:
    try:
        cgroup.rmdir()
    except FileNotFoundError:
        return True
    except OSError as error:
        if error.errno == errno.EBUSY:  # a process is still leaving it
            return False
        raise
    return True


def test_a_limit_on_a_parent_cgroup_sets_gomemlimit(
    limited_parent: tuple[str, int], podman: Podman, app: str, container: str
) -> None:
    parent, limit = limited_parent
    podman(
        "run", "--detach", "--network=none", f"--name={container}", f"--cgroup-parent={parent}",
        "--entrypoint=golaunch", app, "--notify", "none", "--", "/app/server",
    )  # fmt: skip
    read = "import sys; print(open(sys.argv[1], 'rb').read().decode().replace('\\0', '\\n'))"

    def environment() -> dict[str, str] | None:
        # PID 1 is golaunch until it execs the server; then the server, with GOMEMLIMIT.
        shown = podman("exec", container, "python3.11", "-c", read, "/proc/1/environ")
        found = dict(line.split("=", 1) for line in shown.stdout.splitlines() if "=" in line)
        return found if "GOMEMLIMIT" in found else None

    env = wait_until("the server to run", environment)
    assert env["GOMEMLIMIT"] == str(int(limit * 0.9))
    # The kernel's own view: nothing on the container's cgroup, the parent's above it.
    stat = podman("exec", container, "cat", "/sys/fs/cgroup/memory/memory.stat").stdout
    assert f"hierarchical_memory_limit {limit}\n" in stat
    own = podman("exec", container, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
    assert int(own.stdout) > limit


def test_an_image_whose_program_cannot_run_fails_to_build_with_78(
    podman: Podman, app: str, missing_library_program: Path
) -> None:
    """The Containerfile's RUN golaunch --check step, on a program needing libgone.so.1."""
    built = build_app_image(
        podman, DEB, missing_library_program, tag="localhost/golaunch-test-broken", check=False
    )
    assert built.returncode != 0
    assert "exit status 78" in built.stderr
    assert "fail  library      libgone.so.1" in built.stdout
    assert not podman.has_image("localhost/golaunch-test-broken")


def test_a_sdnotify_container_service_starts_once_the_probe_passes(
    machine: Machine, podman: Podman, app: str
) -> None:
    """The unit `podman generate systemd --new` would write, with --sdnotify=container:
    conmon is the main process, and its relayed READY=1 ends `systemctl start`."""
    archive = ROOT / "app.tar"
    archive.unlink(missing_ok=True)
    podman("save", "--format=oci-archive", f"--output={archive}", app)
    # The namespace's podman: its own storage, and its state on the namespace's /run.
    inside = Podman(
        ROOT / "machine", ROOT / "machine-storage", Path("/run/podman/run"), Path("/run/podman/tmp")
    )
    machine.run(*inside.command("load", f"--input={archive}"), timeout=300)
    archive.unlink()
    port = free_port()
    name = "golaunch-test-svc"
    entrypoint = f'["golaunch","--ready-probe","http://127.0.0.1:{port}/health","--"]'
    run = [
        "/usr/bin/podman", "run", "--cgroups=no-conmon", "--rm", "--replace", "--detach",
        "--sdnotify=container", "--init", "--network=host", f"--name={name}",
        f"'--entrypoint={entrypoint}'", app, *SERVER, "-listen", f"127.0.0.1:{port}",
    ]  # fmt: skip
    environment = " ".join(f"{k}={v}" for k, v in inside.env.items())
    machine.install(
        {
            f"{name}.service": "\n".join(
                [
                    "[Unit]",
                    "DefaultDependencies=no",
                    "[Service]",
                    "Type=notify",
                    "NotifyAccess=all",
                    f"Environment={environment}",
                    f"ExecStart={' '.join(run)}",
                    f"ExecStop=/usr/bin/podman stop --ignore --time=10 {name}",
                    f"ExecStopPost=/usr/bin/podman rm --force --ignore --time=0 {name}",
                    "",
                ]
            )
        }
    )
    try:
        machine.start_ok(f"{name}.service")
        assert http_get(port, "/health", timeout=0.5) == "ok\n"  # at once: it was serving
        props = machine.show(f"{name}.service")
        waited = int(props["ActiveEnterTimestampMonotonic"]) - int(
            props["ExecMainStartTimestampMonotonic"]
        )
        assert waited / 1e6 >= DELAY
        comm = (machine.root / "proc" / props["MainPID"] / "comm").read_text().strip()
        assert comm == "conmon"  # podman left; conmon relayed READY=1 as the main process
    finally:
        machine.run("systemctl", "stop", f"{name}.service", check=False)
    listed = machine.run(*inside.command("ps", "--all", "--format={{.Names}}")).stdout.split()
    assert name not in listed


def test_any_user_gets_its_caches_on_the_examples_volume(
    podman: Podman, app: str, container: str
) -> None:
    """--user 1000 --read-only with a fresh named volume: the example's volume lets the user
    make its own caches; a place it cannot write gets a container's fix."""
    volume = f"{container}-cache"
    podman("volume", "rm", "--force", volume)
    show = 'stat -c "%u %a" "$GOCACHE" "$GOMODCACHE"'
    user = ["--user=1000", "--read-only", f"--volume={volume}:/var/cache/app", "--network=none"]
    try:
        made = podman(
            "run", "--rm", "--init", *user, "--entrypoint=golaunch", app,
            "--notify", "none", "--", "/bin/sh", "-c", show,
        )  # fmt: skip
        assert made.stdout == "1000 700\n1000 700\n"
    finally:
        podman("volume", "rm", "--force", volume)
    refused = podman(
        "run", "--rm", "--init", user[0], "--network=none", "--env=GOCACHE=/var/lib/go-build",
        "--entrypoint=golaunch", app, "--check", "--", "/app/server", check=False,
    )  # fmt: skip
    assert refused.returncode == 78
    assert (
        "cannot be created: uid 1000 cannot write to /var/lib; pass -e GOCACHE=DIR with DIR on "
        "a volume the container's user can write" in refused.stdout
    )
    assert "CacheDirectory" not in refused.stdout
