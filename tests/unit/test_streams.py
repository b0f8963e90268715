"""Journal stream attachment, below systemd; tests/system proves it with journald."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from golaunch.systemd import streams
from golaunch.systemd.journal import journal_stream_fds
from golaunch.systemd.manager import OwnUnit, own_unit
from golaunch.systemd.streams import StreamSettings


def test_header_is_the_seven_lines_of_the_stream_protocol() -> None:
    settings = StreamSettings(priority=27, level_prefix=False, forward_to_console=True)
    assert settings.header("server") == b"server\n\n27\n0\n0\n0\n1\n"


def test_journal_fds_are_those_matching_journal_stream(tmp_path: Path) -> None:
    info = os.fstat(2)
    assert 2 in journal_stream_fds({"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"})
    assert journal_stream_fds({"JOURNAL_STREAM": "1:2"}) == ()
    assert journal_stream_fds({"JOURNAL_STREAM": "garbage"}) == ()
    assert journal_stream_fds({}) == ()


@pytest.mark.parametrize(
    ("cgroup", "unit"),
    [
        ("0::/system.slice/app.service\n", OwnUnit("app.service", None)),
        (
            "12:pids:/system.slice/x.service\n1:name=systemd:/system.slice/golaunch@a.service\n"
            "0::/system.slice/golaunch@a.service\n",
            OwnUnit("golaunch@a.service", None),
        ),
        # A systemctl --user service: its manager is user@1000.service, not PID 1.
        (
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/web.service\n",
            OwnUnit("web.service", 1000),
        ),
        ("0::/system.slice/user@1000.service\n", OwnUnit("user@1000.service", None)),
        # Delegate=yes lets a unit make sub-cgroups, named other.service too: the unit is
        # still the first service below the slices (issue 31).
        ("0::/system.slice/app.service/payload/other.service\n", OwnUnit("app.service", None)),
        (
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/web.service/x.service\n",
            OwnUnit("web.service", 1000),
        ),
        (
            "0::/user.slice/user-1000.slice/user@1000.service/init.scope\n",
            OwnUnit("user@1000.service", None),
        ),
        ("0::/user.slice/user-0.slice/session-1.scope\n", None),
        ("nonsense\n", None),
    ],
)
def test_own_unit_from_cgroup(tmp_path: Path, cgroup: str, unit: OwnUnit | None) -> None:
    (tmp_path / "cgroup").write_text(cgroup)
    assert own_unit(str(tmp_path / "cgroup")) == unit


def test_unit_settings_come_from_journald_state_files(tmp_path: Path) -> None:
    (tmp_path / "9:1").write_text(
        "# This is private data. Do not parse\nPRIORITY=27\nLEVEL_PREFIX=0\n"
        "FORWARD_TO_SYSLOG=1\nFORWARD_TO_KMSG=0\nFORWARD_TO_CONSOLE=0\n"
        "IDENTIFIER=golaunch\nUNIT=app.service\n"
    )
    (tmp_path / "9:2").write_text("PRIORITY=3\nIDENTIFIER=other\nUNIT=other.service\n")
    settings = streams.unit_stream_settings("app.service", str(tmp_path))
    assert settings == StreamSettings(priority=27, level_prefix=False, forward_to_syslog=True)
    assert streams.unit_stream_settings("other.service", str(tmp_path)).identifier == "other"


def test_unreadable_or_ambiguous_state_means_defaults(tmp_path: Path) -> None:
    assert streams.unit_stream_settings("app.service", str(tmp_path / "missing")) == (
        StreamSettings()
    )
    (tmp_path / "a").write_text("PRIORITY=27\nUNIT=app.service\n")
    (tmp_path / "b").write_text("PRIORITY=30\nUNIT=app.service\n")
    (tmp_path / "c").write_text("PRIORITY=junk\nLEVEL_PREFIX=maybe\nUNIT=odd.service\n")
    assert streams.unit_stream_settings("app.service", str(tmp_path)) == StreamSettings()
    assert streams.unit_stream_settings("odd.service", str(tmp_path)) == StreamSettings()


def test_open_stream_sends_the_header_then_carries_output(tmp_path: Path) -> None:
    path = str(tmp_path / "stdout")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        fd = streams.open_stream("server", StreamSettings(), path)
        os.write(fd, b"hello\n")
        os.close(fd)
        peer, _ = server.accept()
        with peer:
            received = b""
            while chunk := peer.recv(4096):
                received += chunk
    assert received == b"server\n\n30\n1\n0\n0\n0\nhello\n"


def test_open_stream_without_journald_raises(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        streams.open_stream("server", StreamSettings(), str(tmp_path / "absent"))


def test_nothing_changes_when_fds_are_not_the_journal() -> None:
    assert streams.attach_program_streams("server", {"JOURNAL_STREAM": "1:2"}) is None
