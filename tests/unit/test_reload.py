"""Reading the reload metrics of the Prometheus ecosystem, judging one look at them, and the
rest of --reload that needs no process: its budget, the signal names, the status line."""

from __future__ import annotations

import math

import pytest

from golaunch.reload.confirm import look_at
from golaunch.reload.metrics import MAX_PAGE, Ambiguous, NotMetrics, ReloadState, reload_state
from golaunch.reload.run import reload_budget
from golaunch.status import ExitStatus
from golaunch.syntax.probeurl import parse_confirm, split_component

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
    ), "prometheus")  # fmt: skip
    other = PROMETHEUS.replace(b"prometheus_config", b"alertmanager_config")
    assert reload_state(other).names[0].startswith("alertmanager_config")


SIDECAR = b"""sidecar_config_last_reload_successful 1
sidecar_config_last_reload_success_timestamp_seconds 2e+09
"""


def test_another_components_metrics_never_confirm() -> None:
    """A sidecar's pair on the same page confirmed a reload the program ignored (item 7):
    with several components the page must say which, and then only its series count."""
    page = PROMETHEUS.replace(b"_successful 1", b"_successful 0") + SIDECAR
    with pytest.raises(Ambiguous, match=r"prometheus, sidecar.*metrics:URL#COMPONENT"):
        reload_state(page)
    chosen = reload_state(page, "prometheus")
    assert (chosen.successful, chosen.timestamp, chosen.component) == (0, 1.7e9, "prometheus")
    with pytest.raises(Ambiguous, match="no alertmanager_config_last_reload"):
        reload_state(page, "alertmanager")


def test_labelled_series_all_must_have_succeeded() -> None:
    page = (
        b'x_config_last_reload_successful{file="a"} 1\n'
        b'x_config_last_reload_successful{file="b"} 0\n'
        b'x_config_last_reload_success_timestamp_seconds{file="a"} 5\n'
        b'x_config_last_reload_success_timestamp_seconds{file="b"} 7\n'
    )
    assert reload_state(page)[:2] == (0, 7)


@pytest.mark.parametrize(
    ("what", "component"),
    [("metrics:http://h:1/m", None), ("metrics:http://h:1/m#prometheus", "prometheus")],
)
def test_the_component_is_the_urls_fragment(what: str, component: str | None) -> None:
    assert split_component(what) == ("http://h:1/m", component)
    assert parse_confirm(what).url == "http://h:1/m"  # the fragment is never sent


def test_nan_and_missing_metrics_are_no_answer() -> None:
    nan = reload_state(b"x_config_last_reload_successful NaN\n")
    assert nan.successful is not None and math.isnan(nan.successful) and nan.timestamp is None
    assert reload_state(b"# TYPE up gauge\nup 1\n") == ReloadState(None, None, (), "")
    assert look_at(reload_state(b"up 1\n"), None, 0).done is False


@pytest.mark.parametrize("page", [b"<html><body>Not metrics</body></html>\n", b"{ 'a': 1 }"])
def test_a_page_that_is_not_metrics(page: bytes) -> None:
    with pytest.raises(NotMetrics):
        reload_state(page)


def test_a_huge_page_is_not_read() -> None:
    with pytest.raises(NotMetrics, match="larger than"):
        reload_state(b"#" * (MAX_PAGE + 1))


def state(successful: float, timestamp: float) -> ReloadState:
    return ReloadState(successful, timestamp, ("p_config_last_reload_successful",), "p")


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
        # Nothing read before the signal (the scrape failed): a 0 may be an earlier
        # reload's, never this one's rejection (item 6).
        (None, state(0, 100), 150.0, False, False),
        (None, state(1, 151), 150.0, True, False),
    ],
)
def test_judging_one_look(
    before: ReloadState | None, after: ReloadState, sent_at: float, done: bool, rejected: bool
) -> None:
    look = look_at(after, before, sent_at)
    rejection = look.verdict is not None and look.verdict.status == ExitStatus.DATAERR
    assert (look.done, rejection) == (done, rejected)


