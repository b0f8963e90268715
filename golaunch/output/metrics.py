"""Unit check results as OpenMetrics text, for node_exporter's textfile collector.

prometheus_client writes the exposition format (escaping, # EOF), so this module
only decides the series:

    golaunch_unit_startable{unit}       1 when no check failed
    golaunch_check_ok{unit,check}       1 when that check did not fail
    golaunch_check_timestamp_seconds    when the checks ran
    golaunch_build_info{version}        the golaunch that ran them (always 1)
"""

from __future__ import annotations

from collections.abc import Sequence

from golaunch import __version__
from golaunch.findings import Severity
from golaunch.output.report import Report


def render_openmetrics(reports: Sequence[Report], timestamp: float) -> str:
    from prometheus_client import CollectorRegistry, Gauge
    from prometheus_client.openmetrics.exposition import generate_latest

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
    when = Gauge(
        "golaunch_check_timestamp_seconds",
        "When golaunch checked the units",
        registry=registry,
    )
    # The version as a gauge of 1, Prometheus's *_build_info convention, not an
    # OpenMetrics info family: node_exporter's textfile collector (1.5, Debian 12)
    # parses the older text format and rejects the whole file at "# TYPE ... info".
    Gauge(
        "golaunch_build_info",
        "The golaunch that checked, by version",
        ["version"],
        registry=registry,
    ).labels(__version__).set(1)
    for report in reports:
        unit = report.unit or report.program or "unknown"
        startable.labels(unit).set(1 if report.ok else 0)
        checks: dict[str, bool] = {}
        for finding in report.findings:
            failing = finding.severity is Severity.FAIL
            checks[finding.check] = checks.get(finding.check, True) and not failing
        for check, passing in checks.items():
            ok.labels(unit, check).set(1 if passing else 0)
    when.set(timestamp)
    # prometheus_client ships no annotations for this function.
    return str(generate_latest(registry).decode("utf-8"))  # type: ignore[no-untyped-call]
