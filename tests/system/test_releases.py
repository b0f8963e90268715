"""The .deb of each Debian release, installed by that release's apt into a clean root of
it, run under that release's own systemd (bookworm 252, trixie 257), and purged."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from golaunch import __version__
from golaunch.findings import MESSAGE_IDS, Severity
from tests.helpers.machine import start_system_bus
from tests.helpers.paths import REPO
from tests.helpers.release import RootMachine, apt_install, booted_root, in_root, unpack_root
from tests.helpers.toolchain import Toolchain
from tests.system.conftest import WORK, free_port, http_get, make, wait_until
from tests.system.test_packages import PACKAGES, RPM
from tests.system.test_probes import unit

MIB = 1 << 20
SERVER = "/srv/app/server"  # the Go server, as a package of the administrator's puts it
RELEASES = {"bookworm": ("3.11", "252"), "trixie": ("3.13", "257")}  # Python, systemd


@dataclass(frozen=True)
class Release:
    dist: str
    python: str
    systemd: str
    deb: Path
    root: Path
    machine: RootMachine
    installed: frozenset[str]  # what dpkg -L listed after the install

    def read(self, path: str) -> str:
        return (self.root / path.lstrip("/")).read_text()


def deb_of(dist: str) -> Path:
    return PACKAGES / dist / f"golaunch_{__version__}_amd64.deb"


@pytest.fixture(scope="module", params=list(RELEASES))
def release(request: pytest.FixtureRequest, go_new: Toolchain) -> Iterator[Release]:
    """DIST's clean root with the package installed by apt, the Go server in /srv/app,
    DIST's systemd booted there, and its system bus started."""
    dist: str = request.param
    make("deb", f"DIST={dist}")
    work = WORK / "releases" / dist
    root = unpack_root(dist, "clean", work / "root")
    apt_install(root, deb_of(dist))
    listed = in_root(root, "dpkg -L golaunch")
    assert listed.returncode == 0, listed.stderr
    server = root / SERVER.lstrip("/")
    server.parent.mkdir(parents=True)
    shutil.copy(go_new.build(REPO / "examples" / "server", "server"), server)
    with booted_root(root, work) as machine:
        start_system_bus(machine)
        python, systemd = RELEASES[dist]
        yield Release(
            dist, python, systemd, deb_of(dist), root, machine, frozenset(listed.stdout.split())
        )
    shutil.rmtree(root, ignore_errors=True)


def test_the_release_systemd_and_python(release: Release) -> None:
    """The root boots what its release ships, and the package asks for exactly its python3."""
    version = release.machine.run("systemctl", "--version").stdout
    assert version.startswith(f"systemd {release.systemd} ")
    major, minor = release.python.split(".")
    depends = subprocess.run(
        ["dpkg-deb", "-f", release.deb, "Depends"], capture_output=True, text=True, check=True
    )
    assert f"python3 (>= {release.python}), python3 (<< {major}.{int(minor) + 1})" in depends.stdout
    interpreter = (release.root / "usr/lib/golaunch/bin/python").resolve()
    assert interpreter == release.root / f"usr/bin/python{release.python}"
    run = release.machine.run("golaunch", "--version")
    assert run.stdout == f"golaunch {__version__}\n"


def test_no_bundled_copy_of_a_library_the_release_ships(release: Release) -> None:
    """Every shared object in the private environment resolves its libraries to the
    release's own packages (ldd, in the root, on the objects the build compiled)."""
    objects = sorted((release.root / "usr/lib/golaunch").rglob("*.so"))
    assert any(o.name.startswith("_journal.") for o in objects), objects
    assert not list((release.root / "usr/lib/golaunch").rglob("*.libs")), "a wheel's bundled libs"
    for obj in objects:
        inside = "/" + str(obj.relative_to(release.root))
        ldd = in_root(release.root, f"ldd {inside}")
        assert ldd.returncode == 0 and "not found" not in ldd.stdout, ldd.stdout
        for resolved in re.findall(r"=> (/\S+)", ldd.stdout):
            assert not resolved.startswith("/usr/lib/golaunch"), (inside, resolved)
            # dpkg knows a file by the path its package ships, /lib or /usr/lib.
            owner = in_root(
                release.root, f'f=$(realpath {resolved}); dpkg -S "$f" || dpkg -S "${{f#/usr}}"'
            )
            assert owner.returncode == 0, f"{resolved}, needed by {inside}, is in no package"
    journal = next(o for o in objects if o.name.startswith("_journal."))
    ldd = in_root(release.root, f"ldd /{journal.relative_to(release.root)}")
    assert re.search(r"libsystemd\.so\.0 => /\S+", ldd.stdout), ldd.stdout


