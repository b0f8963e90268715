"""Exit statuses and messages of the command line, as units and scripts see them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golaunch import __version__
from golaunch.__main__ import run
from golaunch.status import GolaunchError
from tests.helpers.paths import BASE_PATH
from tests.helpers.process import run_golaunch


@pytest.mark.parametrize(
    ("args", "code", "stream", "text"),
    [
        (["--version"], 0, "stdout", f"golaunch {__version__}"),
        (["--help"], 0, "stdout", "Usage: golaunch [OPTIONS] [--] [PROGRAM [ARG]...]"),
        (["-h"], 0, "stdout", "--print-env"),
        ([], 64, "stderr", "no program: give one after --"),
        (["--bogus"], 64, "stderr", "No such option '--bogus'"),
        (["--notify", "loud", "--", "/bin/true"], 64, "stderr", "'loud' is not one of"),
        (["--json", "--", "/bin/true"], 64, "stderr", "--json only applies to --check"),
        (["--check", "--print-env", "--", "/bin/true"], 64, "stderr", "exclude each other"),
        (
            ["--check", "--", "/nonexistent/server"],
            78,
            "stdout",
            "/nonexistent/server does not exist",
        ),
        (["--check", "--", "/tmp"], 78, "stdout", "/tmp is a directory, not a program"),
        (["--check", "--", "no-such-program-anywhere"], 78, "stdout", "is not in PATH="),
    ],
    ids=lambda v: str(v)[:30],
)
def test_exit_codes(args: list[str], code: int, stream: str, text: str) -> None:
    result = run_golaunch(*args, env={"HOME": "/root"})
    assert result.returncode == code, result.stderr
    assert text in getattr(result, stream)
    assert "Traceback" not in result.stderr


def test_check_json_document_shape() -> None:
    result = run_golaunch("--check", "--json", "--", "/bin/true", env={"HOME": "/root"})
    document = json.loads(result.stdout)
    assert set(document) == {"program", "ok", "findings", "environment", "binary", "probes"}
    assert document["probes"] == []  # none configured
    assert document["program"] == "/bin/true" and document["ok"] is (result.returncode == 0)
    for finding in document["findings"]:
        assert set(finding) == {"check", "severity", "message", "fields"}
        assert finding["severity"] in {"pass", "info", "warn", "fail", "skip"}
    assert document["environment"]["PATH"].startswith("/usr/local/sbin")


@pytest.mark.parametrize("lang", ["C.UTF-8", "C"])
def test_non_utf8_arguments_and_variables_do_not_crash(lang: str) -> None:
    program = b"/bin/\xff".decode("utf-8", "surrogateescape")
    result = subprocess.run(
        [sys.executable, "-m", "golaunch", "--print-env", "--keep-env", "WEIRD", "--", program],
        env={b"PATH": b"/usr/bin:/bin", b"LANG": lang.encode(), b"WEIRD": b"\xfe\xff"},
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert b"WEIRD=\xfe\xff" in result.stdout.splitlines()


OPTIONS = [
    "--goroot", "--go-version", "--gocache", "--gomodcache", "--keep-env", "--set-env",
    "--require-lib", "--notify", "--log-target", "--syslog-identifier", "--config",
]  # fmt: skip
WORDS = st.sampled_from(
    ["", "-", "--", "=", "A=1", "=x", "~", "/", ".", "/bin/true", ">=1.2", "auto", "\x7f", "é"]
) | st.text(max_size=12).filter(lambda t: "\0" not in t)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(st.sampled_from(OPTIONS) | WORDS, WORDS), max_size=4))
def test_any_options_give_a_report_or_a_usage_error(
    pairs: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """--check with any options and values, in-process: exit 0, 64 or 78 with something
    said, never an exception (which main() would turn into exit 70)."""
    argv = ["--check", *(word for pair in pairs for word in pair), "--", "/bin/true"]
    try:
        code = run(argv, {"PATH": BASE_PATH, "HOME": "/root"})
    except GolaunchError as e:
        code = e.status
        assert str(e)
    output = capsys.readouterr()
    assert code in (0, 64, 78), (argv, output)
    assert code == 64 or output.out.startswith("golaunch: checking ")
