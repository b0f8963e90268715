"""The unit checks' metrics, rendered from reports without a manager and read back with
prometheus_client's own OpenMetrics parser."""

from __future__ import annotations

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from golaunch import __version__
from golaunch.findings import Finding, Severity
from golaunch.output.metrics import (
    Fleet,
    Listing,
    combined,
    empty,
    from_reports,
    from_text,
    render,
)
from golaunch.output.report import Report

Found = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Found:
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
    text = render(from_reports([healthy, broken], every("system", 1.8e9)), "openmetrics")
    assert text.endswith("# EOF\n")
    found = samples(text)
    assert startable(found, "a.service") == 1
    assert startable(found, 'b"\\.service') == 0
    assert check_ok(found, 'b"\\.service', "library") == 0
    assert check_ok(found, 'b"\\.service', "gocache") == 1
    assert found[("golaunch_check_timestamp_seconds", (("manager", "system"),))] == 1.8e9
    assert found[("golaunch_build_info", (("version", __version__),))] == 1


def test_no_units_still_says_when_and_which_golaunch() -> None:
    found = samples(render(from_reports([], every("system", 5.0)), "openmetrics"))
    assert set(found) == {
        ("golaunch_check_timestamp_seconds", (("manager", "system"),)),
        ("golaunch_build_info", (("version", __version__),)),
    }


def every(manager: str, at: float, *units: str) -> Listing:
    """A run over every unit of MANAGER that listed UNITS at AT."""
    return Listing(at, manager, units)


def startable(found: Found, unit: str, manager: str = "system") -> float:
    return found[("golaunch_unit_startable", (("manager", manager), ("unit", unit)))]


def check_ok(found: Found, unit: str, check: str, manager: str = "system") -> float:
    labels = (("check", check), ("manager", manager), ("unit", unit))
    return found[("golaunch_check_ok", labels)]


def report(
    unit: str,
    *failing: str,
    at: float | None = None,
    known: bool = True,
    manager: str = "system",
) -> Report:
    findings = [Finding(c, Severity.FAIL, "broken") for c in failing]
    passing = Finding("program", Severity.PASS, "ok")
    return Report(
        "/opt/x", [*findings, passing], unit=unit, checked_at=at, known=known, manager=manager
    )


def test_the_classic_format_is_what_node_exporter_parses() -> None:
    from prometheus_client.parser import text_string_to_metric_families as classic

    text = render(from_reports([report("a.service", "goroot")], every("system", 7.0)), "prometheus")
    assert "# EOF" not in text and "# TYPE golaunch_unit_startable gauge" in text
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in classic(text)
        for s in family.samples
    }
    assert startable(values, "a.service") == 0
    assert check_ok(values, "a.service", "goroot") == 0


def written(*fleets: Fleet) -> Found:
    """FLEETS combined one after another as writers take turns, written and read back."""
    fleet = empty()
    for later in fleets:
        fleet = combined(from_text(render(fleet, "prometheus")), later)
    text = render(fleet, "prometheus")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == len(set(lines))  # node_exporter drops a scrape with a duplicate
    return samples(text + "# EOF\n")


SYSTEM_A = ("system", "a.service")
SYSTEM_APP = (("manager", "system"), ("unit", "app.service"))  # its labels


def test_a_refresh_replaces_its_units_series_and_keeps_the_others() -> None:
    listing = every("system", 100.0, "a.service", "b.service")
    hourly = from_reports([report("a.service", at=90), report("b.service", at=91)], listing)
    refreshed = from_reports([report("a.service", "goroot", at=200)])
    found = written(hourly, refreshed)
    assert startable(found, "a.service") == 0 and startable(found, "b.service") == 1
    assert check_ok(found, "a.service", "goroot") == 0
    labels = (("manager", "system"), ("unit", "a.service"))
    assert found[("golaunch_unit_check_timestamp_seconds", labels)] == 200
    # The hourly run's timestamp stays: a refresh is no full check.
    assert found[("golaunch_check_timestamp_seconds", (("manager", "system"),))] == 100.0


def test_an_hourly_run_never_writes_an_older_verdict_over_a_refresh() -> None:
    """The run checked every unit first and took the lock only to write: a unit refused
    meanwhile had 0 from its refresh, and the run wrote 1 over it (issue 31, item 10)."""
    refreshed = from_reports([report("a.service", "goroot", at=150)])
    listing = every("system", 100.0, "a.service", "b.service")
    hourly = from_reports([report("a.service", at=120), report("b.service", at=130)], listing)
    found = written(refreshed, hourly)
    assert startable(found, "a.service") == 0 and startable(found, "b.service") == 1
    assert found[("golaunch_check_timestamp_seconds", (("manager", "system"),))] == 100.0
    # And the other way: a fixed unit is never flipped back to 0 by an older verdict.
    fixed = from_reports([report("a.service", at=160)])
    assert startable(written(refreshed, fixed, hourly), "a.service") == 1


