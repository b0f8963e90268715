"""WatchdogSec= needs someone to ping, and WATCHDOG_USEC must be a number systemd could
have written (sd_watchdog_enabled(3)): both refused with the variable and the fix named."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from golaunch.checks import config as config_check
from golaunch.config.schema import Config, NotifyConfig
from golaunch.findings import Severity
from golaunch.host.context import build_context
from golaunch.systemd.notify import USEC_INFINITY, watchdog_usec


def verdicts(notify: NotifyConfig, inherited: dict[str, str]) -> list[tuple[Severity, str]]:
    ctx = build_context(Config(program="/bin/true", notify=notify), inherited)
    return [(f.severity, f.message) for f in config_check.check(ctx)]


SYSTEMD = {"NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "2000000"}


@pytest.mark.parametrize("mode", ["ready", "none", "auto"])
def test_watchdog_sec_without_anyone_to_ping_is_refused(mode: str) -> None:
    notify = NotifyConfig(mode=mode)  # type: ignore[arg-type]
    ((severity, message),) = verdicts(notify, {**SYSTEMD, "WATCHDOG_PID": str(os.getpid())})
    assert severity is Severity.FAIL
    assert "--watchdog" in message and "--notify passthrough" in message and "2 s" in message


@pytest.mark.parametrize(
    "notify",
    [NotifyConfig(mode="passthrough"), NotifyConfig(probe="tcp://127.0.0.1:9", watchdog=True)],
)
def test_someone_pings(notify: NotifyConfig) -> None:
    assert verdicts(notify, SYSTEMD) == []


def test_a_watchdog_meant_for_another_process_is_not_ours() -> None:
    assert verdicts(NotifyConfig(), {**SYSTEMD, "WATCHDOG_PID": str(os.getpid() + 1)}) == []


@pytest.mark.parametrize("value", ["0", "ten", "", "-1", "1e6", " 5", str(USEC_INFINITY), "٣"])
def test_a_watchdog_usec_systemd_could_not_have_written_is_refused(value: str) -> None:
    notify = NotifyConfig(probe="tcp://127.0.0.1:9", watchdog=True)
    ((severity, message),) = verdicts(notify, {**SYSTEMD, "WATCHDOG_USEC": value})
    assert severity is Severity.FAIL and message.startswith(f"WATCHDOG_USEC={value!r}")


@given(st.text(max_size=24))
def test_watchdog_usec_is_a_positive_count_or_refused(value: str) -> None:
    try:
        usec = watchdog_usec({"WATCHDOG_USEC": value}, 1)
    except ValueError as e:
        assert "WATCHDOG_USEC" in str(e)
        return
    assert usec is not None and str(usec) == value and 0 < usec < USEC_INFINITY