def test_go_server_with_ready_probe_and_memory_max(release: Release) -> None:
    """A Type=notify unit becomes active once the server answers; GOMEMLIMIT follows
    MemoryMax=; the program is the main process."""
    machine, port = release.machine, free_port()
    probe = f"http://127.0.0.1:{port}/health"
    exec_start = (
        f"/usr/bin/golaunch --ready-probe {probe} -- {SERVER} -listen 127.0.0.1:{port} -delay 1s"
    )
    machine.install({"app.service": unit(exec_start, "NotifyAccess=all", "MemoryMax=200M")})
    machine.start_ok("app.service")
    assert http_get(port, "/health", timeout=0.5) == "ok\n"
    props = machine.show("app.service")
    assert props["ActiveState"] == "active"
    assert props["StatusText"] == f"golaunch: {probe} answers; running {SERVER}"
    pid = int(props["MainPID"])
    assert http_get(port, "/pid") == f"{pid}\n"
    assert machine.environ(pid)["GOMEMLIMIT"] == str(int(0.9 * 200 * MIB))


def test_check_unit_over_the_release_bus(release: Release) -> None:
    """--check --unit asks the release's systemd over D-Bus and rebuilds the unit's start."""
    machine = release.machine
    if machine.show("app.service")["ActiveState"] != "active":
        pytest.skip("needs app.service from the test before")
    run = machine.run("golaunch", "--check", "--unit", "app.service", "--json", check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["program"] == SERVER
    assert report["ok"] is True


def test_the_shipped_deploy_example(release: Release) -> None:
    """/usr/share/doc/golaunch/examples/deploy.sh as packaged, run by the release's sh:
    a good build is checked with --candidate, renamed in place and restarted onto."""
    machine, port = release.machine, free_port()
    exec_start = f"/usr/bin/golaunch -- {SERVER} -listen 127.0.0.1:{port}"
    machine.install({"deployed.service": unit(exec_start)})
    machine.start_ok("deployed.service")
    before = machine.show("deployed.service")["MainPID"]
    build = release.root / "root" / "server.build"
    build.write_bytes((release.root / SERVER.lstrip("/")).read_bytes() + b"\0rebuilt")
    script = "/usr/share/doc/golaunch/examples/deploy.sh"
    run = machine.run("sh", script, "deployed.service", "/root/server.build", check=False)
    assert run.returncode == 0, run
    assert (release.root / SERVER.lstrip("/")).read_bytes() == build.read_bytes()
    after = machine.show("deployed.service")
    assert after["ActiveState"] == "active" and after["MainPID"] != before
    assert http_get(port, "/pid") == f"{after['MainPID']}\n"
    machine.run("systemctl", "stop", "deployed.service")


def app_deb(work: Path, version: str, program: Path) -> Path:
    """A local package `app` that installs PROGRAM as /opt/app/server, as an
    administrator's own package would."""
    tree = work / f"app_{version}"
    shutil.rmtree(tree, ignore_errors=True)
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: app\nVersion: {version}\nArchitecture: amd64\n"
        "Maintainer: golaunch tests <tests@localhost>\nDescription: a Go server\n"
    )
    (tree / "opt" / "app").mkdir(parents=True)
    shutil.copy(program, tree / "opt" / "app" / "server")
    (tree / "opt" / "app" / "server").chmod(0o755)
    deb = work / f"app_{version}_amd64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", tree, deb], check=True,
                   capture_output=True)  # fmt: skip
    return deb


