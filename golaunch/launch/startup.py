"""The full start, one pass down: notify, wait for dependencies, check, prepare, then
finish (golaunch.launch.finish: READY=1 and exec) or refuse.

Side effects come in as `Effects` (golaunch.launch.effects); a `Keeper`
(golaunch.launch.plan) records what the checks read and keeps the verdict for
the next, warm, start. A configuration that did not validate connects the
notifier here too (`connect`), so that systemd always learns why.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from golaunch.checks import cachedir, notify, run_checks
from golaunch.checks.ready_probe import widened_access
from golaunch.findings import Finding, failed, first_failure
from golaunch.host.context import LaunchContext
from golaunch.host.execution import go_dirs_in_play
from golaunch.launch.effects import Effects
from golaunch.launch.finish import checking_status, execute, finish, launch_for, refuse
from golaunch.status import ExitStatus
from golaunch.systemd.journal import finding_fields
from golaunch.systemd.notify import NotifyError, ascii_status, watchdog_usec

if TYPE_CHECKING:
    from golaunch.launch.keeper import Keeper
    from golaunch.systemd.notify import Notifier


def connect(
    notify_mode: str, environ: Mapping[str, str], effects: Effects, status: str | None
) -> tuple[Notifier | None, list[Finding]]:
    """The notifier for a start in ready mode, having sent STATUS; or why there is none."""
    if notify_mode != "ready":
        return None, []
    try:
        notifier = effects.connect_notifier(environ)
        if status:
            notifier(status)
    except NotifyError as e:
        return None, [notify.unreachable(e)]
    return notifier, []


def start(ctx: LaunchContext, effects: Effects, keeper: Keeper | None = None) -> int:
    """Check, prepare, notify and exec. Returns only when the program could not be started.
    KEEPER, when given, records what the checks read and keeps the verdict for the next
    start, if nothing had to be created for it."""
    label = ctx.label
    notifier, findings = connect(ctx.notify_mode, ctx.environ, effects, checking_status(label))
    if ctx.config.wait.probes and not findings:
        from golaunch.readiness.gate import wait_for  # only a gated start loads the probes

        notify = ctx.config.notify
        absent = wait_for(
            ctx.config.wait, notify.probe_interval, notify.probe_attempt_timeout, notifier
        )
        if absent:
            return refuse([absent], label, notifier, effects, ExitStatus.TEMPFAIL)
    with keeper.recorder if keeper else contextlib.nullcontext():
        findings += run_checks(ctx)
    created = False
    if first_failure(findings) is None:
        problems, created = prepare(ctx, effects)
        findings += problems
    if first_failure(findings) is not None:
        return refuse(findings, label, notifier, effects)
    entries = [finding_fields(f, label) for f in findings if f.journaled]
    launch = launch_for(ctx.execution, ctx.config.log.syslog_identifier, ctx.environ, entries)
    if notifier and ctx.config.notify.probe:
        for fields in launch.entries:
            effects.log(fields)
        problem = hand_over_readiness(ctx, notifier, effects)
        if problem:
            return refuse([problem], label, notifier, effects)
        return execute(launch, ctx.environ, effects)
    if keeper is not None and not created:
        keeper.remember(launch)
    return finish(launch, ctx.environ, notifier, effects)


def hand_over_readiness(ctx: LaunchContext, notifier: Notifier, effects: Effects) -> Finding | None:
    """Start the helper that sends READY=1 once the probe succeeds (golaunch.readiness.helper).
    Under NotifyAccess=main or exec the unit first lets it (golaunch.checks.ready_probe)."""
    settings = ctx.config.notify
    unit_access = widened_access(ctx)
    spec: dict[str, object] = {
        "probe": settings.probe,
        "interval": settings.probe_interval,
        "attempt_timeout": settings.probe_attempt_timeout,
        "timeout": settings.probe_timeout,
        "watchdog": settings.watchdog,
        "watchdog_usec": watchdog_usec(ctx.environ, os.getpid()) or 0,  # the config check
        "program": ctx.label,
        "log_target": ctx.config.log.target,
        # What READY=1 sets back; the watchdog's pings need all for as long as they go on.
        "restore_access": None if settings.watchdog else unit_access,
    }
    names = ("NOTIFY_SOCKET", "JOURNAL_STREAM", "LANG", "PATH")
    environment = {name: ctx.environ[name] for name in names if name in ctx.environ}
    try:
        if unit_access:  # first, so that the manager has it before the helper's first word
            notifier("NOTIFYACCESS=all")
        effects.spawn_helper(spec, environment)
        notifier(
            ascii_status(f"STATUS=golaunch: checks passed; ready once {settings.probe} answers")
        )
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
