"""The last steps of a start, the same for a full start and a warm one: the findings
worth journaling, READY=1, the launch entry and the exec.

Both a full start (golaunch.launch.startup) and a warm one (golaunch.launch.plan)
build their `Launch` with `launch_for`, from the execution this start computed
(golaunch.host.execution); they differ only in where the journal entries come
from: the checks just run, or the plan of the last full start with these inputs.
Both end in `finish`, so they cannot differ in what they do. This module is on
the warm path: it imports nothing it does not need there.
"""

from __future__ import annotations

import os

from golaunch.host.environment import dropped
from golaunch.status import ExitStatus
from golaunch.systemd.journal import launch_fields
from golaunch.systemd.notify import NotifyError, ascii_status

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from golaunch.findings import Finding
    from golaunch.host.execution import Execution
    from golaunch.launch.effects import Effects
    from golaunch.systemd.notify import Notifier


class Launch:
    """What a start that passed its checks does. ENTRIES: the journal fields of the
    findings worth journaling; READY: the READY=1 datagram (None: not golaunch's to send);
    ENVIRONMENT: the program's, before its output streams are attached."""

    __slots__ = (
        "argv",
        "derived",
        "dropped",
        "entries",
        "environment",
        "identifier",
        "label",
        "program",
        "ready",
    )

    def __init__(
        self,
        *,
        entries: list[dict[str, str]],
        ready: str | None,
        program: str,
        label: str,
        argv: tuple[str, ...],
        environment: dict[str, str],
        derived: list[tuple[str, str, str]],
        dropped: list[str],
        identifier: str,
    ) -> None:
        self.entries = entries
        self.ready = ready
        self.program = program
        self.label = label
        self.argv = argv
        self.environment = environment
        self.derived = derived
        self.dropped = dropped
        self.identifier = identifier


def launch_for(
    execution: Execution,
    syslog_identifier: str | None,
    environ: Mapping[str, str],
    entries: list[dict[str, str]],
) -> Launch:
    """What a start that passed its checks does with EXECUTION. SYSLOG_IDENTIFIER: the
    configured name for the program's output (None: its basename); ENTRIES: the journal
    fields of the findings worth journaling."""
    label = execution.program or execution.argv[0]
    assert execution.program is not None  # the program check failed otherwise
    derived = [
        (s.variable, s.value, s.limit.file)
        for s in execution.runtime
        if s.outcome == "set" and s.value is not None and s.limit is not None
    ]
    return Launch(
        entries=entries,
        ready=ready_status(label) if execution.notify_mode == "ready" else None,
        program=execution.program,
        label=label,
        argv=execution.argv,
        environment=dict(execution.environment),
        derived=derived,
        dropped=dropped(environ, execution.environment),
        identifier=syslog_identifier or os.path.basename(label),
    )


def checking_status(label: str) -> str:
    """What systemctl status shows while the checks run."""
    return ascii_status(f"STATUS=golaunch: checking {label}")


def ready_status(label: str) -> str:
    return f"READY=1\n{ascii_status(f'STATUS=golaunch: checks passed, running {label}')}"


def finish(
    launch: Launch, environ: Mapping[str, str], notifier: Notifier | None, effects: Effects
) -> int:
    """Journal, say READY=1, exec. Returns only when the program could not be started."""
    for fields in launch.entries:
        effects.log(fields)
    if notifier is not None and launch.ready is not None:
        try:
            notifier(launch.ready)
        except NotifyError as e:
            from golaunch.findings import failed

            return refuse([failed("notify", str(e))], launch.label, None, effects)
    return execute(launch, environ, effects)


def execute(launch: Launch, environ: Mapping[str, str], effects: Effects) -> int:
    pid = os.getpid()
    effects.log(launch_fields(launch.label, launch.argv, pid, launch.derived, launch.dropped))
    environment = dict(launch.environment)
    stream = effects.attach_output(launch.identifier, environ)
    if stream:
        environment["JOURNAL_STREAM"] = stream
    try:
        effects.execve(launch.program, launch.argv, environment)
    except OSError as e:
        from golaunch.checks.exec import execve_failed
        from golaunch.systemd.journal import finding_fields

        effects.log(finding_fields(execve_failed(launch.program, e), launch.label))
        return ExitStatus.OSERR
    return ExitStatus.SOFTWARE  # an execve that returns without raising is a bug


def refuse(
    findings: Sequence[Finding],
    label: str,
    notifier: Notifier | None,
    effects: Effects,
    status: int = ExitStatus.CONFIG,
) -> int:
    """Refuse the start: journal the findings worth journaling (warnings and failures), put
    the first failure in STATUS= (with a NOTIFIER), and return STATUS: 78 for a check or
    a configuration, 75 for a dependency that never came. Every refusal ends here: a
    configuration that did not validate, checks that failed, a readiness helper that
    could not start, a READY=1 the manager did not take."""
    from golaunch.findings import first_failure
    from golaunch.systemd.journal import finding_fields

    for finding in findings:
        if finding.journaled:
            effects.log(finding_fields(finding, label))
    first = first_failure(findings)
    assert first is not None, "a refusal without a failure"
    if notifier is not None:
        try:  # noqa: SIM105  (contextlib is not loaded on the warm path)
            notifier(ascii_status(f"STATUS=golaunch: {first.check} check failed: {first.message}"))
        except NotifyError:
            pass  # the failure is journaled, and the exit status says the rest
    return status
