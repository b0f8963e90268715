"""The shipped example unit, as an administrator copies it, under the machine's systemd
252: its system-call filter must not kill a Go program at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.paths import REPO
from tests.helpers.toolchain import Toolchain
from tests.system.conftest import (
    GOLAUNCH,
    Machine,
    free_port,
    http_get,
    install_program,
    reach_this_tree,
    wait_until,
)

EXAMPLE = REPO / "units" / "golaunch-example.service"
ERRNO = "SystemCallErrorNumber=EPERM"
SERVER = REPO / "examples" / "server"


def example_unit(server: Path, port: int, *, without: str = "") -> str:
    """The example with its paths made this tree's, and the Go server as the program."""
    lines = []
    for shipped in EXAMPLE.read_text().splitlines():
        line = shipped
        if line.startswith("ExecStart="):
            line = f"ExecStart={GOLAUNCH} -- {server} -listen 127.0.0.1:{port}"
        elif line.startswith(("Wants=", "After=")) or (without and line == without):
            continue  # network-online.target is not in the test machine
        if line == "[Install]":  # after the example's ProtectHome=yes, which they undo
            lines.extend(reach_this_tree())
        lines.append(line)
        if line == "[Unit]":
            lines.append("DefaultDependencies=no")
    return "\n".join(lines) + "\n"


@pytest.fixture(params=["go_119", "go_new"])
def server(request: pytest.FixtureRequest) -> Path:
    """The Go server, built by Debian's go 1.19 (which raises its open-files soft limit
    with setrlimit at start) and by a current Go."""
    toolchain: Toolchain = request.getfixturevalue(request.param)
    return install_program(toolchain.build(SERVER, "server"), "example-server")


def test_the_example_unit_runs_a_go_program(machine: Machine, server: Path) -> None:
    assert ERRNO in EXAMPLE.read_text().splitlines()
    port = free_port()
    machine.install({"example.service": example_unit(server, port)})
    props = machine.show("example.service")
    # systemd's default: a soft open-files limit below the hard one, which Go raises.
    assert int(props["LimitNOFILESoft"]) < int(props["LimitNOFILE"])
    machine.start_ok("example.service")
    assert http_get(port, "/health") == "ok\n"
    assert http_get(port, "/pid") == f"{machine.show('example.service')['MainPID']}\n"
    machine.run("systemctl", "stop", "example.service")


def test_without_the_error_number_go_1_19_dies_of_sigsys(
    machine: Machine, go_119: Toolchain
) -> None:
    """What the example's SystemCallErrorNumber= is for: the filter otherwise kills a
    Go 1.19 program in its first instructions."""
    server = install_program(go_119.build(SERVER, "server"), "example-server")
    unit = example_unit(server, free_port(), without=ERRNO)
    machine.install({"example-sigsys.service": unit})
    # golaunch's checks pass and it sends READY=1, then execs the program, which dies.
    machine.start_ok("example-sigsys.service")

    def killed() -> dict[str, str] | None:
        props = machine.show("example-sigsys.service")
        return props if props["ExecMainCode"] == "2" else None  # CLD_KILLED

    props = wait_until("the program to be killed", killed)
    assert props["ExecMainStatus"] == "31"  # SIGSYS
    machine.run("systemctl", "stop", "example-sigsys.service")
