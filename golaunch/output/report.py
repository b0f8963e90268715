"""A check run as a Report, and its renderings: the human report and the JSON document.

`check_report` runs the checks over a launch context (--check, and --check --unit's
child); everything else only renders."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from golaunch.findings import Finding, Severity, first_failure
from golaunch.syntax.printable import for_json, visible

if TYPE_CHECKING:
    from golaunch.config.schema import Config
    from golaunch.host.context import LaunchContext


SYSTEM = "system"  # a unit's manager when that is PID 1


@dataclass(frozen=True)
class Report:
    program: str | None
    findings: Sequence[Finding]
    environment: Mapping[str, str] = field(default_factory=dict)
    binary: Mapping[str, Any] | None = None
    probes: Sequence[Mapping[str, Any]] = ()  # parsed, never run by --check
    unit: str | None = None  # --check --unit: the unit whose start this judges
    known: bool = True  # False: the unit could not be checked (its findings say why)
    checked_at: float | None = None  # --check --unit: when the check began (Unix seconds)
    manager: str | None = None  # --check --unit: SYSTEM, or the user whose manager runs it

    @property
    def ok(self) -> bool:
        return first_failure(self.findings) is None

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


def document(report: Report) -> dict[str, Any]:
    """The report as one JSON-ready value, built once for every JSON rendering (non-UTF-8
    strings as byte arrays, as journalctl -o json writes them)."""
    value: dict[str, Any] = {
        **({"unit": report.unit, "manager": report.manager or SYSTEM} if report.unit else {}),
        "program": report.program,
        "ok": report.ok if report.known else None,
        "findings": [
            {
                "check": f.check,
                "severity": f.severity.value,
                "message": f.message,
                "fields": dict(f.fields),
            }
            for f in report.findings
        ],
        "environment": dict(sorted(report.environment.items())),
        "binary": report.binary,
        "probes": [dict(p) for p in report.probes],
    }
    return dict(for_json(value))


def from_document(value: Mapping[str, Any]) -> Report:
    """A Report again from its document() (non-UTF-8 strings came as byte lists); what the
    document does not hold (checked_at) is left unset."""
    findings = [
        Finding(f["check"], Severity(f["severity"]), _text(f["message"]), _texts(f["fields"]))
        for f in value["findings"]
    ]
    return Report(
        _text(value["program"]) if value["program"] is not None else None,
        findings,
        _texts(value.get("environment") or {}),
        value.get("binary"),
        value.get("probes") or (),
        unit=_text(value["unit"]) if value.get("unit") is not None else None,
        known=value.get("ok", True) is not None,
        manager=value.get("manager"),
    )


def _text(value: Any) -> str:
    if isinstance(value, list):
        return bytes(value).decode("utf-8", "surrogateescape")
    return str(value)


def _texts(values: Mapping[str, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in values.items()}


def render_json(report: Report) -> str:
    return _dumps(document(report))


def render_units(reports: Sequence[Report], as_json: bool, single: bool) -> str:
    """Several unit reports: {"units": [...]} or one after another in text; SINGLE (one
    --unit asked for) renders that report alone."""
    if as_json:
        documents = [document(r) for r in reports]
        return _dumps(documents[0] if single else {"units": documents})
    if not reports:
        return "golaunch: no loaded service launches through golaunch\n"
    return "".join(render_text(r) for r in reports)


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def render_text(report: Report) -> str:
    width = max((len(f.check) for f in report.findings), default=0)
    program = visible(report.program or "(no program)")
    lines = [
        f"golaunch: checking unit {visible(report.unit)}: {program}"
        if report.unit
        else f"golaunch: checking {program}"
    ]
    lines += [
        f"  {f.severity.value:<4}  {f.check:<{width}}  {visible(f.message)}"
        for f in report.findings
    ]
    lines += [visible(line) for line in _binary_lines(report.binary)]
    lines += [
        visible(f"  probe ({p['role']}): {p['url']} = {p['scheme']} {p['target']}")
        for p in report.probes
    ]
    failed, warned = report.count(Severity.FAIL), report.count(Severity.WARN)
    if not report.known:
        lines.append("golaunch: check did not finish: the unit's state is unknown")
    else:
        verdict = "is ok" if report.ok else "failed"
        lines.append(f"golaunch: check {verdict}: {failed} failed, {warned} warnings")
    return "\n".join(lines) + "\n"


def _binary_lines(binary: Mapping[str, Any] | None) -> list[str]:
    if not binary:
        return []
    lines = []
    go = binary.get("go")
    if go:
        main = go.get("main") or {}
        settings = go.get("settings") or {}
        build = ", ".join(f"{k}={v}" for k, v in settings.items() if k in _SHOWN_SETTINGS)
        lines.append(
            f"  go binary: {go['version']} {main.get('path', '')} {main.get('version', '')}"
        )
        if build:
            lines.append(f"    built with {build}")
    libraries = binary.get("libraries") or []
    if libraries:
        lines.append(f"  libraries: {len(libraries)}")
        lines += [f"    {lib['soname']} => {lib['path'] or 'not found'}" for lib in libraries]
    return lines


_SHOWN_SETTINGS = ("-buildmode", "-tags", "CGO_ENABLED", "GOOS", "GOARCH")


def check_report(ctx: LaunchContext) -> Report:
    """Every check run over CTX, as --check reports it (also --check --unit's child)."""
    from golaunch.checks import run_checks
    from golaunch.host.program import binary_document

    return Report(
        ctx.label,
        run_checks(ctx),
        ctx.shown_environment,
        binary_document(ctx.inspection),
        probes_shown(ctx.config),
    )


def probes_shown(config: Config) -> list[dict[str, Any]]:
    """The configured probes as --check shows them: parsed, not run."""
    from golaunch.syntax.probeurl import parse_probe

    roles = [("wait", url) for url in config.wait.probes]
    if config.notify.probe:
        roles.append(("watchdog" if config.notify.watchdog else "ready", config.notify.probe))
    shown = []
    for role, url in roles:
        probe = parse_probe(url)  # validated already
        target = probe.path if probe.scheme in ("unix", "file") else f"{probe.host}:{probe.port}"
        if probe.scheme in ("http", "https"):
            target += probe.path
        shown.append({"role": role, "url": url, "scheme": probe.scheme, "target": target})
    return shown
