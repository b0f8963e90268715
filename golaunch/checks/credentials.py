"""The credentials check: every credential a variable was asked for is there, and fits.

Messages name variables, credentials and sizes, never contents.
"""

from __future__ import annotations

from golaunch.findings import Finding, failed, passed
from golaunch.host.context import LaunchContext
from golaunch.host.credentials import MAX_CREDENTIAL_BYTES, Credential, Unusable

NAME = "credentials"


def check(ctx: LaunchContext) -> list[Finding]:
    if not ctx.credentials:
        return []
    findings = [
        failed(
            NAME,
            f"{c.variable} wants credential {c.name!r}, which {_reason(c)}",
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


# What is wrong, as the rest of "VAR wants credential 'NAME', which ...".
_WORDS = {
    Unusable.NO_DIRECTORY: "cannot be read: there is no $CREDENTIALS_DIRECTORY (the unit "
    "passes no credentials); add LoadCredential= or SetCredential= to the unit",
    Unusable.MISSING: "is not in $CREDENTIALS_DIRECTORY; add LoadCredential=NAME:PATH or "
    "SetCredential=NAME:VALUE to the unit",
    Unusable.NOT_REGULAR: "{detail}",
    Unusable.UNREADABLE: "cannot be read: {detail}",
    Unusable.TOO_LARGE: f"is larger than {MAX_CREDENTIAL_BYTES} bytes, too large for a variable",
    Unusable.NUL: "contains a NUL byte, which no variable can hold; use credentials.file_env",
}


def _reason(credential: Credential) -> str:
    return _WORDS[credential.problem or ""].format(detail=credential.detail)