def test_a_run_over_every_unit_drops_the_units_that_went() -> None:
    old = from_reports([report("gone.service", at=50), report("new.service", at=150)])
    listing = every("system", 100.0, "a.service")
    fleet = combined(old, from_reports([report("a.service", at=120)], listing), listing=listing)
    # gone.service was not found by the run that listed at 100; new.service appeared since.
    assert set(fleet.startable) == {SYSTEM_A, ("system", "new.service")}


def test_a_unit_that_could_not_be_checked_keeps_its_last_verdict() -> None:
    old = from_reports([report("a.service", "library", at=50)])
    listing = every("system", 100.0, "a.service")
    hourly = from_reports([report("a.service", at=120, known=False)], listing)
    fleet = combined(old, hourly, listing=listing)
    assert fleet.startable == {SYSTEM_A: 0} and fleet.checked == {SYSTEM_A: 50}


def test_a_refresh_drops_what_is_gone() -> None:
    old = from_reports([report("a.service", at=50), report("deleted.service", at=60)])
    fleet = combined(old, from_reports([]), gone=[("system", "deleted.service")])
    assert set(fleet.startable) == {SYSTEM_A}


def test_a_refresh_of_an_openmetrics_file_reads_it_back() -> None:
    text = render(from_reports([report("a.service")], every("system", 5.0)), "openmetrics")
    assert from_text(text).startable == {SYSTEM_A: 1}


def test_each_manager_has_its_own_units_and_runs() -> None:
    """alice's app.service and the system's are two units: one file holds both, with a
    manager label, and each manager's run over every unit keeps its own timestamp and
    drops only its own units that went (issue 34)."""
    system = every("system", 100.0, "app.service")
    alices = every("alice", 110.0, "app.service")
    before = from_reports([report("app.service", at=90), report("old.service", at=50)])
    alice = from_reports([report("app.service", "library", at=111, manager="alice")], alices)
    # alice's run did not find old.service among hers, and leaves the system's alone.
    assert set(combined(before, alice, listing=alices).startable) == {
        ("system", "app.service"),
        ("system", "old.service"),
        ("alice", "app.service"),
    }
    found = written(before, alice, from_reports([report("app.service", at=102)], system))
    assert startable(found, "app.service") == 1
    assert startable(found, "app.service", "alice") == 0
    assert check_ok(found, "app.service", "library", "alice") == 0
    assert check_ok(found, "app.service", "program") == 1
    assert ("golaunch_check_ok", (("check", "library"), *SYSTEM_APP)) not in found
    stamps = {k[1]: v for k, v in found.items() if k[0] == "golaunch_check_timestamp_seconds"}
    assert stamps == {(("manager", "alice"),): 110.0, (("manager", "system"),): 100.0}
    # written() passes no listing: the system's run drops what it did not find here.
    dropped = combined(before, from_reports([report("app.service", at=102)], system), [], system)
    assert set(dropped.startable) == {("system", "app.service")}
    # alice's app.service going leaves the system's unit of that name.
    both = combined(before, alice)
    left = combined(both, empty(), gone=[("alice", "app.service")])
    assert set(left.startable) == {("system", "app.service"), ("system", "old.service")}
    assert not any(key[0] == "alice" for key in left.checks)


def test_a_file_written_before_the_manager_label_holds_the_systems_units() -> None:
    text = (
        "# TYPE golaunch_unit_startable gauge\n"
        'golaunch_unit_startable{unit="a.service"} 0.0\n'
        "# TYPE golaunch_check_ok gauge\n"
        'golaunch_check_ok{unit="a.service",check="library"} 0.0\n'
        "# TYPE golaunch_check_timestamp_seconds gauge\n"
        "golaunch_check_timestamp_seconds 100.0\n"
    )
    old = from_text(text)
    assert old == Fleet({SYSTEM_A: 0}, {("system", "a.service", "library"): 0}, {"system": 100}, {})
    # The next write (here a refresh of another unit) labels them, once each.
    found = samples(render(combined(old, empty()), "prometheus") + "# EOF\n")
    assert startable(found, "a.service") == 0
    assert sum(1 for name, _ in found if name == "golaunch_unit_startable") == 1
