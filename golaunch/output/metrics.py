"""Unit check results as metrics, for node_exporter's textfile collector.

prometheus_client writes the exposition formats (escaping, # EOF), so this module
only decides the series:

    golaunch_unit_startable{unit,manager}                1 when no check failed
    golaunch_check_ok{unit,manager,check}                1 when that check did not fail
    golaunch_unit_check_timestamp_seconds{unit,manager}  when that unit's verdict was taken
    golaunch_check_timestamp_seconds{manager}            when every unit of that manager was
                                                         last checked
    golaunch_build_info{version}                         the golaunch that wrote the file (1)

`manager` is whose service manager runs the unit: "system", or the user's name for a
user manager's unit (--user, --user-of), so that alice's app.service and the system's
are two units, not one. A file written before the label existed holds the system's.

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
from golaunch.output.report import SYSTEM, Report

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

Unit = tuple[str, str]  # (manager, unit name)


class Fleet(NamedTuple):
    """The series of a metrics file, by unit."""

    startable: dict[Unit, float]  # 1 or 0
    checks: dict[tuple[str, str, str], float]  # (manager, unit, check) -> 1 or 0
    timestamps: dict[str, float]  # manager -> the last check of all its units (--all-units)
    checked: dict[Unit, float]  # when the unit's verdict was taken (Unix seconds)


def empty() -> Fleet:
    return Fleet({}, {}, {}, {})


class Listing(NamedTuple):
    """A run over every unit of one manager: when it listed them, and what it found."""

    at: float
    manager: str
    units: Sequence[str]


def unit_of(report: Report) -> str:
    """The unit label of REPORT's series (a unit check's reports all name their unit)."""
    return report.unit or report.program or "unknown"


def from_reports(reports: Sequence[Report], listing: Listing | None = None) -> Fleet:
    """The series of REPORTS that know their unit's state (a check that could not finish
    has none: the unit's last known verdict stands). LISTING: the run over every unit of a
    manager that took them."""
    import time

    timestamp = listing.at if listing else None
    fleet = Fleet({}, {}, {listing.manager: listing.at} if listing else {}, {})
    for report in reports:
        if not report.known:
            continue
        key = (report.manager or SYSTEM, unit_of(report))
        fleet.checked[key] = report.checked_at or timestamp or time.time()
        fleet.startable[key] = 1 if report.ok else 0
        for finding in report.findings:
            passing = finding.severity is not Severity.FAIL
            check = (*key, finding.check)
            fleet.checks[check] = min(fleet.checks.get(check, 1), 1 if passing else 0)
    return fleet


def from_text(text: str) -> Fleet:
    """The golaunch series of a file this module wrote (either format); others are dropped."""
    from prometheus_client.parser import text_string_to_metric_families

    fleet = empty()
    body = text.replace("\n# EOF\n", "\n").removesuffix("# EOF\n")
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            labels, value = sample.labels, sample.value
            manager = labels.get("manager", SYSTEM)
            key = (manager, labels.get("unit", ""))
            if "unit" not in labels:
                if sample.name == "golaunch_check_timestamp_seconds":
                    fleet.timestamps[manager] = value
            elif sample.name == "golaunch_unit_startable":
                fleet.startable[key] = value
            elif sample.name == "golaunch_check_ok" and "check" in labels:
                fleet.checks[(*key, labels["check"])] = value
            elif sample.name == "golaunch_unit_check_timestamp_seconds":
                fleet.checked[key] = value
    return fleet


def combined(
    old: Fleet, new: Fleet, gone: Iterable[Unit] = (), listing: Listing | None = None
) -> Fleet:
    """OLD and NEW, unit by unit: each unit's series from whichever verdict is newer, by
    the time each was taken (a unit OLD holds without a time is older than any). GONE:
    units that are no golaunch unit any more, whose series go. LISTING: a run over every
    unit of one manager. A unit of that manager that OLD holds and the run did not find
    had gone by then, unless its verdict is newer (it appeared since, and a refresh wrote
    it); one it found but could not check keeps its last verdict. Other managers' units
    are no business of that run's."""
    chosen: dict[Unit, Fleet] = {}
    for key in {*old.startable, *new.startable}:
        mine, theirs = new.checked.get(key), old.checked.get(key, -math.inf)
        if key in new.startable and mine is not None and mine >= theirs:
            chosen[key] = new
        elif (
            listing is None
            or key[0] != listing.manager
            or key[1] in listing.units
            or theirs > listing.at
        ):
            chosen[key] = old
    for key in gone:
        chosen.pop(key, None)
    timestamps = dict(old.timestamps)
    for manager, when in new.timestamps.items():
        timestamps[manager] = max(when, timestamps.get(manager, when))
    return Fleet(
        {k: f.startable[k] for k, f in chosen.items() if k in f.startable},
        {k: v for f in (old, new) for k, v in f.checks.items() if chosen.get(k[:2]) is f},
        timestamps,
        {k: f.checked[k] for k, f in chosen.items() if k in f.checked},
    )


def render(fleet: Fleet, fmt: str) -> str:
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry(auto_describe=False)
    per_unit = ["unit", "manager"]
    startable = Gauge(
        "golaunch_unit_startable",
        "Whether the unit's next start would pass golaunch's checks",
        per_unit,
        registry=registry,
    )
    ok = Gauge(
        "golaunch_check_ok",
        "Whether one of golaunch's checks passes for the unit (warnings pass)",
        [*per_unit, "check"],
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
    for (manager, unit), value in sorted(fleet.startable.items()):
        startable.labels(unit, manager).set(value)
    for (manager, unit, check), value in sorted(fleet.checks.items()):
        ok.labels(unit, manager, check).set(value)
    if fleet.checked:
        checked = Gauge(
            "golaunch_unit_check_timestamp_seconds",
            "When the unit's verdict was taken, by the hourly run or a refresh",
            per_unit,
            registry=registry,
        )
        for (manager, unit), when in sorted(fleet.checked.items()):
            checked.labels(unit, manager).set(when)
    if fleet.timestamps:
        last = Gauge(
            "golaunch_check_timestamp_seconds",
            "When golaunch last checked every unit of the manager",
            ["manager"],
            registry=registry,
        )
        for manager, when in sorted(fleet.timestamps.items()):
            last.labels(manager).set(when)
    return _exposition(registry, fmt)


def _exposition(registry: CollectorRegistry, fmt: str) -> str:
    from prometheus_client import exposition
    from prometheus_client.openmetrics import exposition as openmetrics

    if fmt == "openmetrics":
        # prometheus_client ships no annotations for this function.
        return str(openmetrics.generate_latest(registry).decode("utf-8"))  # type: ignore[no-untyped-call]
    return exposition.generate_latest(registry).decode("utf-8")
