"""The start-up sequence with fake effects: what is logged, notified and exec'd, in order."""

from __future__ import annotations

import dataclasses
import errno
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from golaunch.config.schema import Config, EnvironmentConfig, GoConfig, NotifyConfig, WaitConfig
from golaunch.findings import MESSAGE_IDS, Severity, failed
from golaunch.host.context import LaunchContext, build_context
from golaunch.launch.effects import Effects
from golaunch.launch.finish import refuse
from golaunch.launch.startup import connect, start
from golaunch.status import ExitStatus
from golaunch.systemd.notify import NotifyError
from tests.helpers.toolchain import Toolchain

if TYPE_CHECKING:
    from golaunch.systemd.notify import Notifier

SOCKET = {"NOTIFY_SOCKET": "/run/fake/notify"}


@dataclasses.dataclass
class Recorder:
    """Fake effects that record every call in one list, in order."""

    fail_connect: bool = False
    fail_ready: bool = False
    exec_errno: int | None = None
    fail_mkdir: bool = False
    calls: list[tuple[str, object]] = dataclasses.field(default_factory=list)

    def effects(self) -> Effects:
        return Effects(
            log=self._log,
            connect_notifier=self._connect,
            execve=self._execve,
            attach_output=self._attach,
            make_directory=self._mkdir,
            spawn_helper=self._spawn,
        )

    def _spawn(self, spec: dict[str, object], environment: Mapping[str, str]) -> None:
        self.calls.append(("spawn", spec))

    def _log(self, fields: Mapping[str, str]) -> None:
        self.calls.append(("log", dict(fields)))

    def _connect(self, environ: Mapping[str, str]) -> Notifier:
        if self.fail_connect:
            raise NotifyError("cannot connect to NOTIFY_SOCKET=/run/fake/notify: refused")
        return self._notify

    def _notify(self, message: str) -> None:
        if self.fail_ready and message.startswith("READY=1"):
            raise NotifyError("cannot send to NOTIFY_SOCKET=/run/fake/notify: refused")
        self.calls.append(("notify", message))

    def _execve(self, path: str, argv: Sequence[str], env: Mapping[str, str]) -> None:
        if self.exec_errno is not None:
            raise OSError(self.exec_errno, "fake")
        self.calls.append(("execve", path))

    def _attach(self, identifier: str, environ: Mapping[str, str]) -> str | None:
        return None

    def _mkdir(self, path: str) -> None:
        if self.fail_mkdir:
            raise OSError(errno.EACCES, "Permission denied")
        self.calls.append(("mkdir", path))
        Path(path).mkdir(mode=0o700)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.calls]

    def notified(self) -> list[str]:
        return [str(message) for kind, message in self.calls if kind == "notify"]

    def logged(self) -> list[dict[str, str]]:
        return [entry for kind, entry in self.calls if kind == "log"]  # type: ignore[misc]


def context(program: str = "/bin/true", **go: Any) -> LaunchContext:
    """A context with no Go toolchain in play: /usr/sbin has no `go` (/usr/bin may)."""
    go_config = GoConfig(**go)
    environment = EnvironmentConfig(path="/usr/sbin")
    config = Config(program=program, go=go_config, environment=environment)
    return build_context(config, {"PATH": "/usr/sbin", **SOCKET})


def test_success_notifies_checking_then_ready_then_execs() -> None:
    recorder = Recorder()
    assert start(context(), recorder.effects()) == ExitStatus.SOFTWARE  # the fake execve returns
    assert recorder.kinds()[0] == "notify" and recorder.kinds()[-2:] == ["log", "execve"]
    first, ready = recorder.notified()
    assert first == "STATUS=golaunch: checking /bin/true"
    assert ready == "READY=1\nSTATUS=golaunch: checks passed, running /bin/true"
    assert recorder.logged()[-1]["GOLAUNCH_CHECK"] == "exec"  # the launch entry


@pytest.mark.parametrize(
    ("recorder", "program", "status", "failed_check", "last_status"),
    [
        (Recorder(fail_connect=True), "/bin/true", ExitStatus.CONFIG, "notify", None),
        (Recorder(), "/nonexistent/server", ExitStatus.CONFIG, "program", "program check failed"),
        (Recorder(fail_ready=True), "/bin/true", ExitStatus.CONFIG, "notify", "checking"),
        (Recorder(exec_errno=errno.ENOEXEC), "/bin/true", ExitStatus.OSERR, "exec", "READY=1"),
    ],
    ids=["notify-fails", "a-check-fails", "ready-fails", "exec-fails"],
)
def test_failures(
    recorder: Recorder, program: str, status: int, failed_check: str, last_status: str | None
) -> None:
    assert start(context(program), recorder.effects()) is status
    assert "execve" not in recorder.kinds()
    failures = [e for e in recorder.logged() if e["PRIORITY"] == "3"]
    assert [e["GOLAUNCH_CHECK"] for e in failures] == [failed_check]
    assert failures[0]["MESSAGE_ID"] == MESSAGE_IDS[(failed_check, Severity.FAIL)]
    notified = recorder.notified()
    if last_status is None:
        assert notified == []
    else:
        assert last_status in notified[-1]
    if failed_check == "exec":
        assert failures[0]["ERRNO"] == str(errno.ENOEXEC)
    else:
        assert not any(m.startswith("READY=1") for m in notified)


