"""golaunch.syntax.pid against libsystemd: sd_watchdog_enabled(3) and sd_listen_fds(3),
called through ctypes in a child process whose environment holds each value."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golaunch.syntax.pid import names_process

# In the child: for each value, whether libsystemd takes WATCHDOG_PID and LISTEN_PID as
# naming the child itself (1, and 1 descriptor), another process (0), or refuses them.
PROBE = r"""
import ctypes, json, os, sys
lib = ctypes.CDLL("libsystemd.so.0")
os.dup2(os.open(os.devnull, os.O_RDONLY), 3)  # the one "passed" descriptor
usec = ctypes.c_uint64()
answers = []
for template in json.loads(sys.argv[1]):
    pid = os.getpid()
    spelled = {"OCTAL": f"0{pid:o}", "HEX": hex(pid), "BINARY": f"0b{pid:b}"}
    value = spelled.get(template, template.replace("PID", str(pid)))
    os.environ.update(WATCHDOG_USEC="1000000", WATCHDOG_PID=value)
    watchdog = lib.sd_watchdog_enabled(0, ctypes.byref(usec))
    os.environ.update(LISTEN_FDS="1", LISTEN_PID=value)
    listen = lib.sd_listen_fds(0)
    answers.append([value, watchdog, listen])
print(json.dumps(answers))
"""


def libsystemd(templates: list[str]) -> list[tuple[str, int, int]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(templates)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
    )
    return [(value, watchdog, listen) for value, watchdog, listen in json.loads(result.stdout)]


CASES = [
    "PID", " PID", "\tPID", "PID ", "+PID", "-PID", "0PID", "00", "0", "1", "-0", "0x", "0b",
    "", " ", "PIDx", "PID.0", "1_0", "99999999999999999999", "4294967296", "2147483648",
    "\u0661", "\vPID", "0b101", "0o17", "0B1", "0O7", "0x1f", "0X1F", "+0x10", "- 1",
]  # fmt: skip


def test_the_forms_systemd_reads_as_this_process() -> None:
    """Each spelling of the child's own PID, of another and of none."""
    forms = [*CASES, "OCTAL", "HEX", "BINARY"]
    answers = libsystemd(["PID", *forms])
    child = int(answers[0][0])
    assert {v for v, w, _ in answers if w > 0} >= {str(child), f"+{child}", f" {child}"}
    for value, watchdog, listen in answers:
        ours = names_process(value, child)
        assert ours == (watchdog > 0), f"WATCHDOG_PID={value!r}: libsystemd says {watchdog}"
        assert ours == (listen == 1), f"LISTEN_PID={value!r}: libsystemd says {listen}"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["PID", *"0123456789xXbBoO+- \t\v\n"]), max_size=5).map("".join),
        min_size=1,
        max_size=40,
    )
)
def test_generated_values_are_read_as_libsystemd_reads_them(values: list[str]) -> None:
    """Values made of the child's PID and what may surround it."""
    answers = libsystemd(["PID", *values])
    child = int(answers[0][0])
    for value, watchdog, listen in answers[1:]:
        assert names_process(value, child) == (watchdog > 0) == (listen == 1), (value, watchdog)


@pytest.mark.parametrize("value", ["100", "0144", "0x64", " 100", "+100"])
def test_the_spellings_of_one_pid(value: str) -> None:
    assert names_process(value, 100)
