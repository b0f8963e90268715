"""Unit check results as metrics, for node_exporter's textfile collector.

prometheus_client writes the exposition formats (escaping, # EOF), so this module
only decides the series:

    golaunch_unit_startable{unit}       1 when no check failed
    golaunch_check_ok{unit,check}       1 when that check did not fail
    golaunch_check_timestamp_seconds    when every golaunch unit was last checked
    golaunch_build_info{version}        the golaunch that wrote the file (always 1)

Two formats: `prometheus`, the classic text format that node_exporter's textfile
collector parses (it rejects OpenMetrics `info` and `stateset` types and loses
counter typing), and `openmetrics` for those who ask. One file holds every unit:
a refresh of some units (`--merge`, after a refused or a recovered start) replaces
their series and keeps the others, so that no series is ever written twice
(node_exporter drops the whole scrape for a duplicate).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from golaunch import __version__
from golaunch.findings import Severity
from golaunch.output.report import Report

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

FORMATS = ("prometheus", "openmetrics")


class Fleet(NamedTuple):
    """The series of a metrics file, by unit."""

    startable: dict[str, float]  # unit -> 1 or 0
    checks: dict[tuple[str, str], float]  # (unit, check) -> 1 or 0
    timestamp: float | None  # the last check of every unit (--all-units)


def unit_of(report: Report) -> str:
    """The unit label of REPORT's series (a unit check's reports all name their unit)."""
    return report.unit or report.program or "unknown"


def from_reports(reports: Sequence[Report], timestamp: float | None) -> Fleet:
    fleet = Fleet({}, {}, timestamp)
    for report in reports:
        unit = unit_of(report)
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

    fleet = Fleet({}, {}, None)
    body = text.replace("\n# EOF\n", "\n").removesuffix("# EOF\n")
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "golaunch_unit_startable" and "unit" in labels:
                fleet.startable[labels["unit"]] = sample.value
            elif sample.name == "golaunch_check_ok" and {"unit", "check"} <= set(labels):
                fleet.checks[(labels["unit"], labels["check"])] = sample.value
            elif sample.name == "golaunch_check_timestamp_seconds":
                fleet = fleet._replace(timestamp=sample.value)
    return fleet


def merged(old: Fleet, new: Fleet, replaced: Iterable[str]) -> Fleet:
    """OLD with every series of the REPLACED units taken from NEW (none, for a unit that
    is gone); the full run's timestamp stays OLD's."""
    units = set(replaced)
    startable = {u: v for u, v in old.startable.items() if u not in units}
    checks = {k: v for k, v in old.checks.items() if k[0] not in units}
    startable.update(new.startable)
    checks.update(new.checks)
    return Fleet(startable, checks, old.timestamp)


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
