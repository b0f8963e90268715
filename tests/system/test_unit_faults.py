"""The unit checks' faults from the hostile review, with systemd (252, 257) as the oracle: what it
reads from an EnvironmentFile=, how it expands ExecStart=, the groups a User= gets, and what
WorkingDirectory=- tolerates. Where a check says a unit starts, systemd must agree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers.toolchain import Toolchain
from tests.system.conftest import GOLAUNCH, WORK, Machine, free_port, reach_this_tree
from tests.system.test_fleet import check, failing, unit

pytestmark = pytest.mark.usefixtures("system_bus")
FAULTS = WORK / "faults"

# Each line is a case a line-based reader got wrong; the last one it swallowed.
ENVIRONMENT_FILE = (
    "E_A=foo\\bar\n"
    'E_B="x\\ny"\n'
    'E_C="one" "two"\n'
    "E_G='it'\"'\"'s'\n"
    "export E_F=1\n"
    "E_K  =  spaced value  \n"
    "# a comment \\\n"
    "E_HIDDEN=continued comment\n"
    "E_T=trail\\\\\n"
    "E_LAST=here\n"
)


def started(machine: Machine, name: str) -> bool:
    return machine.start(name).returncode == 0


@pytest.fixture(scope="module", autouse=True)
def faults() -> None:
    FAULTS.mkdir(parents=True, exist_ok=True)
    FAULTS.chmod(0o755)


def test_environment_file_as_systemd_reads_it(machine: Machine, go_server: Path) -> None:
    env_file = FAULTS / "app.env"
    env_file.write_text(ENVIRONMENT_FILE)
    name = "faults-envfile.service"
    exec_start = f"{GOLAUNCH} --keep-env 'E_*' -- {go_server} -listen 127.0.0.1:{free_port()}"
    machine.install({name: unit(exec_start, f"EnvironmentFile={env_file}")})
    machine.start_ok(name)
    running = machine.environ(int(machine.show(name)["MainPID"]))
    status, report = check(machine, "--unit", name)
    machine.run("systemctl", "stop", name)
    assert status == 0, report

    def ours(environment: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in environment.items() if k.startswith("E_")}

    assert ours(report["environment"]) == ours(running)
    assert ours(running)["E_LAST"] == "here"
    # The oracle's word: from 254 on, a comment no longer continues at its backslash.
    assert ("E_HIDDEN" in running) == (machine.version() >= 254)


def test_a_setting_in_an_environment_file_is_not_swallowed(
    machine: Machine, go_server: Path
) -> None:
    """A trailing backslash pair once joined the next line: a unit that systemd refuses
    (exit 78, go.version from the file) was reported startable."""
    env_file = FAULTS / "strict.env"
    env_file.write_text("E_T=trail\\\\\nGOLAUNCH_GO__VERSION=>=1.99\n")
    name = "faults-swallowed.service"
    exec_start = f"{GOLAUNCH} -- {go_server} -listen 127.0.0.1:{free_port()}"
    machine.install({name: unit(exec_start, f"EnvironmentFile={env_file}")})
    status, report = check(machine, "--unit", name)
    assert (status, "go-version" in failing(report)) == (78, True), report
    assert not started(machine, name)
    assert machine.show(name)["ExecMainStatus"] == "78"


def test_exec_start_variables_are_expanded(machine: Machine, go_server: Path) -> None:
    config = FAULTS / "expanded.toml"
    config.write_text('[go]\nversion = ">=1.99"\n')
    config.chmod(0o644)
    name = "faults-expand.service"
    exec_start = f"{GOLAUNCH} --config ${{CONFIG}} $OPTIONS -- {go_server}"
    machine.install(
        {
            name: unit(
                exec_start, f"Environment=CONFIG={config}", '"Environment=OPTIONS=--notify ready"'
            )
        }
    )
    status, report = check(machine, "--unit", name)
    # The check read the file ${CONFIG} names, and judged what it says, as the start does.
    assert status == 78 and "go-version" in failing(report), report
    assert "config" not in failing(report)
    assert not started(machine, name)
    assert machine.show(name)["ExecMainStatus"] == "78"


# Words whose expansion systemd 252 decides, with FOO="a  b" and BAR=x: what it gives.
EXPANDED_WORDS = [
    "$FOO",  # a, b: split into words
    "$FOO/bin",  # nothing: the rest of the word is the name, FOO/bin, which is unset
    "${FOO}/bin",  # "a  b/bin": one word
    "x$FOO",  # x$FOO: $ not at a word's start is as written
    "$FOO$FOO",  # nothing: the name FOO$FOO
    "${FOO}${BAR}",  # "a  bx"
    "$$FOO",  # $FOO: $$ is a $
    "${FOO",  # as written: unterminated
    "${FOO:-x}",  # as written: no shell forms
    "$UNSET",  # nothing
    "${UNSET}y",  # y
    "$BAR.z",  # nothing: the name BAR.z
    "$1",  # nothing: the name 1
]


def test_exec_start_words_expand_as_systemd_expands_them(machine: Machine) -> None:
    """golaunch.unitcheck.cmdline held to systemd 252 itself (issue 32, item 12): a unit
    prints the argv systemd gave it, and the check's expansion of the same words must be
    that argv."""
    from golaunch.unitcheck.cmdline import expand_command

    name = "faults-words.service"
    environment = {"FOO": "a  b", "BAR": "x"}
    printer = '/usr/bin/python3 -c "import json,sys; print(json.dumps(sys.argv[1:]))"'
    machine.install(
        {
            name: "\n".join(
                [
                    "[Unit]",
                    "DefaultDependencies=no",
                    "[Service]",
                    "Type=oneshot",
                    'Environment="FOO=a  b" BAR=x',
                    f"ExecStart={printer} {' '.join(EXPANDED_WORDS)}",
                    "",
                ]
            )
        }
    )
    machine.start_ok(name)
    printed = machine.journal_text("-u", name, "-o", "cat").splitlines()
    argv = json.loads(next(line for line in printed if line.startswith("[")))
    assert expand_command(EXPANDED_WORDS, environment) == argv


def test_a_config_the_user_reads_through_a_group(machine: Machine, go_server: Path) -> None:
    machine.run("groupadd", "--system", "faultsgrp", check=False)
    machine.run("useradd", "--system", "--no-create-home", "--groups", "faultsgrp", "faulter",
                check=False)  # fmt: skip
    gid = int(machine.run("getent", "group", "faultsgrp").stdout.split(":")[2])
    config = FAULTS / "grouped.toml"
    config.write_text('[log]\ntarget = "journal"\n')
    os.chown(config, 0, gid)  # the namespace shares the host's file system, not its /etc
    config.chmod(0o640)
    name = "faults-groups.service"
    exec_start = f"{GOLAUNCH} --config {config} -- {go_server} -listen 127.0.0.1:{free_port()}"
    machine.install({name: unit(exec_start, "User=faulter", *reach_this_tree())})
    status, report = check(machine, "--unit", name)
    assert (status, failing(report)) == (0, set()), report
    machine.start_ok(name)
    machine.run("systemctl", "stop", name)


def test_working_directory_as_systemd_tolerates_it(machine: Machine, go_server: Path) -> None:
    exec_start = f"{GOLAUNCH} -- {go_server} -listen 127.0.0.1:{free_port()}"
    tolerated, refused = "faults-wd-ok.service", "faults-wd-missing.service"
    machine.install(
        {
            tolerated: unit(exec_start, "WorkingDirectory=-/no/such/dir"),
            refused: unit(exec_start, "WorkingDirectory=/no/such/dir"),
        }
    )
    status, report = check(machine, "--unit", tolerated)
    assert (status, failing(report)) == (0, set()), report
    machine.start_ok(tolerated)
    machine.run("systemctl", "stop", tolerated)
    status, report = check(machine, "--unit", refused)
    messages = [f["message"] for f in report["findings"] if f["severity"] == "fail"]
    assert status == 78 and any("200/CHDIR" in m for m in messages), report
    assert not started(machine, refused)
    assert machine.show(refused)["ExecMainStatus"] == "200"


def test_a_stopped_dynamic_user_units_secret_is_never_staged(
    machine: Machine, go_server: Path
) -> None:
    secret = FAULTS / "secret"
    secret.write_text("TOP-SECRET\n")
    secret.chmod(0o600)
    name = "faults-dynamic.service"
    exec_start = f"{GOLAUNCH} --credential-env TOKEN=token -- {go_server}"
    machine.install(
        {
            name: unit(
                exec_start, "DynamicUser=yes", f"LoadCredential=token:{secret}", *reach_this_tree()
            )
        }
    )
    status, report = check(machine, "--unit", name)
    credentials = [f for f in report["findings"] if f["check"] == "credentials"]
    assert status == 0 and [f["severity"] for f in credentials] == ["skip"], report
    assert "identity other processes share" in credentials[0]["message"]
    assert "TOP-SECRET" not in str(report)
    assert not list((machine.root / "run").glob("golaunch-check-*"))


def test_check_from_inside_another_service_does_not_judge_that_service(
    machine: Machine,
) -> None:
    """`systemctl show` answers for any unit, with defaults for one it does not know; the
    answer counts only when golaunch is the unit's main process."""
    script = f"{GOLAUNCH} --check --json --ready-probe tcp://127.0.0.1:9 -- /bin/true; echo done"
    run = machine.run("systemd-run", "--quiet", "--wait", "--pipe", "/bin/sh", "-c", script,
                      check=False)  # fmt: skip
    report = json.loads(run.stdout.rsplit("done", 1)[0])
    probe = [f for f in report["findings"] if f["check"] == "ready-probe"]
    assert "fail" not in {f["severity"] for f in probe}, probe
    assert any("not golaunch" in f["message"] for f in probe), probe


def test_a_running_dynamic_user_units_private_cache_is_seen_as_the_service_sees_it(
    machine: Machine, go_server: Path, go_new: Toolchain
) -> None:
    """systemd keeps a DynamicUser= unit's CacheDirectory= below /var/cache/private
    (0700 root); the service reaches it through its mount namespace, and so must the
    check's child, or every such unit is a false "would not start"."""
    name = "faults-private.service"
    exec_start = (
        f"{GOLAUNCH} --goroot {go_new.goroot} -- {go_server} -listen 127.0.0.1:{free_port()}"
    )
    machine.install(
        {
            name: unit(
                exec_start, "DynamicUser=yes", "CacheDirectory=faults/private", *reach_this_tree()
            )
        }
    )
    machine.start_ok(name)
    assert (machine.root / "var/cache/private/faults/private/go-build").is_dir()
    status, report = check(machine, "--unit", name)
    machine.run("systemctl", "stop", name)
    caches = {f["check"]: f["severity"] for f in report["findings"] if f["check"] in
              ("gocache", "gomodcache")}  # fmt: skip
    assert (status, caches) == (0, {"gocache": "pass", "gomodcache": "pass"}), report
