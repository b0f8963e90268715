"""--check --unit's child, as nobody, from a fresh interpreter that lives where nobody can
read (a development install under a 0700 /root): everything it needs must already be
loaded when it drops root, or the check dies on an import instead of reporting."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

CHILD = """
import json, sys
from golaunch.unitcheck.child import Job, in_child
from golaunch.unitcheck.environment import Identity
from golaunch.host.cgroups import Limits
argv, environment = json.loads(sys.argv[1])
job = Job("t.service", argv, environment, "none", Limits.known(None, None), "!/", {})
nobody = Identity(65534, 65534, [], "nobody", "/", "/usr/sbin/nologin")
print(json.dumps(in_child(job, nobody)))
"""


def unreadable_by_nobody(path: str) -> bool:
    return any(not os.stat(p).st_mode & 0o001 for p in [path, *map(str, Path(path).parents)])


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming nobody needs root")
@pytest.mark.parametrize(
    ("argv_tail", "says"),
    [
        (["--watchdgo", "--", "/bin/true"], "--watchdog"),  # click's "did you mean": difflib
        (["--config", "{config}", "--", "/bin/true"], "städte"),  # tomllib; escaped text
        # Probe URLs (ipaddress, urllib), the listeners and [reload] (signal), all lazy.
        (
            ["--ready-probe", "http://[::1]:9/", "--reload-signal", "USR1", "--", "/bin/true"],
            "ready-probe",
        ),
    ],
)
def test_the_child_reports_as_nobody(argv_tail: list[str], says: str) -> None:
    if not unreadable_by_nobody(os.path.realpath(sys.executable)):
        pytest.skip("this interpreter is readable by nobody: nothing to prove here")
    # Where nobody can read it, whatever the clone's path (a home clone is 0700).
    directory = tempfile.mkdtemp(dir="/var/tmp")
    os.chmod(directory, 0o755)
    config = Path(directory) / "app.toml"
    config.write_text('[environment]\nset = { CITY = "städte" }\n')
    config.chmod(0o644)
    argv = ["golaunch", *(a.format(config=config) for a in argv_tail)]
    run = subprocess.run(
        [sys.executable, "-I", "-c", CHILD, json.dumps([argv, {"PATH": "/usr/bin:/bin"}])],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    shutil.rmtree(directory)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert "error" not in document, document
    assert says in json.dumps(document, ensure_ascii=False), document


STOPPER = """
import os, signal, sys, time
os.setgid(int(sys.argv[1]))
os.setuid(int(sys.argv[1]))
sys.stdout.write("ready\\n")
sys.stdout.flush()
while True:  # every process of this uid but this one, as a hostile service would
    os.kill(-1, signal.SIGSTOP)
    time.sleep(0.01)
"""

STOPPED_CHILD = """
import json, sys, time
from golaunch.unitcheck.child import Job, in_child
from golaunch.unitcheck.environment import Identity
from golaunch.host.cgroups import Limits
uid = int(sys.argv[1])
job = Job("t.service", ["golaunch", "--", "/bin/true"], {"PATH": "/bin"}, "none",
          Limits.known(None, None), "!/", {})
began = time.monotonic()
answer = in_child(job, Identity(uid, uid, [], "app", "/", "/usr/sbin/nologin"), timeout=2)
print(json.dumps([answer, time.monotonic() - began]))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming the unit's user needs root")
def test_a_child_the_units_user_stops_is_given_up_on_time() -> None:
    """Issue 31, item 15: a process of the unit's uid stops the check's child, which runs
    as that uid (kill(-1, SIGSTOP)); the parent once waited on its pipe for ever."""
    uid = 4291  # nobody else's: the stopper reaches only the check's child
    stopper = subprocess.Popen(
        [sys.executable, "-I", "-c", STOPPER, str(uid)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert stopper.stdout is not None and stopper.stdout.readline() == "ready\n"
        run = subprocess.run(
            [sys.executable, "-I", "-c", STOPPED_CHILD, str(uid)],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
    finally:
        stopper.kill()
        stopper.wait()
    assert run.returncode == 0, run.stderr
    answer, took = json.loads(run.stdout)
    assert set(answer) == {"unknown"}, answer
    assert "did not answer within 2 s" in answer["unknown"]
    assert 2 <= took < 10  # given up on at the deadline, not at the test's timeout
    left = subprocess.run(["pgrep", "-u", str(uid)], capture_output=True, check=False)
    assert left.stdout == b""  # the stopped child was killed and reaped, not left behind


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming the unit's user needs root")
def test_the_same_child_unstopped_reports() -> None:
    """The control: without the stopper the same check answers well within the deadline."""
    run = subprocess.run(
        [sys.executable, "-I", "-c", STOPPED_CHILD, "4291"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    answer, _ = json.loads(run.stdout)
    assert "unknown" not in answer and "findings" in answer, answer
