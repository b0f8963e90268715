"""The library check: every DT_NEEDED and required library, resolved as ld.so(8) would."""

from __future__ import annotations

import os

from golaunch.findings import Finding, failed, passed, skipped
from golaunch.host.context import LaunchContext

NAME = "library"
MAX_LIBRARY_FINDINGS = 10


def check(ctx: LaunchContext) -> list[Finding]:
    inspection = ctx.inspection
    if inspection is None or inspection.problem or inspection.resolution is None:
        return [skipped(NAME, "no shared libraries to resolve")]
    resolution = inspection.resolution
    findings = [
        failed(
            NAME,
            f"{lib.soname}, needed by {lib.needed_by}, is not found (looked in "
            f"{', '.join(lib.searched) or 'nothing'}); install it or fix the search path",
            GOLAUNCH_LIBRARY=lib.soname,
            GOLAUNCH_NEEDED_BY=lib.needed_by,
        )
        for lib in resolution.missing
    ]
    findings += [
        failed(
            NAME,
            f"{path} cannot be loaded: {problem}",
            GOLAUNCH_LIBRARY=os.path.basename(path),
            GOLAUNCH_PATH=path,
        )
        for path, problem in resolution.problems
    ]
    if not findings:
        count = len(resolution.libraries)
        noun = "library resolves" if count == 1 else "libraries resolve"
        findings.append(passed(NAME, f"{count} shared {noun}"))
    if len(findings) > MAX_LIBRARY_FINDINGS:
        # One entry per problem, but not ten thousand entries at every start.
        rest = len(findings) - MAX_LIBRARY_FINDINGS + 1
        findings[MAX_LIBRARY_FINDINGS - 1 :] = [
            failed(
                NAME,
                f"and {rest} more of {len(resolution.libraries)} libraries are missing or cannot "
                "be loaded; golaunch --check --json lists every one",
            )
        ]
    return findings