@pytest.mark.parametrize(
    ("what", "scheme"), [("metrics:http://127.0.0.1:9090/metrics", "http"), ("tcp://h:1", "tcp")]
)
def test_what_confirms(what: str, scheme: str) -> None:
    assert parse_confirm(what).scheme == scheme


@pytest.mark.parametrize("what", ["metrics:tcp://h:1", "metrics:", "metrics:http://u:p@h/"])
def test_what_cannot_confirm(what: str) -> None:
    with pytest.raises(ValueError):
        parse_confirm(what)


@pytest.mark.parametrize(
    ("configured", "unit", "seconds", "bounded"),
    [
        (90, 90.0, 88.0, True),  # the defaults: golaunch answers 2 s before systemd gives up
        (90, 30.0, 28.0, True),  # golaunch@.service's TimeoutStartSec=30s
        (10, 30.0, 10.0, False),
        (90, 5.0, 4.0, True),  # a fifth of a short timeout is left for golaunch's report
        (90, 0.0, 90.0, False),  # TimeoutStartSec=infinity: reload.timeout alone
        (90, None, 88.0, True),  # the manager could not be asked: systemd's default
    ],
)
def test_the_reload_answers_before_systemds_timeout(
    configured: float, unit: float | None, seconds: float, bounded: bool
) -> None:
    """--reload-timeout 90 equalled systemd's own default, so systemd killed golaunch first,
    with no reload entry (item 5)."""
    budget, note = reload_budget(configured, unit)
    assert budget == seconds and bool(note) is bounded


@pytest.mark.parametrize(
    "name", ["_DFL", "_IGN", "_BLOCK", "_UNBLOCK", "_SETMASK", "hup", "SIGHUP"]
)
def test_only_a_signals_name_is_one(name: str) -> None:
    """_DFL passed as hasattr(signal, "SIG_DFL"), then signal.Signals failed: exit 70."""
    from golaunch.config.rules import semantic_problems
    from golaunch.config.schema import Config, ReloadConfig

    problems = semantic_problems(Config(program="/bin/true", reload=ReloadConfig(signal=name)))
    assert [loc for loc, _ in problems] == [("reload", "signal")]


@pytest.mark.parametrize(
    ("line", "below", "verdict"),
    [
        (b"HTTP/1.1 200 OK\r\n", 400, None),
        (b"HTTP/1.1 200\r\n", 400, None),
        (b"HTTP/1.1 2000 OK\r\n", 400, "not HTTP"),
        (b"HTTP/1.1 20 OK\r\n", 400, "not HTTP"),
        (b"HTTP/1.1 302 Found\r\n", 400, None),  # a probe: a redirect answers
        (b"HTTP/1.1 302 Found\r\n", 300, "HTTP status 302"),  # a page: its body is not it
        (b"HTTP/1.1 099 Odd\r\n", 400, "HTTP status 99"),
    ],
)
def test_the_status_line(line: bytes, below: int, verdict: str | None) -> None:
    from golaunch.readiness.probes import _status_verdict

    found = _status_verdict(line, below)
    assert found == verdict if verdict is None else (found or "").startswith(verdict)


@pytest.mark.parametrize(
    ("shown", "seconds"),
    [("4s", 4.0), ("1min 30.500000s", 90.5), ("250ms", 0.25), ("1h 2min", 3720.0),
     ("infinity", 0.0), ("", None), ("soon", None), ("5 s", None)],
)  # fmt: skip
def test_a_timeout_as_systemctl_shows_it(shown: str, seconds: float | None) -> None:
    """TimeoutStartUSec= as `systemctl show` prints it under systemd 252 (tried)."""
    from golaunch.systemd.manager import timespan

    assert timespan(shown) == seconds