def test_caches_are_created_only_after_every_check_passed(
    tmp_path: Path, go_new: Toolchain
) -> None:
    """Caches asked for ask for a toolchain too (golaunch.host.context.requires_toolchain)."""
    cache, modcache = tmp_path / "c", tmp_path / "m"
    dirs = {"gocache": str(cache), "gomodcache": str(modcache), "goroot": str(go_new.goroot)}
    failing = Recorder()
    start(context("/nonexistent/server", **dirs), failing.effects())
    assert "mkdir" not in failing.kinds() and not cache.exists()
    passing = Recorder()
    start(context(**dirs), passing.effects())
    assert passing.kinds().index("mkdir") < passing.kinds().index("execve")
    assert cache.stat().st_mode & 0o777 == 0o700 and modcache.is_dir()


def test_a_cache_that_cannot_be_created_refuses_the_start(
    tmp_path: Path, go_new: Toolchain
) -> None:
    recorder = Recorder(fail_mkdir=True)
    dirs = {"gocache": str(tmp_path / "c"), "gomodcache": str(tmp_path / "m")}
    dirs["goroot"] = str(go_new.goroot)
    assert start(context(**dirs), recorder.effects()) == ExitStatus.CONFIG
    checks = {e["GOLAUNCH_CHECK"] for e in recorder.logged()}
    assert checks == {"gocache", "gomodcache"} and "execve" not in recorder.kinds()
    assert "cannot be created: Permission denied" in recorder.notified()[-1]


@pytest.mark.parametrize(
    ("mode", "environ", "connects"),
    [("ready", SOCKET, True), ("none", SOCKET, False), ("passthrough", SOCKET, False)],
)
def test_a_refusal_notifies_through_the_same_path(
    mode: str, environ: Mapping[str, str], connects: bool
) -> None:
    recorder = Recorder()
    finding = failed("config", "go.version in /etc/golaunch/x.toml: bad")
    effects = recorder.effects()
    notifier, _ = connect(
        mode, environ, effects, None
    )  # as golaunch.commands.refuse_configuration does
    status = refuse([finding], "/opt/app/server", notifier, effects)
    assert status == ExitStatus.CONFIG
    assert recorder.logged()[0]["GOLAUNCH_CHECK"] == "config"
    expected = ["STATUS=golaunch: config check failed: go.version in /etc/golaunch/x.toml: bad"]
    assert recorder.notified() == (expected if connects else [])


def test_a_ready_probe_hands_readiness_to_the_checker() -> None:
    """READY=1 is not golaunch's to send: the helper sends it once the probe succeeds."""
    recorder = Recorder()
    ctx = context()
    ctx = dataclasses.replace(
        ctx, config=dataclasses.replace(ctx.config, notify=NotifyConfig(probe="tcp://127.0.0.1:9"))
    )
    start(ctx, recorder.effects())
    assert not any(m.startswith("READY=1") for m in recorder.notified())
    assert recorder.kinds().index("spawn") < recorder.kinds().index("execve")
    (spec,) = [s for kind, s in recorder.calls if kind == "spawn"]
    assert spec["probe"] == "tcp://127.0.0.1:9"  # type: ignore[index]
    assert recorder.notified()[-1] == (
        "STATUS=golaunch: checks passed; ready once tcp://127.0.0.1:9 answers"
    )


def test_a_dependency_that_never_comes_exits_75(tmp_path: Path) -> None:
    recorder = Recorder()
    ctx = context()
    wait = WaitConfig((f"file://{tmp_path / 'never'}",), timeout=0.3)
    ctx = dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, wait=wait))
    assert start(ctx, recorder.effects()) == ExitStatus.TEMPFAIL
    assert [e["GOLAUNCH_CHECK"] for e in recorder.logged()] == ["wait"]
    assert "execve" not in recorder.kinds()


def conmon_readies(messages: list[str]) -> list[int]:
    """Which datagrams podman's conmon would turn into READY=1: any that holds READY=1 or
    WATCHDOG=1 anywhere, as it searches them."""
    return [i for i, m in enumerate(messages) if "READY=1" in m or "WATCHDOG=1" in m]


@pytest.mark.parametrize(
    ("probe", "program"),
    [
        ("http://127.0.0.1:9/READY=1", "/opt/READY=1/server"),
        ("http://127.0.0.1:9/health?WATCHDOG=1", "/opt/WATCHDOG=1"),
    ],
)
def test_no_status_reads_as_ready_to_a_relay(probe: str, program: str) -> None:
    """READY=1 and WATCHDOG=1 never appear in STATUS= text, even from a URL or a path: a
    relay that searches datagrams for them would report ready before the program is."""
    recorder = Recorder()
    ctx = context(program)
    ctx = dataclasses.replace(
        ctx, config=dataclasses.replace(ctx.config, notify=NotifyConfig(probe=probe))
    )
    start(ctx, recorder.effects())
    messages = recorder.notified()
    assert len(messages) >= 2 and conmon_readies(messages) == [], messages
    assert any("READY\\x3d1" in m or "WATCHDOG\\x3d1" in m for m in messages)
