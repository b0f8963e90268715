"""A binary whose RPATH carries a terminal escape, a newline and a forged priority prefix,
and arguments that are not UTF-8: golaunch's text, JSON and stderr stay safe (see
tests/unit/test_printable.py for the property over random bytes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.paths import BASE_PATH

RPATH = b"/x\x1b]0;PWNED\x07\n<0>forged\xe9"


@pytest.fixture(scope="module")
def hostile_rpath(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A program needing libgone.so.1, which is nowhere, with RPATH above."""
    directory = tmp_path_factory.mktemp("hostile")
    (directory / "gone.c").write_text("int gone(void) { return 0; }\n")
    (directory / "main.c").write_text("int gone(void);\nint main(void) { return gone(); }\n")
    library = ["gcc", "-shared", "-fPIC", "-Wl,-soname,libgone.so.1", "-o", "libgone.so.1"]
    subprocess.run([*library, "gone.c"], cwd=directory, check=True, capture_output=True)
    rpath = b"-Wl,--disable-new-dtags,-rpath," + RPATH
    program = [b"gcc", b"-o", b"prog", b"main.c", b"-L.", b"-l:libgone.so.1", rpath]
    subprocess.run(program, cwd=directory, check=True, capture_output=True)
    (directory / "libgone.so.1").unlink()
    return directory / "prog"


def test_text_report_shows_escapes(hostile_rpath: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "golaunch", "--check", "--", str(hostile_rpath)],
        env={"PATH": BASE_PATH},
        capture_output=True,
        check=False,
    )
    assert result.returncode == 78
    out = result.stdout.decode("utf-8")  # strict
    assert "\x1b" not in out and "\x07" not in out
    assert "/x\\x1b]0;PWNED\\x07\\x0a<0>forged\\xe9" in out
    assert not any(line.startswith("<0>") for line in out.splitlines())


def test_json_gives_back_the_rpath_bytes(hostile_rpath: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "golaunch", "--check", "--json", "--", str(hostile_rpath)],
        env={"PATH": BASE_PATH},
        capture_output=True,
        check=False,
    )
    document = json.loads(result.stdout.decode("utf-8"))
    (finding,) = [f for f in document["findings"] if f["check"] == "library"]
    message = bytes(finding["message"])  # not UTF-8, so a list of its bytes
    assert RPATH in message


def test_a_launch_logs_one_line_per_entry(hostile_rpath: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "golaunch", "--log-target", "stderr", "--notify", "none",
         "--", str(hostile_rpath)],
        env={"PATH": BASE_PATH},
        capture_output=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 78
    lines = result.stderr.decode("utf-8").splitlines()
    assert len(lines) == 1 and lines[0].startswith("golaunch: library: libgone.so.1")


def test_an_argument_that_is_not_utf8_is_launched_and_logged_escaped() -> None:
    result = subprocess.run(
        [sys.executable.encode(), b"-m", b"golaunch", b"--log-target", b"stderr",
         b"--notify", b"none", b"--", b"/bin/echo", b"caf\xe9"],
        env={"PATH": BASE_PATH},
        capture_output=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout == b"caf\xe9\n"
    assert result.stderr.decode("utf-8").startswith("golaunch: launching /bin/echo as PID")


@pytest.mark.parametrize(
    ("redirect", "check_status", "says"),
    [
        (">&-", 78, "cannot write to standard output"),
        (">/dev/full", 78, "No space left on device"),
        ("2>&-", 0, ""),
        ("2>/dev/full", 0, ""),
    ],
    ids=["stdout-closed", "stdout-full", "stderr-closed", "stderr-full"],
)
def test_closed_or_full_output_is_never_an_internal_error(
    redirect: str, check_status: int, says: str
) -> None:
    golaunch = f"{sys.executable} -m golaunch"
    env = {"PATH": BASE_PATH, "HOME": os.environ.get("HOME", "/root")}
    launched = subprocess.run(
        ["sh", "-c", f"{golaunch} --notify none -- /bin/sh -c 'exit 7' {redirect}"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert launched.returncode == 7  # the program ran: golaunch got out of the way
    checked = subprocess.run(
        ["sh", "-c", f"{golaunch} --check -- /bin/true {redirect}"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == check_status and says in checked.stderr
    assert "internal error" not in checked.stderr + launched.stderr