def test_the_apt_gate_stops_an_upgrade_that_would_not_start(
    release: Release, go_new: Toolchain, missing_library_program: Path
) -> None:
    """DPkg::Pre-Install-Pkgs, as shipped: off until enabled; then a version of `app` whose
    program needs a missing library is refused by apt before dpkg unpacks it, and the old
    program keeps running; a good version goes through."""
    machine, port = release.machine, free_port()
    good = go_new.build(REPO / "examples" / "server", "server")
    debs = release.root / "root" / "debs"
    debs.mkdir(exist_ok=True)
    first = app_deb(debs, "1", good)
    broken = app_deb(debs, "2", missing_library_program)
    rebuilt = debs / "server-rebuilt"
    rebuilt.write_bytes(good.read_bytes() + b"\0rebuilt")
    fixed = app_deb(debs, "3", rebuilt)

    def apt(deb: Path) -> subprocess.CompletedProcess[str]:
        inside = f"/root/debs/{deb.name}"
        return machine.run("apt-get", "install", "-y", "--allow-downgrades", inside, check=False)

    def installed() -> str:
        return machine.run("dpkg-query", "-W", "-f", "${Version}", "app").stdout

    assert apt(first).returncode == 0
    exec_start = f"/usr/bin/golaunch -- /opt/app/server -listen 127.0.0.1:{port}"
    # Its own name: app.service of the probe test above is still running.
    machine.install({"gated-app.service": unit(exec_start, "DynamicUser=yes")})
    machine.start_ok("gated-app.service")
    running = machine.show("gated-app.service")["MainPID"]
    enabled = release.root / "etc/golaunch/apt-gate.enabled"
    enabled.write_text("")
    try:
        refused = apt(broken)
        assert refused.returncode != 0, refused.stdout
        assert "libgone.so.1" in refused.stderr
        assert "gated-app.service would not start" in refused.stderr
        assert "nothing was unpacked" in refused.stderr
        assert installed() == "1"
        assert (release.root / "opt/app/server").read_bytes() == good.read_bytes()
        after = machine.show("gated-app.service")
        assert (after["ActiveState"], after["MainPID"]) == ("active", running)
        assert http_get(port, "/pid") == f"{running}\n"
        done = apt(fixed)
        assert done.returncode == 0, done.stderr
        assert installed() == "3" and "apt-gate" not in done.stderr
    finally:
        enabled.unlink(missing_ok=True)
    assert apt(broken).returncode == 0  # off again: apt goes on as if golaunch were not there
    assert installed() == "2"
    machine.run("systemctl", "stop", "gated-app.service")
    machine.run("dpkg", "--purge", "app")


def test_shipped_units_verify_under_the_release_systemd(release: Release) -> None:
    """Every unit the package ships, and its example, as the release's systemd-analyze
    sees them (it exits 0 on warnings: any output is a failure)."""
    units = [
        "golaunch@demo.service",
        "golaunch-check.service",
        "golaunch-check.timer",
        "golaunch-refresh@golaunch@demo.service.service",
        "/usr/share/doc/golaunch/examples/golaunch-example.service",
    ]
    run = release.machine.run("systemd-analyze", "verify", "--man=no", *units, check=False)
    assert (run.returncode, run.stdout + run.stderr) == (0, "")


def test_a_missing_program_is_refused_with_78(release: Release) -> None:
    machine = release.machine
    machine.install({"gone.service": unit("/usr/bin/golaunch -- /srv/app/gone")})
    assert machine.start("gone.service").returncode != 0
    wait_until("gone.service to fail", lambda: machine.show("gone.service")["Result"] != "success")
    assert machine.show("gone.service")["ExecMainStatus"] == "78"
    message_id = MESSAGE_IDS[("program", Severity.FAIL)]
    (entry,) = machine.journal("-u", "gone.service", f"MESSAGE_ID={message_id}")
    assert "/srv/app/gone" in entry["MESSAGE"]
    # The package left the catalog to systemd's own trigger, which apt ran.
    explained = machine.journal_text("-x", "-u", "gone.service", f"MESSAGE_ID={message_id}")
    assert "Subject: The program /srv/app/gone cannot be executed" in explained


def golaunch_paths(root: Path) -> list[str]:
    """Everything named golaunch anywhere in ROOT's own file systems."""
    found = in_root(root, "find / -xdev -path /proc -prune -o -name '*golaunch*' -print")
    return sorted(found.stdout.split())


