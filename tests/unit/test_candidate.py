"""--candidate's refusals before any unit is asked: the build itself, and the options."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from golaunch.cli import dispatch
from golaunch.status import UsageError
from golaunch.unitcheck.candidate import open_candidate


def test_an_elf_file_is_taken_as_it_is(tmp_path: Path) -> None:
    build = tmp_path / "server.new"
    build.write_bytes(Path("/bin/true").read_bytes())
    build.chmod(0o700)  # judged later, by the unit's user: not here
    candidate = open_candidate(str(build))
    try:
        assert candidate.path == str(build)
        assert os.path.samestat(os.fstat(candidate.fd), build.stat())
    finally:
        os.close(candidate.fd)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: None, "No such file or directory"),
        (lambda p: p.mkdir(), "not a regular file"),
        (lambda p: p.write_text("#!/bin/sh\n"), "not an ELF file"),
        (lambda p: p.write_bytes(b""), "not an ELF file"),
        (lambda p: p.symlink_to("/bin/true"), "is a symbolic link"),
        (os.mkfifo, "not a regular file"),  # and no hang on the open
    ],
    ids=["missing", "directory", "script", "empty", "symlink", "fifo"],
)
def test_what_is_no_build_is_refused_by_name(tmp_path: Path, make: object, words: str) -> None:
    path = tmp_path / "server.new"
    make(path)  # type: ignore[operator]
    with pytest.raises(UsageError) as refused:
        open_candidate(str(path))
    assert str(refused.value).startswith(f"--candidate {path}: ") and words in str(refused.value)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--candidate", "/bin/true", "--", "/bin/true"], "--candidate only applies to --check"),
        (["--check", "--candidate", "/bin/true"], "add --unit NAME"),
        (["--check", "--for-program", "/bin/true", "--unit", "a.service"], "add --all-units"),
        (["--check", "--all-units", "--candidate", "/bin/true"], "add --for-program"),
        (
            [
                "--check",
                "--unit",
                "a.service",
                "--candidate",
                "/bin/true",
                "--format",
                "prometheus",
            ],
            "no unit's state",
        ),
    ],
)
def test_options_that_do_not_fit_are_refused(argv: list[str], words: str) -> None:
    with pytest.raises(UsageError) as refused:
        dispatch(argv, {"PATH": "/usr/bin:/bin"})
    assert words in str(refused.value)
