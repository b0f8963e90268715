"""The probe and watchdog faults of the hostile review, as golaunch processes: a URL that
validates never ends in exit 70, a password never reaches any output, a bad WATCHDOG_USEC
is 78, and a probe aimed at a socket systemd passed in is warned about."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.paths import BASE_PATH, BUILD, REPO
from tests.helpers.process import NotifyListener, run_golaunch

HOME = {"HOME": str(BUILD / "home")}


@pytest.fixture
def listener(tmp_path: Path) -> NotifyListener:
    path = str(tmp_path / "notify.sock")
    return NotifyListener(path, path)


@pytest.mark.parametrize(
    "url",
    [
        "tcp://a..b:80",
        f"tcp://{'x' * 64}.example:80",
        "http://host/städte",
        "tcp://[::1]:0",
        "http://h/a b",
    ],
)
def test_a_probe_that_would_crash_is_78_at_check_and_at_launch(
    url: str, listener: NotifyListener
) -> None:
    checked = run_golaunch("--check", "--wait-for", url, "--", "/bin/true", env=HOME)
    assert checked.returncode == 78 and "wait.probes" in checked.stdout + checked.stderr
    env = {**HOME, "NOTIFY_SOCKET": listener.address}
    for option in ("--wait-for", "--ready-probe"):
        launched = run_golaunch(option, url, "--", "/bin/true", env=env)
        assert launched.returncode == 78, launched.stderr
        assert "Traceback" not in launched.stderr


def test_a_password_in_a_probe_url_reaches_no_output(listener: NotifyListener) -> None:
    url = "http://probe:S3cr3t@127.0.0.1:9/health"
    outputs = [
        run_golaunch("--check", "--ready-probe", url, "--", "/bin/true", env=HOME),
        run_golaunch("--check", "--json", "--wait-for", url, "--", "/bin/true", env=HOME),
        run_golaunch(
            "--ready-probe", url, "--", "/bin/true", env={**HOME, "NOTIFY_SOCKET": listener.address}
        ),
    ]
    assert [o.returncode for o in outputs] == [78, 78, 78]
    shown = "".join(o.stdout + o.stderr for o in outputs) + "".join(listener.messages())
    assert "carries a user or password" in shown and "S3cr3t" not in shown


@pytest.mark.parametrize("value", ["0", "ten", "-5"])
def test_a_bad_watchdog_usec_is_78_naming_it(value: str, listener: NotifyListener) -> None:
    env = {**HOME, "NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": value}
    run = run_golaunch("--ready-probe", "tcp://127.0.0.1:9", "--watchdog", "--", "/bin/true",
                       env=env)  # fmt: skip
    assert run.returncode == 78 and f"WATCHDOG_USEC={value!r}" in run.stderr, run.stderr


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None, reason="no systemd")
def test_a_probe_at_a_socket_systemd_passed_in_is_warned_about(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    activator = subprocess.Popen(
        ["systemd-socket-activate", "-l", f"127.0.0.1:{port}", "-E", f"PATH={BASE_PATH}",
         "-E", f"HOME={HOME['HOME']}", "-E", f"PYTHONPATH={REPO}",
         sys.executable, "-m", "golaunch", "--check", "--json",
         "--ready-probe", f"tcp://127.0.0.1:{port}", "--", "/bin/true"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the first connection makes it exec golaunch
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    out, _ = activator.communicate(timeout=30)
    report = json.loads(out)
    warnings = [f["message"] for f in report["findings"] if f["severity"] == "warn"]
    assert any("targets a socket systemd passed in (LISTEN_FDS)" in w for w in warnings)
