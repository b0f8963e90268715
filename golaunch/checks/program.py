"""The program check: is the file something execve(2) can run?

Also the words for every FileProblem golaunch.host.program records, which the
interpreter check uses for ld.so.
"""

from __future__ import annotations

from golaunch.findings import Finding, failed, passed
from golaunch.host.context import LaunchContext
from golaunch.host.program import FileProblem, Unrunnable

NAME = "program"


def check(ctx: LaunchContext) -> list[Finding]:
    fields = {"GOLAUNCH_PATH": ctx.program or ctx.argv[0]}
    if ctx.program is None or ctx.inspection is None:
        path = ctx.environment.get("PATH", "")
        return [
            failed(
                NAME,
                f"{ctx.argv[0]!r} is not in PATH={path}; give an absolute path or set "
                "environment.path",
                **fields,
            )
        ]
    inspection = ctx.inspection
    if inspection.problem:
        return [failed(NAME, describe(inspection.problem, ctx.euid), **fields)]
    what = inspection.description
    if inspection.script_interpreter:
        what = f"a script for {inspection.script_interpreter} ({what})"
    if inspection.buildinfo:
        what += f", Go {inspection.buildinfo.go_version}"
    elif inspection.buildinfo_error:
        what += f", unreadable Go build info ({inspection.buildinfo_error})"
    return [passed(NAME, f"{ctx.program}: {what}", **fields)]


def describe(problem: FileProblem, euid: int) -> str:
    """The whole sentence: the file, what is wrong with it, and the fix where there is one."""
    if problem.script:
        return f"{problem.script} is a script for {problem.path}, which {predicate(problem, euid)}"
    return f"{problem.path} {predicate(problem, euid)}"


# What is wrong with a file, as the rest of a sentence that starts with its path.
_PREDICATES = {
    Unrunnable.MISSING: "does not exist",
    Unrunnable.DANGLING_SYMLINK: "is a dangling symlink",
    Unrunnable.SYMLINK_LOOP: "is a symlink loop",
    Unrunnable.UNEXAMINABLE: "cannot be examined: {detail}",
    Unrunnable.DIRECTORY: "is a directory, not a program",
    Unrunnable.NOT_REGULAR: "is not a regular file",
    Unrunnable.NOT_EXECUTABLE: "is not executable by uid {euid} ({detail}); chmod +x it",
    Unrunnable.NOEXEC_MOUNT: (
        "is on a filesystem mounted noexec: exec would fail with EACCES whatever its mode "
        "({detail}); move it, or remount without noexec"
    ),
    Unrunnable.UNREADABLE: "cannot be read: {detail}",
    Unrunnable.UNKNOWN_FORMAT: (
        "is neither an ELF executable nor a #! script (it starts with {detail}); "
        "exec would fail with ENOEXEC"
    ),
    Unrunnable.NO_INTERPRETER_NAMED: "is a #! script naming no interpreter",
    Unrunnable.BAD_ELF: "{detail}",
    Unrunnable.NOT_AN_EXECUTABLE: "is an {detail}, not an executable",
    Unrunnable.WRONG_HOST: "is an {detail}; this host runs {host} programs",
}


def predicate(problem: FileProblem, euid: int) -> str:
    """EUID: the user whose exec permission was judged."""
    host = _host_description() if problem.reason is Unrunnable.WRONG_HOST else ""
    return _PREDICATES[problem.reason].format(detail=problem.detail, euid=euid, host=host)


def _host_description() -> str:
    from golaunch.elf.elffile import MACHINES
    from golaunch.host.program import host_elf

    bits, _, machine = host_elf()
    return f"{bits}-bit {MACHINES.get(machine, f'machine {machine}')}"
