"""Unit check results as OpenMetrics text, for node_exporter's textfile collector.

prometheus_client writes the exposition format (escaping, # EOF, info metrics),
so this module only decides the series:

    golaunch_unit_startable{unit}       1 when no check failed
    golaunch_check_ok{unit,check}       1 when that check did not fail
    golaunch_check_timestamp_seconds    when the checks ran
    golaunch_build_info{version}        the golaunch that ran them (always 1)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

from golaunch import __version__
from golaunch.findings import Severity
from golaunch.report import Report


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


def write_atomically(path: str, text: str, mode: int | None = None) -> None:
    """Write PATH so that a reader sees the old file or the new one, never half of one:
    a temporary file in the same directory, fsync'd, renamed over it.

    MODE None keeps what an existing file has, else what the umask gives a new one: a
    JSON or text report holds the program's environment, secrets included, and must
    not become readable because it was refreshed. Metrics pass 0o644, since
    node_exporter, running as another user, reads them."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8", "surrogateescape"))
            f.flush()
            os.fchmod(f.fileno(), _mode(path) if mode is None else mode)
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _mode(path: str) -> int:
    """The mode PATH has, or what open(2) would give it new: 0666 less the umask."""
    import stat

    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0o077)  # read it: there is no other way
        os.umask(umask)
        return 0o666 & ~umask