def enable_and_run(machine: RootMachine, root: Path) -> None:
    """What an administrator does: an instance of the template and the timer enabled,
    started and run, so that each leaves its state behind."""
    machine.write(
        "/etc/golaunch/app.toml",
        f'program = "{SERVER}"\nargs = ["-listen", "127.0.0.1:{free_port()}"]\n',
    )
    # The textfile directory prometheus-node-exporter's package makes.
    machine.run("mkdir", "-p", "/var/lib/prometheus/node-exporter")
    machine.run("systemctl", "enable", "golaunch@app.service", "golaunch-check.timer")
    machine.run("systemctl", "start", "golaunch@app.service", "golaunch-check.timer")
    machine.start_ok("golaunch-check.service")
    assert machine.show("golaunch-check.timer")["ActiveState"] == "active"
    left_by_runs = golaunch_paths(root)
    assert any(p.startswith("/var/cache/private/golaunch") for p in left_by_runs), left_by_runs
    assert any(p.endswith("golaunch.prom") for p in left_by_runs), left_by_runs
    machine.run("systemctl", "stop", "golaunch@app.service")
    (root / "etc/golaunch/app.toml").unlink()  # the administrator's own file


def assert_nothing_left(machine: RootMachine, root: Path) -> None:
    # The state of the administrator's program (StateDirectory=golaunch/app) is its
    # data, not golaunch's: it stays, and with it the two directories that hold it.
    assert golaunch_paths(root) == ["/var/lib/golaunch", "/var/lib/private/golaunch"]
    assert [p.name for p in (root / "var/lib/private/golaunch").iterdir()] == ["app"]
    assert machine.show("golaunch-check.timer")["LoadState"] == "not-found"
    assert machine.show("golaunch-check.timer")["ActiveState"] == "inactive"
    assert in_root(root, "find /etc/systemd -xtype l").stdout == ""  # no dangling link


def test_enabled_then_purged_leaves_nothing(release: Release) -> None:
    """apt purge stops the timer, forgets the links and golaunch's state, and leaves no
    file of its own behind."""
    enable_and_run(release.machine, release.root)
    purge = release.machine.run("apt-get", "purge", "-y", "-q", "golaunch", check=False)
    assert purge.returncode == 0, purge.stdout + purge.stderr
    assert_nothing_left(release.machine, release.root)
    shipped = [p for p in release.installed if "golaunch" in p]
    assert [p for p in shipped if (release.root / p.lstrip("/")).exists()] == []


def test_the_rpm_enabled_then_erased_leaves_nothing(go_new: Toolchain) -> None:
    """The .rpm's scriptlets, which use none of systemd's macros, under a booted systemd:
    installed and erased by rpm (this host's, with --root) in a bookworm root that has
    python3.11, the rpm's one requirement Debian's rpm database cannot know."""
    make("rpm")
    work = WORK / "releases" / "rpm"
    root = unpack_root("bookworm", "clean", work / "root")
    installed = in_root(root, "apt-get update -qq && apt-get install -y -qq python3.11")
    assert installed.returncode == 0, installed.stderr
    rpm = ["rpm", "--nodeps", "--dbpath", "/var/lib/rpm"]
    subprocess.run([*rpm, "--root", root, "-i", RPM], check=True, capture_output=True)
    server = root / SERVER.lstrip("/")
    server.parent.mkdir(parents=True)
    shutil.copy(go_new.build(REPO / "examples" / "server", "server"), server)
    try:
        with booted_root(root, work) as machine:
            enable_and_run(machine, root)
            # This host's rpm, entered into the machine's PID and mount namespaces: its
            # scriptlets, chrooted into the root, then run where the machine's PID 1 does
            # (systemctl ignores what a process outside that root asks of the manager).
            erase = [*rpm, "--root", str(root), "-e", "golaunch"]
            enter = ["nsenter", "-t", str(machine.pid), "-m", "-p"]
            erased = subprocess.run([*enter, *erase], capture_output=True, text=True, check=False)
            assert erased.returncode == 0, erased.stderr
            assert_nothing_left(machine, root)
            assert not (root / "usr/lib/golaunch").exists()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("dist", list(RELEASES))
def test_two_builds_of_one_commit_are_identical(dist: str) -> None:
    """Same commit, same release: the same bytes (the date is the commit's, no build
    path or random name is recorded)."""
    built = []
    for attempt in ("a", "b"):
        out = WORK / "reproducible" / attempt
        shutil.rmtree(out, ignore_errors=True)
        run = subprocess.run(
            [REPO / "packaging" / "build-deb.sh", dist, __version__, out],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        built.append((out / dist / deb_of(dist).name).read_bytes())
    assert built[0] == built[1]
