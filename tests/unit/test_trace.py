"""golaunch.inputs.trace: what the recorder sees, what it compares, what it refuses, and
that a replay from a planted plan can neither write nor hang. The whole start under it,
with real host changes, is tests/integration/test_plan.py."""

from __future__ import annotations

import builtins
import mmap
import os
import threading
import time
from pathlib import Path

import pytest

from golaunch.elf import hwcaps
from golaunch.inputs import trace, volatile
from golaunch.inputs.recorder import Recorder
from golaunch.inputs.trace import RACY_NS, fingerprint, fingerprint_now, observe


def later() -> int:
    """A "now" at which nothing written here is recent."""
    return time.time_ns() + 10 * RACY_NS


def unchanged(recorder: Recorder) -> bool:
    return fingerprint(recorder.calls.items()) == fingerprint_now(recorder.calls)


def test_a_changed_file_is_seen_and_the_functions_are_put_back(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("one")
    recorder = Recorder()
    with recorder:
        assert os.path.isfile(path)
        with open(path) as f:
            assert f.read() == "one"
    assert os.stat is trace.REAL["stat"] and builtins.open is trace.REAL_OPEN
    assert os.access in os.supports_effective_ids
    assert not any(isinstance(f, type(recorder.note)) for f in os.supports_effective_ids)
    assert recorder.verified(later()) and unchanged(recorder)
    time.sleep(0.05)  # a later clock tick: within one, only the 2 s rule protects (below)
    path.write_text("two")  # same size: only the ctime (and mtime) tell
    assert not unchanged(recorder)


def test_a_write_through_a_shared_mapping_is_seen_by_its_bytes(tmp_path: Path) -> None:
    """Dirty pages of a MAP_SHARED mapping keep the file's size, mtime and ctime until
    written back (30 s on ext4, never on tmpfs): the bytes still tell (issue 30, item 4)."""
    path = tmp_path / "golaunch.toml"
    path.write_text('require = ["libc.so.6"]\n')
    with open(path, "r+b") as f, mmap.mmap(f.fileno(), 0) as shared:
        shared[:1] = b"r"  # dirty the page before anything is recorded
        before = path.stat()
        recorder = Recorder()
        with recorder, open(path) as config:
            config.read()
        shared[11:17] = b"libno."  # through the mapping: no time stamp moves
        after = path.stat()
        assert (after.st_mtime_ns, after.st_ctime_ns) == (before.st_mtime_ns, before.st_ctime_ns)
        assert not unchanged(recorder)


def test_a_directory_is_judged_by_its_mode_not_by_its_entries(tmp_path: Path) -> None:
    recorder = Recorder()
    with recorder:
        os.stat(tmp_path)
    (tmp_path / "new").write_text("x")
    assert unchanged(recorder)
    tmp_path.chmod(tmp_path.stat().st_mode ^ 0o055)
    assert not unchanged(recorder)


# os.listdir is looked up at the call: the recorder stands in for it only while it records.
@pytest.mark.parametrize("lister", ["listdir", "scandir"])
def test_a_listing_is_compared(tmp_path: Path, lister: str) -> None:
    recorder = Recorder()
    with recorder:
        list(getattr(os, lister)(tmp_path))
    (tmp_path / "new").write_text("x")
    assert not unchanged(recorder)


def test_a_recent_change_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("fresh")
    recorder = Recorder()
    with recorder:
        os.stat(path)
    assert not recorder.verified(time.time_ns())
    assert "2 s" in recorder.why


def test_a_write_or_a_file_descriptor_makes_the_recording_unusable(tmp_path: Path) -> None:
    for act in (
        lambda: open(tmp_path / "w", "w").close(),
        lambda: os.close(os.open(tmp_path / "x", os.O_WRONLY | os.O_CREAT)),
        lambda: os.stat(0),
    ):
        recorder = Recorder()
        with recorder:
            act()
        assert not recorder.usable and recorder.why


def test_pseudo_files_are_compared_by_their_bytes() -> None:
    recorder = Recorder()
    with recorder:
        os.close(os.open("/proc/self/cgroup", os.O_RDONLY))
    (call,) = (c for c in recorder.calls if c[0] == "open")
    assert call == ("open", ("/proc/self/cgroup", 0))
    assert unchanged(recorder)


def test_a_fact_is_recorded_by_its_answer_and_memos_are_read_again() -> None:
    hwcaps.host_subdirs()  # memoized before the recording: it must be asked again
    recorder = Recorder()
    with recorder:
        hwcaps.host_subdirs()
    vendor, flags = volatile.cpuinfo()
    assert recorder.calls[("fact:cpuinfo", ())] == (vendor, tuple(sorted(flags)))
    # What the fact read itself (clock speeds change by the moment) is not an input.
    assert not any(args[:1] == ("/proc/cpuinfo",) for _, args in recorder.calls)
    assert volatile.cpuinfo.__name__ == "cpuinfo"  # put back


def test_recording_never_changes_what_a_check_computes() -> None:
    """Under the recorder `os.access in os.supports_effective_ids` was False, so the program
    check asked access(2) with the real IDs: with ruid 0 and euid 65534, a 0744 root-owned
    program passed when recorded and failed otherwise (issue 30, item 5)."""
    import tempfile

    from golaunch.host.program import file_problem

    directory = tempfile.mkdtemp(prefix="golaunch-trace-")
    os.chmod(directory, 0o755)
    program = Path(directory) / "prog"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o744)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        os.seteuid(65534)
        plain = file_problem(str(program))
        with Recorder():
            recorded = file_problem(str(program))
            supported = os.access in os.supports_effective_ids
        answer = f"{plain and plain.reason}|{recorded and recorded.reason}|{supported}"
        os.write(write, answer.encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    answer = os.read(read, 200).decode()
    os.close(read)
    program.unlink()
    os.rmdir(directory)
    assert answer == "not executable|not executable|True"


def test_the_answer_recorded_is_the_one_the_check_got(tmp_path: Path) -> None:
    """One call, not a call for the record and another for the check (item 6): a mode that
    flips between the two can no longer give a plan for what the check never saw."""
    path = tmp_path / "cache"
    path.mkdir()
    calls = 0
    real = trace.REAL["access"]

    def access(*args: object, **kwargs: object) -> bool:
        nonlocal calls
        calls += 1
        return calls == 1  # writable the first time only

    trace.REAL["access"] = access
    try:
        recorder = Recorder()
        with recorder:
            answer = os.access(path, os.W_OK)
    finally:
        trace.REAL["access"] = real
    assert calls == 1 and recorder.calls[("access", (str(path), os.W_OK, False, True))] is answer


def test_a_replayed_open_never_writes(tmp_path: Path) -> None:
    """Flags from a plan were passed on to open(2): O_TRUNC truncated, O_CREAT created."""
    kept, absent = tmp_path / "kept", tmp_path / "absent"
    kept.write_text("data")
    flags = os.O_WRONLY | os.O_TRUNC | os.O_CREAT | os.O_APPEND
    for path in (kept, absent):
        observe(("open", (str(path), flags)))
    assert kept.read_text() == "data" and not absent.exists()


@pytest.mark.parametrize(
    "call",
    [
        ("open", ("FIFO", 0)),
        ("fact:stat_field", ("FIFO", "hierarchical_memory_limit")),
        ("scandir", ("FIFO",)),
        ("stat", ("FIFO", True)),
    ],
)
def test_a_replay_never_blocks_on_a_fifo(tmp_path: Path, call: trace.Call) -> None:
    """A plan naming a FIFO hung the start in open(2) (item 10)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    kind, args = call
    replayed = (kind, tuple(str(fifo) if a == "FIFO" else a for a in args))
    done = threading.Event()

    def replay() -> None:
        observe(replayed)
        done.set()

    threading.Thread(target=replay, daemon=True).start()
    assert done.wait(5), f"{call} blocked"


@pytest.mark.parametrize(
    "call",
    [
        ("stat", ("/", 1)),
        ("open", ("/", True)),
        ("nosuch", ()),
        ("access", ("/", 0, True)),
        ("getpid", ("x",)),
        "stat",
        ("stat",),
    ],
)
def test_only_well_formed_calls_are_replayed(call: object) -> None:
    assert not trace.well_formed(call)


def test_every_call_a_check_makes_is_well_formed(tmp_path: Path) -> None:
    """What the recorder notes is what a plan may hold: the signatures cover every kind."""
    recorder = Recorder()
    with recorder:
        os.path.realpath(tmp_path)
        os.access(tmp_path, os.W_OK, effective_ids=True)
        os.listdir(tmp_path)
        os.statvfs(tmp_path)
        os.sysconf("SC_ARG_MAX")
        os.sched_getaffinity(0)
        os.uname()
        os.getgroups()
        volatile.space_shortage(str(tmp_path), 1)
        volatile.stat_field("/proc/self/status", "Pid:")
    assert recorder.usable, recorder.why
    assert all(trace.well_formed(call) for call in recorder.calls)
    assert {kind for kind, _ in recorder.calls} >= {"stat", "access", "listdir", "statvfs"}
