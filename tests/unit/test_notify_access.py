"""NotifyAccess= and Type= as the ready-probe and notify checks judge them, and what the
start sends for them: NOTIFYACCESS=all before the helper where systemd 254+ takes it."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from golaunch.checks import notify, ready_probe
from golaunch.config.schema import NotifyConfig
from golaunch.findings import Severity
from golaunch.host.context import LaunchContext
from golaunch.launch.startup import hand_over_readiness, start
from golaunch.status import ExitStatus
from golaunch.systemd.manager import KnownView, UnitView, major_version
from tests.unit.test_startup import Recorder, context

PROBE = "tcp://127.0.0.1:9"


def probed(access: str, version: int | None, service_type: str = "notify") -> LaunchContext:
    ctx = context()
    view = UnitView("app.service", {"NotifyAccess": access, "Type": service_type}, None)
    settings = NotifyConfig(probe=PROBE)
    config = dataclasses.replace(ctx.config, notify=settings)
    return dataclasses.replace(ctx, config=config, unit_view=KnownView(view, version))


@pytest.mark.parametrize(
    ("access", "version", "severity", "widens"),
    [
        ("all", 252, Severity.PASS, False),
        ("all", 257, Severity.PASS, False),
        ("main", 252, Severity.FAIL, False),
        ("main", 253, Severity.FAIL, False),
        ("main", 254, Severity.PASS, True),
        ("exec", 257, Severity.PASS, True),
        ("main", None, Severity.FAIL, False),  # the version could not be asked
        ("none", 257, Severity.FAIL, False),  # not even golaunch's own word is taken
    ],
)
def test_a_probe_under_each_notify_access(
    access: str, version: int | None, severity: Severity, widens: bool
) -> None:
    ctx = probed(access, version)
    (finding,) = ready_probe.check(ctx)
    assert finding.severity == severity, finding.message
    assert (ready_probe.widened_access(ctx) == access) == widens
    recorder = Recorder()
    status = start(ctx, recorder.effects())
    spawned = [spec for kind, spec in recorder.calls if kind == "spawn"]
    if severity == Severity.FAIL:
        assert status == ExitStatus.CONFIG and spawned == []
        assert f"NotifyAccess={access}" in finding.message
        if access != "none":
            told = f"systemd {version}" if version else "the service manager"
            assert f"({told} cannot be told NOTIFYACCESS=all; 254 and later can)" in finding.message
        return
    (spec,) = spawned
    assert spec["restore_access"] == (access if widens else None)  # type: ignore[index]
    kinds = [(kind, message) for kind, message in recorder.calls if kind in ("notify", "spawn")]
    if widens:  # before the helper exists, while golaunch is the main process
        assert kinds.index(("notify", "NOTIFYACCESS=all")) == kinds.index(("spawn", spec)) - 1
        assert f"NotifyAccess={access}, so golaunch sends NOTIFYACCESS=all" in finding.message
    else:
        assert "NOTIFYACCESS=all" not in recorder.notified()


def test_the_watchdog_keeps_notify_access_widened() -> None:
    ctx = probed("main", 257)
    settings = NotifyConfig(probe=PROBE, watchdog=True)
    ctx = dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, notify=settings))
    (finding,) = ready_probe.check(ctx)
    assert finding.severity == Severity.PASS
    assert "it stays all while the helper pings the watchdog" in finding.message
    recorder = Recorder()
    effects = recorder.effects()
    assert hand_over_readiness(ctx, effects.connect_notifier({}), effects) is None
    (spec,) = [spec for kind, spec in recorder.calls if kind == "spawn"]
    assert recorder.notified()[0] == "NOTIFYACCESS=all"
    assert spec["restore_access"] is None  # type: ignore[index]


@pytest.mark.parametrize(
    ("service_type", "mode", "warns"),
    [
        ("notify-reload", "ready", True),
        ("notify-reload", "passthrough", False),  # the program answers the signal itself
        ("notify", "ready", False),
        ("simple", "none", False),
    ],
)
def test_notify_reload_needs_a_program_that_notifies(
    service_type: str, mode: str, warns: bool
) -> None:
    ctx = probed("all", 257, service_type)
    execution = copy.copy(ctx.execution)
    execution.notify_mode = mode
    findings = notify.check(dataclasses.replace(ctx, execution=execution))
    assert [f.severity for f in findings] == ([Severity.WARN] if warns else [])
    if warns:
        assert "Type=notify-reload" in findings[0].message and "RELOADING=1" in findings[0].message


def test_no_unit_view_no_notify_finding() -> None:
    assert notify.check(context()) == []  # a plain start asks the manager nothing


@pytest.mark.parametrize(
    ("text", "major"),
    [("252.39-1~deb12u1", 252), ("257.9-1~deb13u1", 257), ("258", 258), ("", None), ("v2", None)],
)
def test_major_version(text: str, major: int | None) -> None:
    assert major_version(text) == major
