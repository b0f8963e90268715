"""The interpreter check: the ELF interpreter (ld.so) the program names, as the kernel loads it."""

from __future__ import annotations

from golaunch.findings import Finding, failed, passed, skipped
from golaunch.host.context import LaunchContext

NAME = "interpreter"


def check(ctx: LaunchContext) -> list[Finding]:
    inspection = ctx.inspection
    if inspection is None or inspection.problem:
        return [skipped(NAME, "no ELF program to examine")]
    interpreter = inspection.interpreter
    if interpreter is None:
        return [passed(NAME, f"{inspection.path} is statically linked")]
    from golaunch.checks.program import predicate
    from golaunch.host.program import file_problem, host_elf_problem

    problem = file_problem(interpreter)
    if problem is None:
        problem = host_elf_problem(interpreter)  # headers only: ld.so itself needs no walk
    fields = {"GOLAUNCH_PATH": interpreter}
    if problem:
        return [
            failed(
                NAME,
                f"the ELF interpreter {interpreter} of {inspection.path} "
                f"{predicate(problem, ctx.euid)}: "
                "exec would fail with 'No such file or directory'; install the C library it "
                "was built for, or build with CGO_ENABLED=0",
                **fields,
            )
        ]
    return [passed(NAME, f"{interpreter}", **fields)]
