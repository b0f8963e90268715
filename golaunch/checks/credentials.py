"""The credentials check: every credential a variable was asked for is there, and fits.

Messages name variables, credentials and sizes, never contents.
"""

from __future__ import annotations

from golaunch.findings import Finding, failed, passed
from golaunch.host.context import LaunchContext

NAME = "credentials"


def check(ctx: LaunchContext) -> list[Finding]:
    if not ctx.credentials:
        return []
    findings = [
        failed(
            NAME,
            f"{c.variable} wants credential {c.name!r}, which {_reason(c.problem or '')}",
            GOLAUNCH_CREDENTIAL=c.name,
            GOLAUNCH_VARIABLE=c.variable,
        )
        for c in ctx.credentials
        if c.problem
    ]
    if findings:
        return findings
    given = ", ".join(
        f"{c.variable}={c.path}" if c.as_path else f"{c.variable} from {c.name} ({c.size} bytes)"
        for c in ctx.credentials
    )
    return [passed(NAME, given)]


def _reason(problem: str) -> str:
    fixes = {
        "No such file or directory": "is not in $CREDENTIALS_DIRECTORY; add "
        "LoadCredential=NAME:PATH or SetCredential=NAME:VALUE to the unit",
    }
    if problem.startswith("there is no"):
        return f"cannot be read: {problem}; add LoadCredential= or SetCredential= to the unit"
    return fixes.get(
        problem,
        problem if problem.startswith(("is ", "contains")) else f"cannot be read: {problem}",
    )
