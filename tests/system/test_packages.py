"""The .deb installed on this machine and the .rpm unpacked, run for real (root only)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from golaunch import __version__
from tests.helpers.paths import REPO
from tests.helpers.toolchain import Toolchain
from tests.system.conftest import WORK, Machine, free_port, http_get, make, wait_until

# Installed on this host: its own systemd sees it (tests/system/test_releases.py has
# each release's package under that release's systemd).
pytestmark = pytest.mark.host_systemd

PACKAGES = REPO / "build" / "packages"


def host_release() -> str:
    """This machine's Debian release, which plain `make deb` builds for."""
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"')
    raise AssertionError("/etc/os-release names no VERSION_CODENAME")


DEB = PACKAGES / host_release() / f"golaunch_{__version__}_amd64.deb"
RPM = PACKAGES / f"golaunch-{__version__}-1.x86_64.rpm"
INSTALLED = (
    "/usr/bin/golaunch",
    "/usr/lib/golaunch",
    "/usr/lib/systemd/system/golaunch@.service",
    "/usr/lib/systemd/system/golaunch-check.service",
    "/usr/lib/systemd/system/golaunch-check.timer",
    "/usr/lib/systemd/system/golaunch-refresh@.service",
    "/usr/lib/systemd/catalog/golaunch.catalog",
    "/usr/share/golaunch/prometheus/golaunch.rules.yml",
    "/usr/share/golaunch/alertmanager/golaunch.yml",
    "/usr/share/man/man1/golaunch.1.gz",
    "/usr/share/man/man5/golaunch.toml.5.gz",
    "/etc/golaunch/example.toml",
)


def check(command: list[str | Path], go_server: Path, cache: Path) -> str:
    """COMMAND --check on the Go server with private caches; its report, which must pass."""
    caches = ["--gocache", f"{cache}/c", "--gomodcache", f"{cache}/m"]
    run = subprocess.run(
        [*command, "--check", *caches, "--", str(go_server)],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def dpkg_status() -> str:
    run = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", "golaunch"],
        capture_output=True,
        text=True,
        check=False,
    )
    return run.stdout


@pytest.fixture(scope="module")
def installed() -> Iterator[Path]:
    """`make deb` (lintian-clean), then dpkg -i; purged afterwards whatever happens."""
    if dpkg_status().startswith("install ok"):
        pytest.skip("a golaunch package is already installed on this machine; not touching it")
    make("deb")
    subprocess.run(["dpkg", "-i", str(DEB)], check=True, capture_output=True)
    try:
        yield Path("/usr/bin/golaunch")
    finally:
        subprocess.run(["dpkg", "--purge", "golaunch"], check=False, capture_output=True)


