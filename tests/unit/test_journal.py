"""Journal entries: their fields, and routing that never loses a line."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pytest

from golaunch.findings import MESSAGE_IDS, Finding, Severity, failed, passed, warned
from golaunch.systemd.journal import Logger, finding_fields


class Sent:
    def __init__(self, error: Exception | None = None) -> None:
        self.entries: list[Mapping[str, str]] = []
        self.error = error

    def __call__(self, fields: Mapping[str, str]) -> None:
        if self.error:
            raise self.error
        self.entries.append(dict(fields))


def test_fields_of_a_failure() -> None:
    finding = failed("goroot", "GOROOT /x does not exist", GOROOT="/x")
    assert finding_fields(finding, "/opt/app/server") == {
        "MESSAGE": "goroot: GOROOT /x does not exist",
        "PRIORITY": "3",
        "MESSAGE_ID": "7ed6af33f8ff4c51b37ccf7ece4dfba0",
        "SYSLOG_IDENTIFIER": "golaunch",
        "GOLAUNCH_CHECK": "goroot",
        "GOLAUNCH_PROGRAM": "/opt/app/server",
        "GOROOT": "/x",
    }
    assert finding_fields(warned("goroot", "w"), "p")["PRIORITY"] == "4"


def test_message_ids_are_distinct_128_bit_ids() -> None:
    ids = list(MESSAGE_IDS.values())
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 and i == i.lower() for i in ids)


@pytest.mark.parametrize("name", ["GOROOT", "GOLAUNCH_PATH", "GOLAUNCH_GO_VERSION", "ERRNO"])
def test_field_names_are_valid_journal_names(name: str) -> None:
    fields = finding_fields(failed("exec", "m", **{name: "v"}), "p")
    assert all(
        k.isupper() and not k.startswith("_") and k.replace("_", "").isalnum() for k in fields
    )


FAIL = finding_fields(failed("gocache", "no cache"), "/p")


@pytest.mark.parametrize(
    ("target", "present", "stderr_journal", "sent", "line"),
    [
        ("auto", True, True, 1, ""),  # journal only: stderr would duplicate it
        ("auto", True, False, 1, "golaunch: gocache: no cache\n"),  # a terminal sees it too
        ("auto", False, False, 0, "golaunch: gocache: no cache\n"),  # no journald at all
        ("auto", False, True, 0, "<3>golaunch: gocache: no cache\n"),  # priority kept on the stream
        ("journal", True, True, 1, ""),
        ("stderr", True, True, 0, "<3>golaunch: gocache: no cache\n"),
    ],
)
def test_routing(target: str, present: bool, stderr_journal: bool, sent: int, line: str) -> None:
    journal, stderr = Sent(), io.StringIO()
    Logger(target, journal, stderr, stderr_journal, present).log(FAIL)
    assert len(journal.entries) == sent
    assert stderr.getvalue() == line


@pytest.mark.parametrize(
    "error", [OSError(11, "Resource temporarily unavailable"), OSError(111, "Connection refused")]
)
def test_a_failed_send_falls_back_to_stderr(error: OSError) -> None:
    stderr = io.StringIO()
    Logger("journal", Sent(error), stderr, True, True).log(FAIL)
    assert stderr.getvalue().startswith("<3>golaunch: gocache: no cache (journal unavailable:")


def test_journal_target_without_a_socket_still_reaches_stderr() -> None:
    """sd_journal_sendv would report success here (it ignores ENOENT): the line must not vanish."""
    journal, stderr = Sent(), io.StringIO()
    Logger("journal", journal, stderr, False, False).log(FAIL)
    assert journal.entries == []
    assert stderr.getvalue() == (
        "golaunch: gocache: no cache (journal unavailable: no /run/systemd/journal/socket)\n"
    )


def test_after_one_failed_send_the_journal_is_not_tried_again() -> None:
    journal, stderr = Sent(OSError(110, "timed out")), io.StringIO()
    logger = Logger("auto", journal, stderr, True, True)
    logger.log(FAIL)
    journal.error = None
    logger.log(FAIL)
    assert journal.entries == []
    assert stderr.getvalue().count("(journal unavailable: timed out)") == 2


def test_passes_are_not_reportable() -> None:
    assert not passed("goroot", "ok").journaled
    assert Finding("x", Severity.SKIP, "s").message_id is None


def test_the_send_deadline_leaves_an_inherited_timer_running() -> None:
    """A timer armed before golaunch ran (it survives execve) keeps its remaining time."""
    import signal

    from golaunch.systemd.journal import _Alarm

    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        _Alarm(1.0).stop()
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 29 < left <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
