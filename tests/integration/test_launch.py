"""The launch path for real: sd_notify to a bound socket, execve with the same PID, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from golaunch.systemd.notify import SEND_TIMEOUT
from tests.helpers.namespace import fill_datagram_queue
from tests.helpers.paths import BASE_PATH, BUILD
from tests.helpers.process import NotifyListener


@pytest.fixture(params=["path", "abstract"])
def listener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NotifyListener]:
    if request.param == "path":
        path = str(tmp_path / "notify.sock")
        result = NotifyListener(path, path)
    else:
        name = f"golaunch-test-{os.getpid()}-{id(request)}"
        result = NotifyListener("@" + name, b"\0" + name.encode())
    yield result
    result.sock.close()


def launch(
    *args: str, env: dict[str, str], prefix: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[str], str, str]:
    """golaunch with ENV; a toolchain is on PATH (/usr/bin/go), so HOME is given for its caches."""
    home = str(BUILD / "home")
    process = subprocess.Popen(
        [*prefix, sys.executable, "-m", "golaunch", *args],
        env={"PATH": BASE_PATH, "HOME": home, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = process.communicate(timeout=60)
    return process, out, err


def test_ready_then_exec_with_same_pid_and_sanitized_environment(
    listener: NotifyListener, printenv_program: Path, tmp_path: Path
) -> None:
    env = {
        "NOTIFY_SOCKET": listener.address,
        "LD_PRELOAD": "",
        "UNLISTED": "x",
        "MYAPP_A": "1",
        "HOME": str(tmp_path),
    }
    process, out, err = launch("--keep-env", "MYAPP_*", "--", str(printenv_program), "a b", env=env)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == f"pid={process.pid}"  # exec kept golaunch's PID
    assert "arg=a b" in lines
    program_env = dict(line[4:].split("=", 1) for line in lines if line.startswith("env="))
    assert "NOTIFY_SOCKET" not in program_env and "UNLISTED" not in program_env
    assert "LD_PRELOAD" not in program_env
    assert program_env["MYAPP_A"] == "1"
    assert listener.messages() == [
        f"STATUS=golaunch: checking {printenv_program}",
        f"READY=1\nSTATUS=golaunch: checks passed, running {printenv_program}",
    ]


def test_passthrough_sends_nothing_and_keeps_the_socket(
    listener: NotifyListener, printenv_program: Path
) -> None:
    process, out, err = launch(
        "--notify",
        "passthrough",
        "--",
        str(printenv_program),
        env={"NOTIFY_SOCKET": listener.address},
    )
    assert process.returncode == 0, err
    assert f"env=NOTIFY_SOCKET={listener.address}" in out.splitlines()
    assert listener.messages() == []


def test_failed_check_sends_status_and_exits_78(
    listener: NotifyListener, printenv_program: Path
) -> None:
    process, out, err = launch(
        "--go-version",
        ">=9.0",
        "--goroot",
        "/nonexistent",
        "--log-target",
        "stderr",
        "--",
        str(printenv_program),
        env={"NOTIFY_SOCKET": listener.address},
    )
    assert process.returncode == 78
    assert out == ""  # the program never ran
    assert "golaunch: goroot: GOROOT /nonexistent (from go.goroot) does not exist" in err
    messages = listener.messages()
    assert messages[-1].startswith("STATUS=golaunch: goroot check failed: GOROOT /nonexistent")
    assert not any("READY=1" in m for m in messages)


def expect_notify_failure(
    address: str | None, expected: str, program: Path, prefix: tuple[str, ...] = ()
) -> None:
    env = {} if address is None else {"NOTIFY_SOCKET": address}
    args = ("--notify", "ready", "--log-target", "stderr", "--", str(program))
    process, out, err = launch(*args, env=env, prefix=prefix)
    assert process.returncode == 78
    assert out == ""  # the program never ran
    assert f"golaunch: notify: {expected}" in err


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (None, "NOTIFY_SOCKET is not set; use notify.mode = none outside systemd"),
        ("/nonexistent/notify.sock", "cannot connect to NOTIFY_SOCKET=/nonexistent/notify.sock"),
        ("@golaunch-nobody-listens", "cannot connect to NOTIFY_SOCKET=@golaunch-nobody-listens"),
        ("relative.sock", "NOTIFY_SOCKET='relative.sock' is neither a path nor an abstract"),
    ],
)
def test_unreachable_notify_socket_fails_fast(
    address: str | None, expected: str, printenv_program: Path
) -> None:
    expect_notify_failure(address, expected, printenv_program)


@pytest.mark.skipif(os.geteuid() != 0, reason="makes root subject to file permissions")
def test_notify_socket_permission_denied(tmp_path: Path, printenv_program: Path) -> None:
    """A socket only its owner may write to; golaunch runs as root without CAP_DAC_OVERRIDE."""
    path = str(tmp_path / "notify.sock")
    listener = NotifyListener(path, path)
    os.chown(path, 65534, 65534)
    os.chmod(path, 0o600)
    without_override = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")
    expected = f"cannot connect to NOTIFY_SOCKET={path}: Permission denied"
    expect_notify_failure(path, expected, printenv_program, without_override)
    assert listener.messages() == []
    listener.sock.close()


def test_notify_socket_that_takes_nothing_fails_after_the_timeout(
    tmp_path: Path, printenv_program: Path
) -> None:
    """A manager that stopped reading: its queue is full and sd_notify would block forever."""
    path = str(tmp_path / "notify.sock")
    listener = NotifyListener(path, path)
    fillers = fill_datagram_queue(path)
    expected = f"NOTIFY_SOCKET={path} took nothing for {SEND_TIMEOUT:g} s (socket full)"
    expect_notify_failure(path, expected, printenv_program)
    for filler in fillers:
        filler.close()
    listener.sock.close()


def test_exec_failure_exits_71_with_errno(tmp_path: Path) -> None:
    """ETXTBSY: the program is open for writing when execve runs, which no check can foresee."""
    program = tmp_path / "busy"
    program.write_bytes(Path("/bin/true").read_bytes())
    program.chmod(0o755)
    with open(program, "r+b"):
        process, _, err = launch("--log-target", "stderr", "--", str(program), env={})
    assert process.returncode == 71
    assert f"golaunch: exec: execve {program} failed: Text file busy (errno 26)" in err


def test_program_found_in_sanitized_path(printenv_program: Path) -> None:
    process, out, err = launch(
        "--set-env",
        f"PATH={printenv_program.parent}:{BASE_PATH}",
        "--",
        printenv_program.name,
        env={},
    )
    assert process.returncode == 0, err
    assert out.startswith(f"pid={process.pid}\n")


def test_inherited_descriptors_reach_the_program() -> None:
    """Socket activation passes descriptors from 3 up; golaunch leaves inherited ones open."""
    read_end, write_end = os.pipe()
    try:
        process = subprocess.run(  # noqa: PLW1510  # the status is asserted below
            [
                sys.executable,
                "-m",
                "golaunch",
                "--",
                "/bin/bash",
                "-c",
                f"echo via-fd >&{write_end}",
            ],
            env={"PATH": BASE_PATH, "HOME": str(BUILD / "home")},
            pass_fds=(write_end,),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert process.returncode == 0, process.stderr
    assert os.read(read_end, 100) == b"via-fd\n"
    os.close(read_end)
