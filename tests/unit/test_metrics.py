"""The unit checks' metrics, rendered from reports without a manager and read back with
prometheus_client's own OpenMetrics parser."""

from __future__ import annotations

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from golaunch import __version__
from golaunch.findings import Finding, Severity
from golaunch.output.metrics import (
    Fleet,
    combined,
    from_reports,
    from_text,
    render,
    render_openmetrics,
)
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


def report(unit: str, *failing: str, at: float | None = None, known: bool = True) -> Report:
    findings = [Finding(c, Severity.FAIL, "broken") for c in failing]
    passing = Finding("program", Severity.PASS, "ok")
    return Report("/opt/x", [*findings, passing], unit=unit, checked_at=at, known=known)


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


def written(*fleets: Fleet) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """FLEETS combined one after another as writers take turns, written and read back."""
    fleet = Fleet({}, {}, None, {})
    for later in fleets:
        fleet = combined(from_text(render(fleet, "prometheus")), later)
    text = render(fleet, "prometheus")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == len(set(lines))  # node_exporter drops a scrape with a duplicate
    return samples(text + "# EOF\n")


def startable(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], unit: str) -> float:
    return found[("golaunch_unit_startable", (("unit", unit),))]


def test_a_refresh_replaces_its_units_series_and_keeps_the_others() -> None:
    hourly = from_reports([report("a.service", at=90), report("b.service", at=91)], 100.0)
    refreshed = from_reports([report("a.service", "goroot", at=200)], None)
    found = written(hourly, refreshed)
    assert startable(found, "a.service") == 0 and startable(found, "b.service") == 1
    assert found[("golaunch_check_ok", (("check", "goroot"), ("unit", "a.service")))] == 0
    assert found[("golaunch_unit_check_timestamp_seconds", (("unit", "a.service"),))] == 200
    # The hourly run's timestamp stays: a refresh is no full check.
    assert found[("golaunch_check_timestamp_seconds", ())] == 100.0


def test_an_hourly_run_never_writes_an_older_verdict_over_a_refresh() -> None:
    """The run checked every unit first and took the lock only to write: a unit refused
    meanwhile had 0 from its refresh, and the run wrote 1 over it (issue 31, item 10)."""
    refreshed = from_reports([report("a.service", "goroot", at=150)], None)
    hourly = from_reports([report("a.service", at=120), report("b.service", at=130)], 100.0)
    found = written(refreshed, hourly)
    assert startable(found, "a.service") == 0 and startable(found, "b.service") == 1
    assert found[("golaunch_check_timestamp_seconds", ())] == 100.0
    # And the other way: a fixed unit is never flipped back to 0 by an older verdict.
    fixed = from_reports([report("a.service", at=160)], None)
    assert startable(written(refreshed, fixed, hourly), "a.service") == 1


def test_a_run_over_every_unit_drops_the_units_that_went() -> None:
    old = from_reports([report("gone.service", at=50), report("new.service", at=150)], None)
    hourly = from_reports([report("a.service", at=120)], 100.0)
    fleet = combined(old, hourly, listing=(100.0, ["a.service"]))
    # gone.service was not found by the run that listed at 100; new.service appeared since.
    assert set(fleet.startable) == {"a.service", "new.service"}


def test_a_unit_that_could_not_be_checked_keeps_its_last_verdict() -> None:
    old = from_reports([report("a.service", "library", at=50)], None)
    hourly = from_reports([report("a.service", at=120, known=False)], 100.0)
    fleet = combined(old, hourly, listing=(100.0, ["a.service"]))
    assert fleet.startable == {"a.service": 0} and fleet.checked == {"a.service": 50}


def test_a_refresh_drops_what_is_gone() -> None:
    old = from_reports([report("a.service", at=50), report("deleted.service", at=60)], None)
    fleet = combined(old, from_reports([], None), gone=["deleted.service"])
    assert set(fleet.startable) == {"a.service"}


def test_a_refresh_of_an_openmetrics_file_reads_it_back() -> None:
    text = render(from_reports([report("a.service")], 5.0), "openmetrics")
    assert from_text(text).startable == {"a.service": 1}
