"""golaunch.inputs.trace: what the recorder sees, what it compares, and what it refuses.
The whole start under it, with real mutations, is tests/integration/test_plan.py."""

from __future__ import annotations

import builtins
import os
import time
from pathlib import Path

from golaunch.elf import hwcaps
from golaunch.inputs import volatile
from golaunch.inputs.trace import RACY_NS, Recorder, unchanged


def later() -> int:
    """A "now" at which nothing written here is recent."""
    return time.time_ns() + 10 * RACY_NS


def test_a_changed_file_is_seen_and_the_functions_are_put_back(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("one")
    recorder = Recorder()
    with recorder:
        assert os.path.isfile(path)
        with open(path) as f:
            assert f.read() == "one"
    assert os.stat is Recorder.__init__.__globals__["_real"]["stat"]
    assert builtins.open is Recorder.__init__.__globals__["_real_open"]
    assert recorder.verified(later()) and unchanged(recorder.calls)
    time.sleep(0.05)  # a later clock tick: within one, only the 2 s rule protects (below)
    path.write_text("two")  # same size: only the ctime (and mtime) tell
    assert not unchanged(recorder.calls)


def test_a_directory_is_judged_by_its_mode_not_by_its_entries(tmp_path: Path) -> None:
    recorder = Recorder()
    with recorder:
        os.stat(tmp_path)
    (tmp_path / "new").write_text("x")
    assert unchanged(recorder.calls)
    tmp_path.chmod(tmp_path.stat().st_mode ^ 0o055)
    assert not unchanged(recorder.calls)


def test_a_listing_is_compared(tmp_path: Path) -> None:
    recorder = Recorder()
    with recorder:
        os.listdir(tmp_path)
    (tmp_path / "new").write_text("x")
    assert not unchanged(recorder.calls)


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
    ((_, args), seen), *_ = (c for c in recorder.calls.items() if c[0][0] == "open")
    assert args[0] == "/proc/self/cgroup"
    assert isinstance(seen, tuple) and seen[1] == Path("/proc/self/cgroup").read_bytes()


def test_a_fact_is_recorded_by_its_answer_and_memos_are_read_again() -> None:
    hwcaps.host_subdirs()  # memoized before the recording: it must be asked again
    recorder = Recorder()
    with recorder:
        hwcaps.host_subdirs()
    assert recorder.calls[("fact:cpuinfo", ())] == volatile.cpuinfo()
    # What the fact read itself (clock speeds change by the moment) is not an input.
    assert not any(args[:1] == ("/proc/cpuinfo",) for _, args in recorder.calls)
    assert volatile.cpuinfo.__name__ == "cpuinfo"  # put back
