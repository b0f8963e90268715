"""The ready-probe check: can READY=1 come from the helper golaunch leaves behind?

After exec golaunch is gone, so READY=1 (and WATCHDOG=1) come from a helper
process, which systemd accepts only with NotifyAccess=all (a Type=notify unit
defaults to main). From systemd 254 on, the main process may widen that itself
with NOTIFYACCESS=all (sd_notify(3)), and golaunch does so for a unit with main
or exec: before exec it is still the main process. The helper restores the
unit's setting with its READY=1, unless it stays to ping the watchdog. The
helper's own give-up entry, after exec, is worded in golaunch/readiness/helper.py.
"""

from __future__ import annotations

import os

from golaunch.findings import Finding, failed, passed, warned
from golaunch.host.context import LaunchContext

NAME = "ready-probe"
NOTIFYACCESS_SINCE = 254  # the first systemd that takes NOTIFYACCESS= from the main process


def check(ctx: LaunchContext) -> list[Finding]:
    notify = ctx.config.notify
    if notify.probe is None:
        return []
    if os.getpid() == 1:
        # After exec the program is PID 1, and a Go program reaps no child it did not
        # start: the helper would stay a zombie for the container's lifetime.
        return [
            failed(
                NAME,
                "golaunch is PID 1 (a container without an init): the readiness helper "
                "would become a zombie the program never reaps; run the container with an "
                "init (podman run --init, docker run --init, tini), which reaps it",
            )
        ]
    findings = _passed_socket(notify.probe, ctx)
    fields = {"GOLAUNCH_PROBE": notify.probe}
    every = f"every {notify.probe_interval:g} s, backing off to 2 s"
    if ctx.unit_view is None:
        # A container's manager is podman's conmon, which relays READY=1 from any
        # process: there is no NotifyAccess= to ask about (golaunch.host.surroundings).
        relayed = (
            f"READY=1 once {notify.probe} succeeds ({every}), relayed by the container's runtime"
        )
        return [*findings, passed(NAME, relayed, **fields)]
    view = ctx.unit_view.result()
    access = view.properties.get("NotifyAccess")
    if view.error:
        findings.append(
            warned(
                NAME,
                f"cannot ask the service manager ({view.error}); unless the unit has "
                "NotifyAccess=all, systemd will ignore the helper's READY=1",
                **fields,
            )
        )
    elif access == "all":
        findings.append(passed(NAME, f"READY=1 once {notify.probe} succeeds ({every})", **fields))
    elif widened_access(ctx):
        lasts = (
            "and it stays all while the helper pings the watchdog"
            if notify.watchdog
            else f"and the helper's READY=1 sets it back to {access}"
        )
        findings.append(
            passed(
                NAME,
                f"READY=1 once {notify.probe} succeeds ({every}); {view.unit} has "
                f"NotifyAccess={access}, so golaunch sends NOTIFYACCESS=all before exec, {lasts}",
                **fields,
            )
        )
    else:
        findings.append(failed(NAME, _refusal(view.unit, access, ctx), **fields))
    return findings


def widened_access(ctx: LaunchContext) -> str | None:
    """The unit's NotifyAccess= (main or exec) when golaunch must widen it to all for the
    helper and its manager lets it; None when there is nothing to widen or no way to."""
    if ctx.unit_view is None:
        return None
    view = ctx.unit_view.result()
    access = view.properties.get("NotifyAccess")
    if view.error or access not in ("main", "exec"):
        return None  # none: not even golaunch's own message would be taken
    version = ctx.unit_view.manager_version()
    return access if version is not None and version >= NOTIFYACCESS_SINCE else None


def _refusal(unit: str | None, access: str | None, ctx: LaunchContext) -> str:
    assert ctx.unit_view is not None
    if access not in ("main", "exec"):
        return (
            f"{unit} has NotifyAccess={access}: systemd takes no notification from any of "
            "its processes, READY=1 included; add NotifyAccess=all to the unit"
        )
    version = ctx.unit_view.manager_version()
    manager = f"systemd {version}" if version is not None else "the service manager"
    return (
        f"{unit} has NotifyAccess={access}: systemd takes READY=1 only from the main "
        "process, and after exec golaunch is not there to send it; add NotifyAccess=all "
        f"to the unit ({manager} cannot be told NOTIFYACCESS=all; 254 and later can)"
    )


def _passed_socket(url: str, ctx: LaunchContext) -> list[Finding]:
    from golaunch.host.listeners import passed_addresses, targets_passed_socket
    from golaunch.syntax.probeurl import parse_probe

    if not targets_passed_socket(parse_probe(url), passed_addresses(ctx.environ, os.getpid())):
        return []
    return [
        warned(
            NAME,
            f"{url} targets a socket systemd passed in (LISTEN_FDS): the kernel accepts "
            "connections on it whether or not the program serves, so the probe passes at "
            "once; probe with http:// or a file:// the program writes when it is ready",
            GOLAUNCH_PROBE=url,
        )
    ]
