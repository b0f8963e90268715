"""Reading the reload metrics of the Prometheus ecosystem, and judging one look at them."""

from __future__ import annotations

import math

import pytest

from golaunch.reload.confirm import judge
from golaunch.reload.metrics import MAX_PAGE, NotMetrics, ReloadState, reload_state
from golaunch.syntax.probeurl import parse_confirm

PROMETHEUS = b"""# HELP prometheus_config_last_reload_successful Whether the last reload succeeded.
# TYPE prometheus_config_last_reload_successful gauge
prometheus_config_last_reload_successful 1
# HELP prometheus_config_last_reload_success_timestamp_seconds Last successful reload.
# TYPE prometheus_config_last_reload_success_timestamp_seconds gauge
prometheus_config_last_reload_success_timestamp_seconds 1.7e+09
# TYPE prometheus_http_requests_total counter
prometheus_http_requests_total{code="200",handler="/metrics"} 42
"""


def test_the_names_come_from_the_page_whatever_the_prefix() -> None:
    state = reload_state(PROMETHEUS)
    assert state == ReloadState(1, 1.7e9, (
        "prometheus_config_last_reload_success_timestamp_seconds",
        "prometheus_config_last_reload_successful",
    ))  # fmt: skip
    other = PROMETHEUS.replace(b"prometheus_config", b"alertmanager_config")
    assert reload_state(other).names[0].startswith("alertmanager_config")


def test_labelled_series_all_must_have_succeeded() -> None:
    page = (
        b'x_config_last_reload_successful{file="a"} 1\n'
        b'x_config_last_reload_successful{file="b"} 0\n'
        b'x_config_last_reload_success_timestamp_seconds{file="a"} 5\n'
        b'x_config_last_reload_success_timestamp_seconds{file="b"} 7\n'
    )
    assert reload_state(page)[:2] == (0, 7)


def test_nan_and_missing_metrics_are_no_answer() -> None:
    nan = reload_state(b"x_config_last_reload_successful NaN\n")
    assert nan.successful is not None and math.isnan(nan.successful) and nan.timestamp is None
    assert reload_state(b"# TYPE up gauge\nup 1\n") == ReloadState(None, None, ())
    assert judge(reload_state(b"up 1\n"), None, 0).done is False


@pytest.mark.parametrize("page", [b"<html><body>Not metrics</body></html>\n", b"{ 'a': 1 }"])
def test_a_page_that_is_not_metrics(page: bytes) -> None:
    with pytest.raises(NotMetrics):
        reload_state(page)


def test_a_huge_page_is_not_read() -> None:
    with pytest.raises(NotMetrics, match="larger than"):
        reload_state(b"#" * (MAX_PAGE + 1))


def state(successful: float, timestamp: float) -> ReloadState:
    return ReloadState(successful, timestamp, ("p_config_last_reload_successful",))


@pytest.mark.parametrize(
    ("before", "after", "sent_at", "done", "rejected"),
    [
        (state(1, 100), state(1, 100), 150.2, False, False),  # not yet
        (state(1, 100), state(1, 150), 150.7, True, False),  # whole seconds: same second
        (state(1, 100), state(0, 100), 150.0, False, True),  # rejected
        # A 0 from an earlier failed reload says nothing about this one.
        (state(0, 100), state(0, 100), 150.0, False, False),
        (state(0, 100), state(1, 151), 150.0, True, False),
        (None, state(1, 149), 150.0, False, False),  # older than the signal
    ],
)
def test_judging_one_look(
    before: ReloadState | None, after: ReloadState, sent_at: float, done: bool, rejected: bool
) -> None:
    look = judge(after, before, sent_at)
    assert (look.done, look.rejected is not None) == (done, rejected)


@pytest.mark.parametrize(
    ("what", "scheme"), [("metrics:http://127.0.0.1:9090/metrics", "http"), ("tcp://h:1", "tcp")]
)
def test_what_confirms(what: str, scheme: str) -> None:
    assert parse_confirm(what).scheme == scheme


@pytest.mark.parametrize("what", ["metrics:tcp://h:1", "metrics:", "metrics:http://u:p@h/"])
def test_what_cannot_confirm(what: str) -> None:
    with pytest.raises(ValueError):
        parse_confirm(what)
