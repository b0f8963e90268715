"""Checks of the program file: what it is, what loads it, what it needs loaded."""

from __future__ import annotations

import os

from golaunch.context import LaunchContext
from golaunch.findings import Finding, failed, passed, skipped


def check_program(ctx: LaunchContext) -> list[Finding]:
    fields = {"GOLAUNCH_PATH": ctx.program or ctx.argv[0]}
    if ctx.program is None or ctx.inspection is None:
        path = ctx.environment.get("PATH", "")
        return [
            failed(
                "program",
                f"{ctx.argv[0]!r} is not in PATH={path}; give an absolute path or set "
                "environment.path",
                **fields,
            )
        ]
    inspection = ctx.inspection
    if inspection.problem:
        return [failed("program", inspection.problem, **fields)]
    what = inspection.description
    if inspection.script_interpreter:
        what = f"a script for {inspection.script_interpreter} ({what})"
    if inspection.buildinfo:
        what += f", Go {inspection.buildinfo.go_version}"
    elif inspection.buildinfo_error:
        what += f", unreadable Go build info ({inspection.buildinfo_error})"
    return [passed("program", f"{ctx.program}: {what}", **fields)]


def check_interpreter(ctx: LaunchContext) -> list[Finding]:
    inspection = ctx.inspection
    if inspection is None or inspection.problem:
        return [skipped("interpreter", "no ELF program to examine")]
    interpreter = inspection.interpreter
    if interpreter is None:
        return [passed("interpreter", f"{inspection.path} is statically linked")]
    from golaunch.inspect import file_problem, host_elf_problem

    problem = file_problem(interpreter)
    if problem is None:
        problem = host_elf_problem(interpreter)  # headers only: ld.so itself needs no walk
    fields = {"GOLAUNCH_PATH": interpreter}
    if problem:
        return [
            failed(
                "interpreter",
                f"the ELF interpreter {interpreter} of {inspection.path} "
                f"{problem.removeprefix(interpreter + ' ')}: "
                "exec would fail with 'No such file or directory'; install the C library it "
                "was built for, or build with CGO_ENABLED=0",
                **fields,
            )
        ]
    return [passed("interpreter", f"{interpreter}", **fields)]


MAX_LIBRARY_FINDINGS = 10


def check_libraries(ctx: LaunchContext) -> list[Finding]:
    inspection = ctx.inspection
    if inspection is None or inspection.problem or inspection.resolution is None:
        return [skipped("library", "no shared libraries to resolve")]
    resolution = inspection.resolution
    findings = [
        failed(
            "library",
            f"{lib.soname}, needed by {lib.needed_by}, is not found (looked in "
            f"{', '.join(lib.searched) or 'nothing'}); install it or fix the search path",
            GOLAUNCH_LIBRARY=lib.soname,
            GOLAUNCH_NEEDED_BY=lib.needed_by,
        )
        for lib in resolution.missing
    ]
    findings += [
        failed(
            "library",
            f"{path} cannot be loaded: {problem}",
            GOLAUNCH_LIBRARY=os.path.basename(path),
            GOLAUNCH_PATH=path,
        )
        for path, problem in resolution.problems
    ]
    if not findings:
        count = len(resolution.libraries)
        noun = "library resolves" if count == 1 else "libraries resolve"
        findings.append(passed("library", f"{count} shared {noun}"))
    if len(findings) > MAX_LIBRARY_FINDINGS:
        # One entry per problem, but not ten thousand entries at every start.
        rest = len(findings) - MAX_LIBRARY_FINDINGS + 1
        findings[MAX_LIBRARY_FINDINGS - 1 :] = [
            failed(
                "library",
                f"and {rest} more of {len(resolution.libraries)} libraries are missing or cannot "
                "be loaded; golaunch --check --json lists every one",
            )
        ]
    return findings
