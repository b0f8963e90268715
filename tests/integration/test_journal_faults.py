"""The journal socket absent, refusing or full, for real: every entry still reaches stderr.

Each case runs golaunch in a private mount namespace (tests/helpers/namespace.py) with
its own /run/systemd/journal/socket, so libsystemd's sd_journal_sendv meets the
fault itself. Needs root for the mounts.
"""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from golaunch.findings import MESSAGE_IDS, Severity
from golaunch.systemd.journal import JOURNAL_SEND_TIMEOUT, LAUNCH_MESSAGE_ID
from tests.helpers.namespace import run_isolated
from tests.helpers.paths import BASE_PATH, BUILD

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root for a mount namespace"
)

# Two failures: the program is missing, and so is the configured GOROOT.
FAILING = [sys.executable, "-m", "golaunch", "--", "/nonexistent/server"]
ENV = {"PATH": BASE_PATH, "HOME": str(BUILD / "home"), "GOLAUNCH_GO__GOROOT": "/nonexistent"}
LINES = (
    "golaunch: program: /nonexistent/server does not exist",
    "golaunch: goroot: GOROOT /nonexistent (from go.goroot) does not exist",
)


def test_a_reading_journal_gets_every_entry_with_its_fields() -> None:
    result = run_isolated(FAILING, {**ENV, "GOLAUNCH_LOG__TARGET": "journal"}, "reading")
    assert result.returncode == 78
    assert result.stderr == ""
    assert [e["GOLAUNCH_CHECK"] for e in result.entries] == ["program", "goroot"]
    program, goroot = result.entries
    assert program["MESSAGE_ID"] == MESSAGE_IDS["program", Severity.FAIL]
    assert (
        goroot["MESSAGE_ID"] == MESSAGE_IDS["goroot", Severity.FAIL]
        and goroot["GOROOT"] == "/nonexistent"
    )
    assert {e["PRIORITY"] for e in result.entries} == {"3"}
    assert {e["SYSLOG_IDENTIFIER"] for e in result.entries} == {"golaunch"}


@pytest.mark.parametrize(
    ("journal", "reason"),
    [
        ("absent", "no /run/systemd/journal/socket"),
        ("refusing", "Connection refused"),
        ("full", f"journald took no entry for {JOURNAL_SEND_TIMEOUT:g} s (socket full)"),
    ],
)
@pytest.mark.parametrize("target", ["journal", "auto"])
def test_entries_the_journal_cannot_take_reach_stderr(
    journal: str, reason: str, target: str
) -> None:
    result = run_isolated(FAILING, {**ENV, "GOLAUNCH_LOG__TARGET": target}, journal)
    assert result.returncode == 78
    lines = result.stderr.splitlines()
    if target == "auto" and journal == "absent":
        assert lines == list(LINES)  # no journald at all: plain stderr, nothing to explain
    else:
        assert lines == [f"{line} (journal unavailable: {reason})" for line in LINES]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("journal", ["reading", "full"])
def test_the_send_deadline_does_not_outlive_execve(journal: str) -> None:
    """Interval timers and pending signals survive execve(2): a SIGALRM left armed by a
    quick send would kill the program a second later. It sleeps past the deadline."""
    script = "sleep 1.5; grep -E '^(SigPnd|ShdPnd)' /proc/self/status"
    argv = [sys.executable, "-m", "golaunch", "--", "/bin/sh", "-c", script]
    env = {"PATH": BASE_PATH, "HOME": str(BUILD / "home"), "GOLAUNCH_LOG__TARGET": "journal"}
    result = run_isolated(argv, env, journal)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["SigPnd:", "0000000000000000", "ShdPnd:", "0000000000000000"]
    if journal == "full":
        assert result.stderr.startswith("golaunch: launching /bin/sh as PID")
        assert result.stderr.endswith(
            "(journal unavailable: journald took no entry for "
            f"{JOURNAL_SEND_TIMEOUT:g} s (socket full))\n"
        )
    else:
        assert result.stderr == ""
        assert [e["MESSAGE_ID"] for e in result.entries] == [LAUNCH_MESSAGE_ID]
