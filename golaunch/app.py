"""What golaunch does with a validated configuration: check, print the environment, launch.

Side effects (journal, sd_notify, execve) come in as `Effects`, so the whole
decision path runs in tests without systemd; tests/system proves the real ones.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from golaunch.checks import run_checks
from golaunch.context import LaunchContext
from golaunch.exitcodes import ExitStatus
from golaunch.findings import Finding, Severity, failed
from golaunch.journal import finding_fields, launch_fields
from golaunch.notify import Notifier, NotifyError, ascii_status

if TYPE_CHECKING:
    from golaunch.report import Report


@dataclass(frozen=True)
class Effects:
    log: Callable[[Mapping[str, str]], None]
    connect_notifier: Callable[[Mapping[str, str]], Notifier]
    execve: Callable[[str, Sequence[str], Mapping[str, str]], None]
    # (identifier, golaunch's environment) -> the program's new JOURNAL_STREAM, if any
    attach_output: Callable[[str, Mapping[str, str]], str | None]


def check_report(ctx: LaunchContext) -> Report:
    from golaunch.inspect import binary_document
    from golaunch.report import Report

    return Report(
        ctx.program_label, run_checks(ctx), ctx.environment, binary_document(ctx.inspection)
    )


def report_findings(findings: Sequence[Finding], program: str, effects: Effects) -> None:
    for finding in findings:
        if finding.reportable:
            effects.log(finding_fields(finding, program))


def fail_start(
    findings: Sequence[Finding], program: str, notifier: Notifier | None, effects: Effects
) -> ExitStatus:
    """Log every finding, put the first failure in STATUS=, and say why we exit 78."""
    report_findings(findings, program, effects)
    first = next(f for f in findings if f.severity is Severity.FAIL)
    if notifier:
        # If even this fails, the failure is already logged and exit 78 says the rest.
        with contextlib.suppress(NotifyError):
            notifier(ascii_status(f"STATUS=golaunch: {first.check} check failed: {first.message}"))
    return ExitStatus.CONFIG


def output_identifier(ctx: LaunchContext) -> str:
    """SYSLOG_IDENTIFIER for the program's output: configured, else its basename."""
    return ctx.config.log.syslog_identifier or os.path.basename(ctx.program_label)


def launch(ctx: LaunchContext, effects: Effects) -> ExitStatus:
    """Check, notify and exec. Returns only when the program could not be started."""
    program = ctx.program_label
    notifier: Notifier | None = None
    findings: list[Finding] = []
    if ctx.notify_mode == "ready":
        try:
            notifier = effects.connect_notifier(ctx.inherited)
            notifier(ascii_status(f"STATUS=golaunch: checking {program}"))
        except NotifyError as e:
            notifier = None
            findings.append(failed("notify", f"{e}; systemd would wait out its start timeout"))
    findings += run_checks(ctx)
    if any(f.severity is Severity.FAIL for f in findings):
        return fail_start(findings, program, notifier, effects)
    report_findings(findings, program, effects)
    if notifier:
        try:
            notifier(
                f"READY=1\n{ascii_status(f'STATUS=golaunch: checks passed, running {program}')}"
            )
        except NotifyError as e:
            return fail_start([failed("notify", str(e))], program, None, effects)
    assert ctx.program is not None  # check_program failed otherwise
    effects.log(launch_fields(program, ctx.argv, os.getpid()))
    environment = dict(ctx.environment)
    stream = effects.attach_output(output_identifier(ctx), ctx.inherited)
    if stream:
        environment["JOURNAL_STREAM"] = stream
    try:
        effects.execve(ctx.program, ctx.argv, environment)
    except OSError as e:
        code = e.errno or 0
        effects.log(
            finding_fields(
                failed(
                    "exec",
                    f"execve {ctx.program} failed: {os.strerror(code)} (errno {code})",
                    ERRNO=str(code),
                    GOLAUNCH_PATH=ctx.program,
                ),
                program,
            )
        )
        return ExitStatus.OSERR
    return ExitStatus.SOFTWARE  # an execve that returns without raising is a bug


def real_execve(path: str, argv: Sequence[str], environment: Mapping[str, str]) -> None:
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(path, list(argv), dict(environment))
