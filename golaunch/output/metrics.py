"""Unit check results as metrics, for node_exporter's textfile collector.

prometheus_client writes the exposition formats (escaping, # EOF), so this module
only decides the series:

    golaunch_unit_startable{unit}                 1 when no check failed
    golaunch_check_ok{unit,check}                 1 when that check did not fail
    golaunch_unit_check_timestamp_seconds{unit}   when that unit's verdict was taken
    golaunch_check_timestamp_seconds              when every golaunch unit was last checked
    golaunch_build_info{version}                  the golaunch that wrote the file (always 1)

Two formats: `prometheus`, the classic text format that node_exporter's textfile
collector parses (it rejects OpenMetrics `info` and `stateset` types and loses
counter typing), and `openmetrics` for those who ask. One file holds every unit,
written by the hourly run over every unit and by refreshes of some (`--merge`,
after a refused or a recovered start), each under the file's lock. Each merges
unit by unit (`combined`): a unit's series are the newest verdict's, whoever took
it, so a run that began before a refresh never writes an older verdict over its
newer one; no series is ever written twice (node_exporter drops the whole scrape
for a duplicate).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from golaunch import __version__
from golaunch.findings import Severity
from golaunch.output.report import Report

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


class Fleet(NamedTuple):
    """The series of a metrics file, by unit."""

    startable: dict[str, float]  # unit -> 1 or 0
    checks: dict[tuple[str, str], float]  # (unit, check) -> 1 or 0
    timestamp: float | None  # the last check of every unit (--all-units)
    checked: dict[str, float]  # unit -> when its verdict was taken (Unix seconds)


def unit_of(report: Report) -> str:
    """The unit label of REPORT's series (a unit check's reports all name their unit)."""
    return report.unit or report.program or "unknown"


def from_reports(reports: Sequence[Report], timestamp: float | None) -> Fleet:
    """The series of REPORTS that know their unit's state (a check that could not finish
    has none: the unit's last known verdict stands)."""
    import time

    fleet = Fleet({}, {}, timestamp, {})
    for report in reports:
        if not report.known:
            continue
        unit = unit_of(report)
        fleet.checked[unit] = report.checked_at or timestamp or time.time()
        fleet.startable[unit] = 1 if report.ok else 0
        for finding in report.findings:
            passing = finding.severity is not Severity.FAIL
            fleet.checks[(unit, finding.check)] = min(
                fleet.checks.get((unit, finding.check), 1), 1 if passing else 0
            )
    return fleet


def from_text(text: str) -> Fleet:
    """The golaunch series of a file this module wrote (either format); others are dropped."""
    from prometheus_client.parser import text_string_to_metric_families

    fleet = Fleet({}, {}, None, {})
    body = text.replace("\n# EOF\n", "\n").removesuffix("# EOF\n")
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "golaunch_unit_startable" and "unit" in labels:
                fleet.startable[labels["unit"]] = sample.value
            elif sample.name == "golaunch_check_ok" and {"unit", "check"} <= set(labels):
                fleet.checks[(labels["unit"], labels["check"])] = sample.value
            elif sample.name == "golaunch_unit_check_timestamp_seconds" and "unit" in labels:
                fleet.checked[labels["unit"]] = sample.value
            elif sample.name == "golaunch_check_timestamp_seconds":
                fleet = fleet._replace(timestamp=sample.value)
    return fleet


def combined(
    old: Fleet,
    new: Fleet,
    gone: Iterable[str] = (),
    listing: tuple[float, Iterable[str]] | None = None,
) -> Fleet:
    """OLD and NEW, unit by unit: each unit's series from whichever verdict is newer, by
    the time each was taken (a unit OLD holds without a time is older than any). GONE:
    units that are no golaunch unit any more, whose series go. LISTING: when a run over
    every unit listed them, and the units it found. A unit OLD holds that it did not
    find had gone by then, unless its verdict is newer (it appeared since, and a refresh
    wrote it); one it found but could not check keeps its last verdict."""
    listed_at, listed = (listing[0], set(listing[1])) if listing else (None, set())
    chosen: dict[str, Fleet] = {}
    for unit in {*old.startable, *new.startable}:
        mine, theirs = new.checked.get(unit), old.checked.get(unit, -math.inf)
        if unit in new.startable and mine is not None and mine >= theirs:
            chosen[unit] = new
        elif listed_at is None or unit in listed or theirs > listed_at:
            chosen[unit] = old
    for unit in gone:
        chosen.pop(unit, None)
    timestamps = [t for t in (old.timestamp, new.timestamp) if t is not None]
    return Fleet(
        {u: f.startable[u] for u, f in chosen.items() if u in f.startable},
        {k: v for f in (old, new) for k, v in f.checks.items() if chosen.get(k[0]) is f},
        max(timestamps, default=None),
        {u: f.checked[u] for u, f in chosen.items() if u in f.checked},
    )


def render(fleet: Fleet, fmt: str) -> str:
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry(auto_describe=False)
    startable = Gauge(
        "golaunch_unit_startable",
        "Whether the unit's next start would pass golaunch's checks",
        ["unit"],
        registry=registry,
    )
    ok = Gauge(
        "golaunch_check_ok",
        "Whether one of golaunch's checks passes for the unit (warnings pass)",
        ["unit", "check"],
        registry=registry,
    )
    # The version as a gauge of 1, Prometheus's *_build_info convention, not an
    # OpenMetrics info family: node_exporter's textfile collector (1.5, Debian 12)
    # parses the older text format and rejects the whole file at "# TYPE ... info".
    Gauge(
        "golaunch_build_info",
        "The golaunch that wrote the file, by version",
        ["version"],
        registry=registry,
    ).labels(__version__).set(1)
    for unit, value in sorted(fleet.startable.items()):
        startable.labels(unit).set(value)
    for (unit, check), value in sorted(fleet.checks.items()):
        ok.labels(unit, check).set(value)
    if fleet.checked:
        checked = Gauge(
            "golaunch_unit_check_timestamp_seconds",
            "When the unit's verdict was taken, by the hourly run or a refresh",
            ["unit"],
            registry=registry,
        )
        for unit, when in sorted(fleet.checked.items()):
            checked.labels(unit).set(when)
    if fleet.timestamp is not None:
        Gauge(
            "golaunch_check_timestamp_seconds",
            "When golaunch last checked every unit",
            registry=registry,
        ).set(fleet.timestamp)
    return _exposition(registry, fmt)


def _exposition(registry: CollectorRegistry, fmt: str) -> str:
    from prometheus_client import exposition
    from prometheus_client.openmetrics import exposition as openmetrics

    if fmt == "openmetrics":
        # prometheus_client ships no annotations for this function.
        return str(openmetrics.generate_latest(registry).decode("utf-8"))  # type: ignore[no-untyped-call]
    return exposition.generate_latest(registry).decode("utf-8")


def render_openmetrics(reports: Sequence[Report], timestamp: float) -> str:
    return render(from_reports(reports, timestamp), "openmetrics")
