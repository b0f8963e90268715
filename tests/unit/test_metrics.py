"""The unit checks' metrics, rendered from reports without a manager and read back with
prometheus_client's own OpenMetrics parser."""

from __future__ import annotations

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from golaunch import __version__
from golaunch.findings import Finding, Severity
from golaunch.output.metrics import from_reports, from_text, merged, render, render_openmetrics
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


def report(unit: str, *failing: str) -> Report:
    findings = [Finding(c, Severity.FAIL, "broken") for c in failing]
    return Report("/opt/x", [*findings, Finding("program", Severity.PASS, "ok")], unit=unit)


def test_the_classic_format_is_what_node_exporter_parses() -> None:
    from prometheus_client.parser import text_string_to_metric_families as classic

    text = render(from_reports([report("a.service", "goroot")], 7.0), "prometheus")
    assert "# EOF" not in text and "# TYPE golaunch_unit_startable gauge" in text
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in classic(text)
        for s in family.samples
    }
    assert values[("golaunch_unit_startable", (("unit", "a.service"),))] == 0
    assert values[("golaunch_check_ok", (("check", "goroot"), ("unit", "a.service")))] == 0


def test_a_refresh_replaces_its_units_series_and_keeps_the_others() -> None:
    hourly = render(
        from_reports([report("a.service"), report("b.service"), report("gone.service")], 100.0),
        "prometheus",
    )
    refreshed = from_reports([report("a.service", "goroot")], None)
    fleet = merged(from_text(hourly), refreshed, ["a.service", "gone.service"])
    text = render(fleet, "prometheus")
    found = samples(text + "# EOF\n")
    assert found[("golaunch_unit_startable", (("unit", "a.service"),))] == 0
    assert found[("golaunch_check_ok", (("check", "goroot"), ("unit", "a.service")))] == 0
    assert found[("golaunch_unit_startable", (("unit", "b.service"),))] == 1
    assert not any(dict(labels).get("unit") == "gone.service" for _, labels in found)
    # The hourly run's timestamp stays: a refresh is no full check.
    assert found[("golaunch_check_timestamp_seconds", ())] == 100.0
    # Every series once: node_exporter drops a whole scrape with a duplicate.
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == len(set(lines))


def test_a_refresh_of_an_openmetrics_file_reads_it_back() -> None:
    text = render(from_reports([report("a.service")], 5.0), "openmetrics")
    assert from_text(text).startable == {"a.service": 1}
