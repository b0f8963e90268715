"""The report file's lock: what a writer says when it cannot take it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from golaunch.output.atomic import exclusive, write_atomically


def test_a_missing_directory_is_named_as_such(tmp_path: Path) -> None:
    """Not "the lock must be a regular file": the directory is what is missing (a node
    exporter that is not installed), and the way out is to make it or write elsewhere."""
    output = tmp_path / "node-exporter" / "golaunch.prom"
    with pytest.raises(OSError) as raised, exclusive(str(output)):
        pass
    assert raised.value.strerror == (
        f"the directory {output.parent} does not exist: create it, or write elsewhere"
    )


def test_a_link_in_place_of_the_lock_is_refused(tmp_path: Path) -> None:
    output = tmp_path / "golaunch.prom"
    (tmp_path / ".golaunch.prom.lock").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError) as raised, exclusive(str(output)):
        pass
    assert "it must be a regular file; remove what is there" in str(raised.value.strerror)
    assert not (tmp_path / "elsewhere").exists()


def test_the_lock_is_held_while_writing(tmp_path: Path) -> None:
    output = tmp_path / "golaunch.prom"
    with exclusive(str(output)):
        write_atomically(str(output), "x 1\n", 0o644)
    assert output.read_text() == "x 1\n"
    assert oct(os.stat(output).st_mode & 0o777) == oct(0o644)
