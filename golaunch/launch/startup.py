"""The start-up sequence: notify, check, report, prepare, READY=1, exec.

Both a launch and a refusal (the configuration did not even validate) connect
the notifier here, the same way, so systemd always learns why. Side effects
come in as `Effects` (golaunch.launch.effects).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from golaunch.checks import cachedir, run_checks
from golaunch.findings import Finding, Severity, failed
from golaunch.host.context import LaunchContext
from golaunch.host.execution import go_dirs_in_play
from golaunch.launch.effects import Effects
from golaunch.launch.finish import Launch, checking_status, execute, finish, launch_for
from golaunch.status import ExitStatus
from golaunch.systemd.journal import finding_fields
from golaunch.systemd.notify import NotifyError, ascii_status, watchdog_usec

if TYPE_CHECKING:
    from golaunch.inputs.trace import Recorder
    from golaunch.systemd.notify import Notifier


def connect(
    notify_mode: str, inherited: Mapping[str, str], effects: Effects, status: str | None
) -> tuple[Notifier | None, list[Finding]]:
    """The notifier for a start in ready mode, having sent STATUS; or why there is none."""
    if notify_mode != "ready":
        return None, []
    try:
        notifier = effects.connect_notifier(inherited)
        if status:
            notifier(status)
    except NotifyError as e:
        return None, [failed("notify", f"{e}; systemd would wait out its start timeout")]
    return notifier, []


def refuse(
    findings: Sequence[Finding],
    program: str,
    notifier: Notifier | None,
    effects: Effects,
    status: int = ExitStatus.CONFIG,
) -> int:
    """Log every finding, put the first failure in STATUS=, and say why we exit (78)."""
    report_findings(findings, program, effects)
    first = next(f for f in findings if f.severity is Severity.FAIL)
    if notifier:
        # If even this fails, the failure is already logged and the exit status says the rest.
        with contextlib.suppress(NotifyError):
            notifier(ascii_status(f"STATUS=golaunch: {first.check} check failed: {first.message}"))
    return status


def refuse_start(
    findings: Sequence[Finding],
    program: str,
    notify_mode: str,
    inherited: Mapping[str, str],
    effects: Effects,
) -> int:
    """Refuse a start that never got as far as a launch context (invalid configuration)."""
    notifier, _ = connect(notify_mode, inherited, effects, None)
    return refuse(findings, program, notifier, effects)


def report_findings(findings: Sequence[Finding], program: str, effects: Effects) -> None:
    for finding in findings:
        if finding.journaled:
            effects.log(finding_fields(finding, program))


def start(
    ctx: LaunchContext,
    effects: Effects,
    recorder: Recorder | None = None,
    remember: Callable[[Launch], None] | None = None,
) -> int:
    """Check, prepare, notify and exec. Returns only when the program could not be started.
    RECORDER, when given, sees what the checks read; REMEMBER then keeps the verdict for
    the next start (golaunch.launch.plan), if nothing had to be created for it."""
    program = ctx.program_label
    notifier, findings = connect(ctx.notify_mode, ctx.inherited, effects, checking_status(program))
    if ctx.config.wait.probes and not findings:
        from golaunch.readiness.gate import wait_for  # only a gated start loads the probes

        notify = ctx.config.notify
        absent = wait_for(
            ctx.config.wait, notify.probe_interval, notify.probe_attempt_timeout, notifier
        )
        if absent:
            return refuse([absent], program, notifier, effects, ExitStatus.TEMPFAIL)
    with recorder or contextlib.nullcontext():
        findings += run_checks(ctx)
    created = False
    if not any(f.severity is Severity.FAIL for f in findings):
        problems, created = prepare(ctx, effects)
        findings += problems
    if any(f.severity is Severity.FAIL for f in findings):
        return refuse(findings, program, notifier, effects)
    entries = [finding_fields(f, program) for f in findings if f.journaled]
    launch = launch_for(ctx.execution, ctx.config.log.syslog_identifier, ctx.inherited, entries)
    if notifier and ctx.config.notify.probe:
        for fields in launch.entries:
            effects.log(fields)
        problem = hand_over_readiness(ctx, notifier, effects)
        if problem:
            return refuse([problem], program, notifier, effects)
        return execute(launch, ctx.inherited, effects)
    if remember is not None and not created:
        remember(launch)
    return finish(launch, ctx.inherited, notifier, effects)


def hand_over_readiness(ctx: LaunchContext, notifier: Notifier, effects: Effects) -> Finding | None:
    """Start the helper that sends READY=1 once the probe succeeds (golaunch.readiness.helper)."""
    notify = ctx.config.notify
    spec: dict[str, object] = {
        "probe": notify.probe,
        "interval": notify.probe_interval,
        "attempt_timeout": notify.probe_attempt_timeout,
        "timeout": notify.probe_timeout,
        "watchdog": notify.watchdog,
        "watchdog_usec": watchdog_usec(ctx.inherited, os.getpid()) or 0,  # the config check
        "program": ctx.program_label,
        "log_target": ctx.config.log.target,
    }
    names = ("NOTIFY_SOCKET", "JOURNAL_STREAM", "LANG", "PATH")
    environment = {name: ctx.inherited[name] for name in names if name in ctx.inherited}
    try:
        effects.spawn_helper(spec, environment)
        notifier(ascii_status(f"STATUS=golaunch: checks passed; ready once {notify.probe} answers"))
    except (OSError, NotifyError) as e:
        return failed("ready-probe", f"the helper could not be started: {e}")
    return None


def prepare(ctx: LaunchContext, effects: Effects) -> tuple[list[Finding], bool]:
    """Create the cache directories the checks judged creatable: the one write before exec.
    Returns the problems, and whether anything was created."""
    problems = []
    created = False
    for directory in (ctx.gocache, ctx.gomodcache):
        in_play = go_dirs_in_play(ctx.goroot, directory)
        if not (directory.value and in_play and ctx.cache_required(directory)):
            continue
        if os.path.lexists(directory.value):
            continue
        try:
            effects.make_directory(directory.value)
            created = True
        except OSError as e:
            problems.append(cachedir.not_created(directory, e, ctx.cache_fix(directory.name)))
    return problems, created
