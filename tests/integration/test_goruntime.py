"""GOMEMLIMIT as the Go runtime reads it, with a real Go program as the oracle; and the
runtime check as --check shows it for real binaries."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from golaunch.host.goruntime import parse_byte_count
from tests.helpers.paths import SOURCES
from tests.helpers.toolchain import Toolchain

CORPUS = [
    "0", "1", "+1", "-1", "-0", "01", "1B", "1KiB", "1kib", "1KB", "1K", "1 MiB", " 1", "1 ",
    "1.5GiB", "1e9", "0x10", "1_000", "MiB", "iB", "B", "", "off", "Off", "OFF", "1MiBB",
    "9223372036854775807", "9223372036854775808", "8796093022207KiB", "8796093022208KiB",
    "8388607TiB", "8388608TiB", "+8388607TiB", "1PiB", "1TiB", "\u0661", "1\u00a0MiB", "\uff11",
]  # fmt: skip
ALPHABET = "0123456789+-BKMGTiPb x."


def oracle_inputs() -> list[str]:
    rng = random.Random(15)
    drawn = ["".join(rng.choices(ALPHABET, k=rng.randint(1, 8))) for _ in range(150)]
    return CORPUS + drawn


@pytest.fixture(scope="module")
def limits_program(go_new: Toolchain) -> Path:
    return go_new.build_as_module(SOURCES / "limits", "limits", "1.25")


def go_reads(program: Path, value: str) -> int | None:
    """What the Go runtime makes of GOMEMLIMIT=VALUE: a byte count, or None for a crash."""
    run = subprocess.run(
        [program], env={"GOMEMLIMIT": value}, capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        assert "malformed GOMEMLIMIT" in run.stderr, run.stderr
        return None
    return int(run.stdout.split()[1].removeprefix("GOMEMLIMIT="))


def test_golaunch_reads_gomemlimit_exactly_as_go_does(limits_program: Path) -> None:
    disagreements = {
        value: (go_reads(limits_program, value), parse_byte_count(value))
        for value in oracle_inputs()
        if go_reads(limits_program, value) != parse_byte_count(value)
    }
    assert disagreements == {}


def test_go_1_19_refuses_a_plus_sign_that_newer_runtimes_take(
    go_119: Toolchain, limits_program: Path
) -> None:
    """Go 1.19 to 1.25 parse with the runtime's own atoi64, which knows no '+'; 1.26 and
    later take it. The binary's version decides, with each runtime as its own oracle."""
    old = go_119.build(SOURCES / "limits", "limits-go119")
    signed = [v for v in oracle_inputs() if "+" in v] + ["+100MiB", "+0", "+1B"]
    for value in signed:
        assert go_reads(old, value) == parse_byte_count(value, plus_sign=False), value
        assert go_reads(limits_program, value) == parse_byte_count(value, plus_sign=True), value
    assert go_reads(old, "+100MiB") is None and go_reads(limits_program, "+100MiB") == 100 << 20


def test_check_refuses_a_plus_sign_for_a_go_1_19_binary(go_119: Toolchain) -> None:
    old = go_119.build(SOURCES / "limits", "limits-go119")
    report = check_json(old, env={"GOMEMLIMIT": "+100MiB"})
    (finding,) = [f for f in runtime_findings(report) if "GOMEMLIMIT" in f["message"]]
    assert report["status"] == 78 and finding["severity"] == "fail", finding


def check_json(program: Path, *options: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-m", "golaunch", "--check", "--json", *options, "--", str(program)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        check=False,
    )
    return {"status": run.returncode, **json.loads(run.stdout)}


def runtime_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["check"] == "runtime"]


def test_check_reports_each_variable(limits_program: Path) -> None:
    report = check_json(limits_program, env={"GOMEMLIMIT": "64MiB"})
    found = runtime_findings(report)
    assert [f["severity"] for f in found] == ["pass", "skip"]
    assert found[0]["message"].startswith("GOMEMLIMIT=64MiB")
    assert found[1]["message"].startswith("GOMAXPROCS not set")


def test_a_gomemlimit_go_refuses_fails_the_check(limits_program: Path) -> None:
    report = check_json(limits_program, "--set-env", "GOMEMLIMIT=64mb")
    assert report["status"] == 78
    (bad,) = [f for f in runtime_findings(report) if f["severity"] == "fail"]
    assert "'64mb'" in bad["message"] and "dies at start" in bad["message"]
    # The oracle agrees that the program would not have lived.
    assert go_reads(limits_program, "64mb") is None


def test_not_a_go_program_is_one_skip() -> None:
    report = check_json(Path("/bin/true"))
    assert [(f["severity"], f["message"][:16]) for f in runtime_findings(report)] == [
        ("skip", "not a Go program")
    ]
