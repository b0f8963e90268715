"""The notify check: does the unit's notification protocol fit golaunch's notify mode?

In ready mode golaunch speaks for the program and hides NOTIFY_SOCKET from it. That
cannot serve Type=notify-reload (systemd 253): on reload systemd signals the main
process (ReloadSignal=, SIGHUP by default) and waits for that program's own RELOADING=1
and READY=1. The unit's Type is known where the manager was asked anyway (a probe, the
watchdog, --check --unit); a plain start asks nothing for it. The failure to reach
NOTIFY_SOCKET at all is found by the start sequence (golaunch.launch.startup), and
worded here.
"""

from __future__ import annotations

from golaunch.findings import Finding, failed, warned
from golaunch.host.context import LaunchContext

NAME = "notify"


def check(ctx: LaunchContext) -> list[Finding]:
    if ctx.unit_view is None or ctx.notify_mode == "passthrough":
        return []
    view = ctx.unit_view.result()
    if view.properties.get("Type") != "notify-reload":
        return []
    return [
        warned(
            NAME,
            f"{view.unit} has Type=notify-reload: on reload systemd signals the program "
            "(ReloadSignal=, SIGHUP by default) and waits for its RELOADING=1 and READY=1, "
            f"but with --notify {ctx.notify_mode} the program has no NOTIFY_SOCKET, so "
            "every reload fails (and a Go program that does not handle SIGHUP exits); use "
            "Type=notify with ExecReload=golaunch --reload, or --notify passthrough for a "
            "program that speaks sd_notify",
        )
    ]


def unreachable(error: object) -> Finding:
    """NOTIFY_SOCKET unset, unreachable or refusing: READY=1 could never be sent."""
    return failed(NAME, f"{error}; systemd would wait out its start timeout")
