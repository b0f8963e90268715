"""golaunch.launch.plan's key and file format: what makes two starts the same start, and
a file that is read back exactly or not at all. The starts themselves are in
tests/integration/test_warm_start.py and test_hostile_plans.py."""

from __future__ import annotations

import pytest

from golaunch.config.plain import PlainConfig, read_plain_config
from golaunch.launch.keeper import encode
from golaunch.launch.plan import Plan, decode, plan_key

PID = 100
ARGV = ["--", "/bin/true"]


def key(**environ: str) -> str:
    plain = read_plain_config(ARGV, {"PATH": "/bin"})
    assert isinstance(plain, PlainConfig)
    return plan_key(ARGV, {"PATH": "/bin", **environ}, plain, PID, "unit")


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ({"INVOCATION_ID": "a" * 32}, {"INVOCATION_ID": "b" * 32}, True),
        ({"INVOCATION_ID": "a" * 32}, {"INVOCATION_ID": "a" * 33}, False),  # exec counts bytes
        ({"JOURNAL_STREAM": "8:123"}, {"JOURNAL_STREAM": "9:456"}, True),
        ({"SYSTEMD_EXEC_PID": "100"}, {"SYSTEMD_EXEC_PID": "100"}, True),
        ({"WATCHDOG_PID": "100"}, {"WATCHDOG_PID": "0144"}, False),  # both this process, longer
        ({"WATCHDOG_PID": "0144"}, {"WATCHDOG_PID": "0x64"}, True),  # this process, 4 bytes each
        ({"WATCHDOG_PID": "101"}, {"WATCHDOG_PID": "100"}, False),  # another process, or this
        ({"LISTEN_PID": "99"}, {"LISTEN_PID": "98"}, False),  # others are kept as written
        ({"APP": "1"}, {"APP": "2"}, False),
        ({}, {"GOLAUNCH_GO__VERSION": "1.22"}, False),
    ],
)
def test_what_makes_two_starts_one(one: dict[str, str], other: dict[str, str], same: bool) -> None:
    assert (key(**one) == key(**other)) is same


def test_the_configuration_read_is_in_the_key() -> None:
    plain = read_plain_config(ARGV, {"PATH": "/bin"})
    other = read_plain_config(["--keep-env", "X", *ARGV], {"PATH": "/bin"})
    assert plain is not None and other is not None
    assert plan_key(ARGV, {}, plain, PID, "unit") != plan_key(ARGV, {}, other, PID, "unit")


def test_a_plan_reads_back_as_written() -> None:
    written = Plan(
        key="k" * 64,
        launch="l" * 64,
        answers="a" * 64,
        entries=[{"MESSAGE": "config: a warning", "PRIORITY": "4"}, {}],
        calls=[("stat", ("/usr/lib/é", True)), ("open", ("/x", 0)), ("getpid", ()),
               ("fact:space_shortage", ("/var/cache", 64)), ("sysconf", ("SC_ARG_MAX",))],
    )  # fmt: skip
    data = encode(written)
    assert data is not None
    read = decode(data)
    assert read is not None
    assert (read.key, read.launch, read.answers, read.entries, read.calls) == (
        written.key, written.launch, written.answers, written.entries, written.calls,
    )  # fmt: skip


def test_a_string_with_a_nul_is_never_written() -> None:
    found = Plan("k", "l", "a", [{"MESSAGE": "a\0b"}], [])
    assert encode(found) is None


@pytest.mark.parametrize(
    "entry",
    [{"_PID": "1"}, {"message": "x"}, {"1ABC": "x"}, {"A" * 65: "x"}, {"A-B": "x"}],
    ids=["trusted-field", "lower-case", "digit-first", "too-long", "dash"],
)
def test_an_entry_journald_would_not_take_from_a_client_is_refused(entry: dict[str, str]) -> None:
    data = encode(Plan("k", "l", "a", [entry], []))
    assert data is not None and decode(data) is None


def test_a_unit_and_a_shell_never_share_a_plan() -> None:
    """Where golaunch runs decides advice and questions (golaunch.host.surroundings)."""
    plain = read_plain_config(ARGV, {"PATH": "/bin"})
    assert isinstance(plain, PlainConfig)
    assert plan_key(ARGV, {}, plain, PID, "unit") != plan_key(ARGV, {}, plain, PID, "shell")
