"""The unit checks' metrics, rendered from reports without a manager and read back with
prometheus_client's own OpenMetrics parser."""

from __future__ import annotations

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from golaunch import __version__
from golaunch.findings import Finding, Severity
from golaunch.output.metrics import render_openmetrics
from golaunch.output.report import Report


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_one_series_per_unit_and_check() -> None:
    healthy = Report("/opt/a", [Finding("library", Severity.PASS, "ok")], unit="a.service")
    broken = Report(
        "/opt/b",
        [
            Finding("library", Severity.FAIL, "libx.so.1 not found"),
            Finding("library", Severity.PASS, "libc.so.6"),  # one failure fails the check
            Finding("gocache", Severity.WARN, "warned: still passes"),
        ],
        unit='b"\\.service',  # label values are escaped by the library, not by hand
    )
    text = render_openmetrics([healthy, broken], 1_800_000_000.0)
    assert text.endswith("# EOF\n")
    found = samples(text)
    assert found[("golaunch_unit_startable", (("unit", "a.service"),))] == 1
    assert found[("golaunch_unit_startable", (("unit", 'b"\\.service'),))] == 0
    assert found[("golaunch_check_ok", (("check", "library"), ("unit", 'b"\\.service')))] == 0
    assert found[("golaunch_check_ok", (("check", "gocache"), ("unit", 'b"\\.service')))] == 1
    assert found[("golaunch_check_timestamp_seconds", ())] == 1_800_000_000.0
    assert found[("golaunch_build_info", (("version", __version__),))] == 1


def test_no_units_still_says_when_and_which_golaunch() -> None:
    found = samples(render_openmetrics([], 5.0))
    assert set(found) == {
        ("golaunch_check_timestamp_seconds", ()),
        ("golaunch_build_info", (("version", __version__),)),
    }
