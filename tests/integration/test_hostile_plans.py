"""Plans are written where the service's own user can write: they are hostile input
(issue 30). Damaged, crafted and planted plans, with real golaunch processes.

- A mutation fuzzer over a real plan: bytes flipped, inserted, cut (the body's digest
  then fails), and the same in the body with the digest made right again, as an
  attacker would. Never 139, 137 or 70, never over a second, never another launch.
- Calls a crafted plan names are replayed safely: a FIFO never blocks, open flags never
  write, arguments of the wrong type end in the full start.
- The review's attacks as uid 1000 (setpriv), the service's own user, with the
  administrator's fix in between: a plan rewritten to skip the checks (with a journal
  field named LD_PRELOAD for good measure), a validated-configuration entry as 0.1.0
  kept them naming another program and LD_PRELOAD, and another start's plan renamed to
  this start's name. What runs is always what the full start runs.
"""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from golaunch.launch import keeper, plan
from tests.helpers.warm import (
    SETTLE,
    Host,
    Outcome,
    full,
    gcc,
    kept,
    make_host,
    shared_code,
    start,
)

SERVICE_UID = 1000


@pytest.fixture(scope="module")
def primed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Host, Outcome, bytes]]:
    """One host with a kept plan, its outcome, and the plan's bytes, for the fuzzer."""
    host = make_host(tmp_path_factory.mktemp("fuzzed"))
    outcome = kept(host)
    (path,) = host.plans()
    yield host, outcome, path.read_bytes()
    host.listener.sock.close()


def planted(host: Host, data: bytes) -> Path:
    """DATA in place of the host's one plan, as its owner wrote it."""
    (path,) = host.plans()
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def timed(host: Host) -> tuple[Outcome, bool, float]:
    began = time.monotonic()
    outcome, warm = start(host)
    return outcome, warm, time.monotonic() - began


def mutated(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    raw = bytearray(data)
    for kind, where, byte in edits:
        at = where % max(len(raw), 1)
        if kind == 0 and raw:
            raw[at] ^= 1 << (byte % 8)
        elif kind == 1:
            raw.insert(at, byte)
        elif raw and byte == 0:
            del raw[at:]  # cut short
        elif raw:
            del raw[at]
    return bytes(raw)


def resealed(data: bytes) -> bytes:
    """DATA with the body's digest made right, as someone who knows the format would."""
    from golaunch.inputs.digest import digest

    body = data[len(plan.PLAN_MAGIC) :].partition(b"\n")[2]
    whole: str = digest(body).hexdigest()
    return plan.PLAN_MAGIC + whole.encode() + b"\n" + body


EDITS = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 1 << 20), st.integers(0, 255)),
    min_size=1,
    max_size=3,
)


@seed(30)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(edits=EDITS, reseal=st.booleans())
def test_a_mutated_plan_never_changes_what_runs(
    primed: tuple[Host, Outcome, bytes], edits: list[tuple[int, int, int]], reseal: bool
) -> None:
    host, reference, original = primed
    data = mutated(original, edits)
    planted(host, resealed(data) if reseal else data)
    outcome, _, seconds = timed(host)
    assert outcome.status not in (70, 137, 139), outcome
    assert seconds < 1.0, f"{seconds:.2f} s"
    assert (outcome.status, outcome.exec) == (reference.status, reference.exec)
    if not reseal:  # the body's digest fails: the full start, word for word
        assert outcome == reference
    planted(host, original)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xfb" * 19,  # the review's crafted marshal input, and one that allocated 6.5 GB
        marshal.dumps({"schema": 1, "calls": {}, "launch": {}})[:-1],
        b"golaunch plan 2\n" + b"0" * 64 + b"\n",
        b"golaunch plan 2\n\n\0\0\0\0",
        os.urandom(4096),
    ],
    ids=["empty", "marshal-crash", "old-format", "empty-body", "no-digest", "noise"],
)
def test_a_damaged_plan_means_the_full_start(
    primed: tuple[Host, Outcome, bytes], data: bytes
) -> None:
    host, reference, original = primed
    planted(host, data)
    outcome, warm, seconds = timed(host)
    planted(host, original)
    assert not warm and outcome == reference and seconds < 1.0


