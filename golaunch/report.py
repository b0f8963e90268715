"""Rendering a check run: the human report and the JSON document. Rendering only."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from golaunch.findings import Finding, Severity
from golaunch.printable import for_json, visible


@dataclass(frozen=True)
class Report:
    program: str | None
    findings: Sequence[Finding]
    environment: Mapping[str, str] = field(default_factory=dict)
    binary: Mapping[str, Any] | None = None
    probes: Sequence[Mapping[str, Any]] = ()  # parsed, never run by --check
    unit: str | None = None  # --check --unit: the unit whose start this judges

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.FAIL for f in self.findings)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


def render_json(report: Report) -> str:
    document: dict[str, Any] = {
        **({"unit": report.unit} if report.unit else {}),
        "program": report.program,
        "ok": report.ok,
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
    return json.dumps(for_json(document), indent=2, ensure_ascii=False) + "\n"


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