def test_installed_golaunch_checks_a_go_program(
    installed: Path, go_server: Path, tmp_path: Path
) -> None:
    version = subprocess.run([installed, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout == f"golaunch {__version__}\n"
    report = check([installed], go_server, tmp_path)
    assert f"pass  program      {go_server}: ELF 64-bit" in report
    # The wrapper runs Debian's interpreter in isolated mode from the private environment.
    launcher = "from golaunch.__main__ import main; main()"
    assert installed.read_text().endswith(
        f"exec /usr/lib/golaunch/bin/python -I -B -c '{launcher}' \"$@\"\n"
    )
    assert Path("/usr/lib/golaunch/bin/python").resolve() == Path("/usr/bin/python3.11").resolve()


def test_installed_golaunch_writes_no_bytecode(
    installed: Path, go_server: Path, tmp_path: Path
) -> None:
    """postinst compiled every module (the package ships no bytecode), and starts (cold,
    warm, --check) write nothing under /usr, which ProtectSystem=strict makes read-only."""
    root = Path("/usr/lib/golaunch")
    sources = {p for p in root.rglob("*.py") if "golaunch" in p.parts[4:]}
    assert sources, "no golaunch sources under /usr/lib/golaunch"
    for source in sources:
        assert list(source.parent.glob(f"__pycache__/{source.stem}.cpython-311*.pyc")), source
    marker = tmp_path / "before"
    marker.touch()
    time.sleep(0.01)
    env = {"PATH": "/usr/bin:/bin", "CACHE_DIRECTORY": str(tmp_path), "LANG": "C.UTF-8"}
    argv = [str(installed), "--notify", "none", "--", "/bin/true"]
    for command in ([str(installed), "--check", "--", str(go_server)], argv, argv, argv):
        subprocess.run(command, env=env, capture_output=True, timeout=60, check=False)
    written = subprocess.run(
        ["find", "/usr/lib/golaunch", "-newer", str(marker)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert written.stdout == ""
    assert list((tmp_path / "golaunch").glob("*.plan")), "the starts did not even run"


def test_installed_golaunch_ignores_python_variables(installed: Path, tmp_path: Path) -> None:
    """The unit's environment cannot change what golaunch's own interpreter imports."""
    evil = tmp_path / "evil"
    marker = tmp_path / "imported"
    (evil / "golaunch").mkdir(parents=True)
    for module in ("golaunch/__init__.py", "sitecustomize.py", "usercustomize.py", "startup.py"):
        (evil / module).write_text(f"open({str(marker)!r}, 'a').write({module!r})\n")
    python_variables = {
        "PYTHONPATH": str(evil),
        "PYTHONHOME": str(evil),  # would break start-up if it were honoured
        "PYTHONSTARTUP": str(evil / "startup.py"),
        "PYTHONINSPECT": "1",  # would leave an interactive prompt after the run
        "PYTHONUSERBASE": str(evil),
    }
    run = subprocess.run(
        [installed, "--version"],
        env={"PATH": "/usr/bin:/bin", **python_variables},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, f"golaunch {__version__}\n", "")
    assert not marker.exists()


def test_installed_units_verify_and_manuals_render(installed: Path) -> None:
    verify = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", "golaunch@demo.service"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (verify.returncode, verify.stdout + verify.stderr) == (0, "")
    for page, title in (
        ("man1/golaunch.1.gz", "GOLAUNCH(1)"),
        ("man5/golaunch.toml.5.gz", "GOLAUNCH.TOML(5)"),
    ):
        man = subprocess.run(
            ["man", "-l", f"/usr/share/man/{page}"],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "MANWIDTH": "80", "LANG": "C.UTF-8"},
            check=False,
        )
        assert man.returncode == 0 and man.stderr == "", man.stderr
        assert man.stdout.lstrip().startswith(title)


def use_packaged_template(machine: Machine) -> None:
    """Forget the development copy of golaunch@.service that other tests put in /run."""
    shutil.rmtree(machine.root / "run/systemd/system/golaunch@.service.d", ignore_errors=True)
    (machine.root / "run/systemd/system/golaunch@.service").unlink(missing_ok=True)
    machine.run("systemctl", "daemon-reload")
    fragment = machine.show("golaunch@x.service")["FragmentPath"]
    assert fragment in (
        "/usr/lib/systemd/system/golaunch@.service",
        "/lib/systemd/system/golaunch@.service",
    )


def test_packaged_template_runs_a_service(
    installed: Path, machine: Machine, go_server: Path
) -> None:
    use_packaged_template(machine)
    # Inside the namespace's private /usr/local: the packaged unit's ProtectHome=
    # hides this tree when it lives in a home directory.
    server = "/usr/local/libexec/golaunch-test/server"
    (machine.root / server.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(go_server, machine.root / server.lstrip("/"))
    program = Path(server)
    port = free_port()
    machine.write(
        "/etc/golaunch/pkg.toml",
        f'program = "{program}"\nargs = ["-listen", "127.0.0.1:{port}"]\n',
    )
    machine.start_ok("golaunch@pkg.service")
    props = machine.show("golaunch@pkg.service")
    assert props["ExecStart"].startswith("{ path=/usr/bin/golaunch ")
    assert int(http_get(port, "/pid")) == int(props["MainPID"])
    assert props["StatusText"] == f"golaunch: checks passed, running {program}"
    machine.run("systemctl", "stop", "golaunch@pkg.service")


def test_packaged_template_fails_a_check_with_78(installed: Path, machine: Machine) -> None:
    use_packaged_template(machine)
    machine.run("journalctl", "--update-catalog")  # the namespace's own catalog database
    machine.write("/etc/golaunch/broken.toml", 'program = "/nonexistent/server"\n')
    assert machine.start("golaunch@broken.service").returncode != 0
    wait_until(
        "the unit to fail",
        lambda: machine.show("golaunch@broken.service")["ActiveState"] == "failed",
    )
    props = machine.show("golaunch@broken.service")
    assert (props["ExecMainStatus"], props["NRestarts"]) == ("78", "0")
    (entry,) = machine.journal("-u", "golaunch@broken.service", "GOLAUNCH_CHECK=program")
    assert entry["MESSAGE_ID"] == "689205bc38bc45628c05b009b0136b13"
    explained = machine.journal_text(
        "-x", "-u", "golaunch@broken.service", "GOLAUNCH_CHECK=program"
    )
    assert "Subject: The program /nonexistent/server cannot be executed" in explained


@pytest.mark.usefixtures("system_bus")
def test_packaged_checker_writes_metrics_and_its_timer_stays_off(
    installed: Path, machine: Machine
) -> None:
    """golaunch-check.service as shipped (hardened, the packaged venv with jeepney and
    prometheus_client), its output moved as the unit's comment says."""
    from prometheus_client.parser import text_string_to_metric_families

    output = "/run/golaunch-check.prom"
    machine.write("/etc/default/golaunch-check", f"GOLAUNCH_CHECK_OUTPUT={output}\n")
    machine.run("systemctl", "daemon-reload")
    assert machine.run("systemctl", "is-enabled", "golaunch-check.timer", check=False).stdout == (
        "disabled\n"
    )
    machine.start_ok("golaunch-check.service")
    assert machine.show("golaunch-check.service")["Result"] == "success"
    text = (machine.root / output.lstrip("/")).read_text()
    families = list(text_string_to_metric_families(text))
    names = {family.name for family in families}
    assert {"golaunch_build_info", "golaunch_check_timestamp_seconds"} <= names
    # It launches nothing, so it is no unit to judge: no permanent false alarm about itself.
    units = {s.labels.get("unit") for family in families for s in family.samples}
    assert "golaunch-check.service" not in units


def test_purge_leaves_nothing_behind(installed: Path) -> None:
    subprocess.run(["dpkg", "--purge", "golaunch"], check=True, capture_output=True)
    left = [path for path in INSTALLED if Path(path).exists()]
    assert left == [], left
    assert not Path("/etc/golaunch").exists()
    assert dpkg_status() == ""


def test_rpm_unpacked_runs_against_a_go_program(go_server: Path, go_new: Toolchain) -> None:
    make("rpm")
    root = WORK / "rpm-root"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    payload = subprocess.run(["rpm2cpio", str(RPM)], capture_output=True, check=True).stdout
    subprocess.run(["cpio", "-idm", "--quiet"], input=payload, cwd=root, check=True)
    for path in INSTALLED:
        assert (root / path.lstrip("/").removesuffix(".gz")).exists(), path
    query = subprocess.run(
        ["rpm", "-qp", "--requires", "--configfiles", str(RPM)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "python3.11" in query.stdout.split()
    assert "/etc/golaunch/example.toml" in query.stdout
    python = root / "usr/lib/golaunch/bin/python"
    cache = WORK / "rpm-cache"
    report = check([python, "-I", "-m", "golaunch", "--goroot", go_new.goroot], go_server, cache)
    assert f"pass  goroot       GOROOT {go_new.goroot} ({go_new.version}" in report
    # It imports from the unpacked environment, not from this tree.
    where = subprocess.run(
        [python, "-I", "-c", "import golaunch; print(golaunch.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(root / "usr/lib/golaunch/lib/python3.11/site-packages"))