def crafted(
    original: bytes,
    *,
    calls: list[tuple[str, tuple[object, ...]]] | None = None,
    answers: bool = False,
    entries: list[dict[str, str]] | None = None,
) -> bytes:
    """ORIGINAL with its calls or entries replaced, re-encoded, its digests made right."""
    found = plan.decode(original)
    assert found is not None
    if calls is not None:
        found.calls = calls
        if answers:
            from golaunch.inputs.trace import fingerprint_now

            found.answers = fingerprint_now(found.calls)
    if entries is not None:
        found.entries = entries
    data = keeper.encode(found)
    assert data is not None
    return data


def test_a_planted_fifo_never_hangs_a_start(
    primed: tuple[Host, Outcome, bytes], tmp_path: Path
) -> None:
    """A call on a FIFO replayed volatile.stat_field's blocking open (item 10)."""
    host, reference, original = primed
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    calls = [
        ("open", (str(fifo), 0)),
        ("fact:stat_field", (str(fifo), "x")),
        ("stat", (str(fifo), True)),
    ]
    found = plan.decode(original)
    assert found is not None
    planted(host, crafted(original, calls=[*found.calls, *calls]))
    outcome, warm, seconds = timed(host)
    planted(host, original)
    assert seconds < 1.0 and not warm and outcome == reference


def test_a_planted_open_never_writes(primed: tuple[Host, Outcome, bytes], tmp_path: Path) -> None:
    """Open flags from a plan truncated one file and created another (item 11)."""
    host, reference, original = primed
    victim, absent = tmp_path / "victim", tmp_path / "absent"
    victim.write_text("kept")
    flags = os.O_WRONLY | os.O_TRUNC | os.O_CREAT | os.O_APPEND
    found = plan.decode(original)
    assert found is not None
    calls = [*found.calls, ("open", (str(victim), flags)), ("open", (str(absent), flags))]
    planted(host, crafted(original, calls=calls))
    outcome, _, _ = timed(host)
    planted(host, original)
    assert victim.read_text() == "kept" and not absent.exists()
    assert outcome == reference


@pytest.mark.parametrize(
    "field",
    ["s/etc/passwd\0i1", "i1\0b1", "b2", "i" + "9" * 30, "snot-a-call", "q0"],
    ids=["missing-argument", "int-for-path", "bool-of-2", "huge-int", "unknown-kind", "bad-type"],
)
def test_a_plan_of_the_wrong_types_means_the_full_start(
    primed: tuple[Host, Outcome, bytes], field: str
) -> None:
    """Fields of the wrong type ended in "internal error" (item 12)."""
    host, reference, original = primed
    body = original[len(plan.PLAN_MAGIC) :].partition(b"\n")[2]
    bad = resealed(plan.PLAN_MAGIC + b"x\n" + body + b"stat\0" + field.encode() + b"\0")
    assert plan.decode(bad) is None
    planted(host, bad)
    outcome, warm, _ = timed(host)
    planted(host, original)
    assert not warm and outcome == reference


# --- the service's own user, and the administrator's fix in between ------------------


EVIL = r"""
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void) {
    close(open("MARKER", O_WRONLY | O_CREAT, 0644));
}
"""


@pytest.fixture
def service() -> Iterator[Host]:
    """A host as a packager lays it out: the program, its library and the configuration
    owned by root, the caches by the service's user, golaunch run as that user (setpriv,
    Debian's python3.11 over a copy of golaunch any user can read)."""
    shared = Path(tempfile.mkdtemp(prefix="golaunch-service-", dir="/var/tmp"))
    os.chmod(shared, 0o755)
    host = make_host(shared / "host")
    for path in (host.cache, host.gocache, host.root / "gomod"):
        os.chown(path, SERVICE_UID, SERVICE_UID)
    writable = shared / "written"  # where the program reports, and where evil would mark
    writable.mkdir()
    writable.chmod(0o777)
    host.report = writable / "report"
    os.chmod(host.listener.address, 0o777)
    host.environ["HOME"] = str(host.cache)
    host.interpreter, host.pythonpath = "/usr/bin/python3.11", shared_code(shared)
    host.prefix = ["setpriv", f"--reuid={SERVICE_UID}", f"--regid={SERVICE_UID}", "--clear-groups"]
    (shared / "evil.c").write_text(EVIL.replace("MARKER", str(marker(host))))
    gcc("-shared", "-fPIC", "-o", shared / "evil.so", shared / "evil.c")
    time.sleep(SETTLE)
    yield host
    host.listener.sock.close()
    shutil.rmtree(shared, ignore_errors=True)


