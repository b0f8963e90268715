"""execve(2) itself: golaunch's size check against the kernel's, and failures after READY=1."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from golaunch.checks import exec as exec_check
from golaunch.config.schema import Config, EnvironmentConfig
from golaunch.findings import Severity
from golaunch.host.context import build_context
from golaunch.host.environment import arg_max, exec_size, exec_strings
from golaunch.launch.effects import Effects
from golaunch.launch.startup import start
from golaunch.status import ExitStatus
from golaunch.systemd.notify import connect_notifier
from tests.helpers.paths import BASE_PATH, BUILD
from tests.helpers.process import NotifyListener


def variables_adding(amount: int, prefix: str = "V") -> dict[str, str]:
    """Variables that add exactly AMOUNT bytes to exec_size, each under MAX_ARG_STRLEN so
    only the total can be too much."""
    env: dict[str, str] = {}
    while amount > 0:
        name = f"{prefix}{len(env):03}"
        overhead = len(name) + len("=") + 1 + 8  # the NUL and the pointer
        value = min(100_000, amount - overhead)
        if 0 < amount - overhead - value < 2 * overhead:
            value -= 2 * overhead  # leave the last variable room for its own name
        assert value >= 0, "AMOUNT is too small for one more variable"
        env[name] = "v" * value
        amount -= overhead + value
    return env


def environment_of_size(filename: str, size: int) -> dict[str, str]:
    """An environment that makes execve(FILENAME, [FILENAME], env) count SIZE bytes."""
    env = variables_adding(size - exec_size(filename, exec_strings([filename], {})))
    assert exec_size(filename, exec_strings([filename], env)) == size
    return env


def test_exec_size_counts_what_the_kernel_counts(tmp_path: Path) -> None:
    """Exactly ARG_MAX bytes execute, one more is E2BIG: the kernel is the oracle. The long
    file name matters: the kernel copies it onto the new stack too."""
    program = tmp_path / ("a-program-with-a-long-name-" * 4)
    program.symlink_to("/bin/true")
    filename = str(program)
    subprocess.run([filename], env=environment_of_size(filename, arg_max()), check=True)
    with pytest.raises(OSError) as error:
        subprocess.run([filename], env=environment_of_size(filename, arg_max() + 1), check=False)
    assert error.value.errno == errno.E2BIG


def test_the_check_reserves_room_for_a_new_journal_stream() -> None:
    """launch may replace JOURNAL_STREAM with a longer dev:ino after the check: an
    environment that fits only with the short inherited value already fails."""
    filename = "/bin/true"
    inherited = {"PATH": BASE_PATH, "JOURNAL_STREAM": "8:1"}
    config = Config(program=filename, environment=EnvironmentConfig(keep=("KEPT*",)))
    base = build_context(config, inherited).environment
    room = arg_max() - exec_size(filename, exec_strings([filename], base))
    kept = variables_adding(room - 10, prefix="KEPT")  # fits, with 10 bytes to spare
    ctx = build_context(config, {**inherited, **kept})
    assert exec_size(filename, exec_strings(ctx.argv, ctx.environment)) == arg_max() - 10
    (finding,) = exec_check.check(ctx)
    assert finding.severity is Severity.FAIL
    assert "more than ARG_MAX" in finding.message


def spawn(spec: dict[str, object], environment: Mapping[str, str]) -> None:
    raise AssertionError("no probe is configured: nothing to spawn")


def _too_big(path: str, argv: Sequence[str], env: Mapping[str, str]) -> None:
    """A limit nobody could foresee (the check matches the kernel): the real execve, E2BIG."""
    os.execve(path, list(argv), {**env, **{f"HUGE{i}": "h" * 100_000 for i in range(100)}})


def _replaced(path: str, argv: Sequence[str], env: Mapping[str, str]) -> None:
    """The file changed between check and exec (an upgrade mid-start): ENOEXEC."""
    Path(path).write_bytes(b"\0" * 64)
    os.execve(path, list(argv), dict(env))


@pytest.mark.parametrize(
    ("execve", "code", "reason"),
    [(_too_big, errno.E2BIG, "Argument list too long"), (_replaced, errno.ENOEXEC, "Exec format")],
    ids=["E2BIG", "ENOEXEC"],
)
def test_execve_failing_after_ready_exits_71_and_says_why(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    execve: Callable[..., None],
    code: int,
    reason: str,
) -> None:
    program = tmp_path / "server"
    program.write_bytes(Path("/bin/true").read_bytes())
    program.chmod(0o755)
    socket_path = str(tmp_path / "notify.sock")
    listener = NotifyListener(socket_path, socket_path)
    monkeypatch.setenv("NOTIFY_SOCKET", socket_path)  # sdnotify reads os.environ
    environ = {"PATH": BASE_PATH, "HOME": str(BUILD / "home"), "NOTIFY_SOCKET": socket_path}
    ctx = build_context(Config(program=str(program)), environ)
    logged: list[Mapping[str, str]] = []
    effects = Effects(
        log=logged.append,
        connect_notifier=connect_notifier,
        execve=execve,
        attach_output=lambda _name, _env: None,
        make_directory=os.makedirs,
        spawn_helper=spawn,
    )

    assert start(ctx, effects) == ExitStatus.OSERR
    assert listener.messages()[-1].startswith("READY=1\n")
    exec_entry = logged[-1]
    assert exec_entry["GOLAUNCH_CHECK"] == "exec" and exec_entry["PRIORITY"] == "3"
    assert exec_entry["ERRNO"] == str(code) and exec_entry["GOLAUNCH_PATH"] == str(program)
    assert f"execve {program} failed: {reason}" in exec_entry["MESSAGE"]
    listener.sock.close()