def marker(host: Host) -> Path:
    """What the planted code leaves, if it ever runs."""
    return host.report.parent / "evil-ran"


def as_service(path: Path, data: bytes) -> None:
    """What the service's user can do to its own cache: write any file there."""
    path.write_bytes(data)
    os.chown(path, SERVICE_UID, SERVICE_UID)
    path.chmod(0o600)


def fixed_build(host: Host) -> None:
    """The administrator's fix: a new build of the program, installed as packages do."""
    fresh = host.program.with_name("server.new")
    shutil.copy2(host.program, fresh)
    with open(fresh, "ab") as f:
        f.write(b"\0fixed\0")
    os.replace(fresh, host.program)
    time.sleep(SETTLE)


def no_evil(host: Host, outcome: Outcome) -> None:
    assert not marker(host).exists(), "planted code ran"
    assert outcome.exec is not None
    assert not any(v.startswith(("LD_", "EVIL")) for v in outcome.exec[1]), outcome.exec[1]


def test_a_plan_rewritten_to_skip_the_checks_runs_only_what_the_full_start_runs(
    service: Host,
) -> None:
    """Item 1: no calls (nothing to ask again), and a journal field named LD_PRELOAD."""
    kept(service)
    (path,) = service.plans()
    evil = str(service.root.parent / "evil.so")
    forged = crafted(
        path.read_bytes(),
        calls=[],
        answers=True,
        entries=[{"MESSAGE": "all is well", "LD_PRELOAD": evil, "PRIORITY": "6"}],
    )
    as_service(path, forged)
    fixed_build(service)
    outcome, was_warm = start(service)
    # The forged verdict is taken (the threat model says so): and yet what runs, with
    # which environment, is what this start computed, as the full start does.
    assert was_warm and "golaunch: all is well" in outcome.log
    no_evil(service, outcome)
    reference = full(service)
    assert reference.status == 0
    assert (outcome.status, outcome.exec) == (reference.status, reference.exec)
    service.program.unlink()  # the administrator removes the program: nothing runs
    as_service(path, forged)
    gone, was_warm = start(service)
    assert not was_warm and gone == full(service) and gone.status == 78


def test_a_planted_configuration_entry_is_never_read(service: Host) -> None:
    """Item 2: 0.1.0 kept validated configurations beside the plans; one rewritten to name
    another program and LD_PRELOAD ran them. Nothing reads them now, and they are pruned."""
    script = service.root.parent / "attacker.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker(service)}\n")
    script.chmod(0o755)
    entry = {
        "key": "",
        "golaunch": "0.1.0",
        "config_path": str(service.config),
        "config": {
            "program": str(script),
            "environment": {"set": {"LD_PRELOAD": str(service.root.parent / "evil.so")}},
        },
    }
    store = service.cache / "golaunch"
    store.mkdir(mode=0o700, exist_ok=True)
    os.chown(store, SERVICE_UID, SERVICE_UID)
    for name in ("0" * 64, "f" * 64):
        as_service(store / f"{name}.entry", marshal.dumps(entry))
    outcome = kept(service)
    no_evil(service, outcome)
    assert outcome.exec is not None and outcome.exec[0][0] == str(service.program)
    assert list(store.glob("*.entry")) == []


def test_another_starts_plan_renamed_is_not_this_starts(service: Host) -> None:
    """Item 3: a plan kept for another command line, under this one's name."""
    kept(service)
    (mine,) = service.plans()
    service.options = ["--set-env", "OTHER=1"]
    kept(service)
    (theirs,) = [p for p in service.plans() if p != mine]
    data = theirs.read_bytes()
    service.options = []
    as_service(mine, data)
    fixed_build(service)
    outcome, was_warm = start(service)
    assert not was_warm
    assert outcome == full(service)
    assert outcome.exec is not None and "OTHER=1" not in outcome.exec[1]


def test_the_service_user_can_write_its_store(service: Host) -> None:
    """The premise of this file: the plans are the service's own."""
    kept(service)
    (path,) = service.plans()
    assert path.stat().st_uid == SERVICE_UID
    probe = subprocess.run(
        [*service.prefix, "sh", "-c", f"echo x >> {path}"], capture_output=True, check=False
    )
    assert probe.returncode == 0, probe.stderr
