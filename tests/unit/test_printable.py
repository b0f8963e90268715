"""Every byte that reaches a person or a parser is safe: random bytes (invalid UTF-8,
controls, escape sequences, newlines) through each output path."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from golaunch.findings import Finding, Severity
from golaunch.output.report import Report, render_json, render_text
from golaunch.syntax.printable import visible
from golaunch.systemd.journal import Logger, finding_fields, launch_fields
from golaunch.systemd.notify import ascii_status
from golaunch.systemd.streams import StreamSettings

# What golaunch holds for a path, an argument or a string from a binary: any bytes.
hostile = st.binary(max_size=40).map(
    lambda b: b.decode("utf-8", "surrogateescape")
) | st.sampled_from(
    ["/x\x1b]0;PWNED\x07", "caf\udce9", "a\nb", "<0>forged", "\x00", "\u2028", "ok \u00e9"]
)


def raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def is_safe_line(line: str) -> bool:
    return line.isprintable() and raw(line) == line.encode("utf-8")


def findings(messages: list[str], values: list[str]) -> list[Finding]:
    return [
        Finding("library", Severity.FAIL, m, {"GOLAUNCH_PATH": v})
        for m, v in zip(messages, values, strict=False)
    ]


@settings(max_examples=150)
@given(
    st.lists(hostile, min_size=1, max_size=4), st.lists(hostile, min_size=4, max_size=4), hostile
)
def test_text_report_is_one_printable_line_per_finding(
    messages: list[str], values: list[str], program: str
) -> None:
    binary = {"libraries": [{"soname": v, "path": v, "needed_by": program} for v in values]}
    text = render_text(Report(program, findings(messages, values), {}, binary))
    lines = text.split("\n")
    assert lines.pop() == ""
    assert len(lines) == 1 + len(messages) + 1 + len(values) + 1
    assert all(is_safe_line(line) for line in lines)


def decoded(value: Any) -> bytes:
    """The bytes a JSON string stands for: a str is UTF-8, a list its bytes."""
    return bytes(value) if isinstance(value, list) else value.encode("utf-8")


@settings(max_examples=150)
@given(
    st.lists(hostile, min_size=1, max_size=4), st.lists(hostile, min_size=4, max_size=4), hostile
)
def test_json_is_utf8_and_gives_back_the_exact_bytes(
    messages: list[str], values: list[str], program: str
) -> None:
    environment = {"NAME": program, **{f"V{i}": v for i, v in enumerate(values)}}
    report = Report(program, findings(messages, values), environment, None)
    document = json.loads(render_json(report).encode("utf-8"))  # strict UTF-8, or this raises
    assert decoded(document["program"]) == raw(program)
    assert [decoded(f["message"]) for f in document["findings"]] == [raw(m) for m in messages]
    fields = [decoded(f["fields"]["GOLAUNCH_PATH"]) for f in document["findings"]]
    assert fields == [raw(v) for v in values[: len(messages)]]
    assert {k: decoded(v) for k, v in document["environment"].items()} == {
        k: raw(v) for k, v in environment.items()
    }


@settings(max_examples=150)
@given(hostile)
def test_status_is_printable_ascii_on_one_line(text: str) -> None:
    status = ascii_status(f"STATUS=golaunch: {text}")
    assert status.isascii() and status.isprintable()


@settings(max_examples=150)
@given(hostile, st.lists(hostile, max_size=3), hostile)
def test_journal_fields_are_utf8_and_one_odd_value_never_disables_the_journal(
    program: str, argv: list[str], message: str
) -> None:
    sent: list[dict[str, str]] = []
    stderr = io.StringIO()
    logger = Logger("auto", lambda f: sent.append(dict(f)), stderr, False, True)
    finding = Finding("program", Severity.FAIL, message, {"GOLAUNCH_PATH": program})
    logger.log(finding_fields(finding, program))
    logger.log(launch_fields(program, (program, *argv), 42))
    assert len(sent) == 2 and not logger.unavailable  # both reached the journal
    for entry in sent:
        for value in entry.values():
            value.encode("utf-8")  # strict: raises on a byte that is not UTF-8
            assert value.isprintable()
    lines = stderr.getvalue().split("\n")
    assert lines.pop() == "" and len(lines) == 2  # the echo: one line per entry
    assert all(is_safe_line(line) and not line.startswith("<") for line in lines)


@settings(max_examples=150)
@given(hostile)
def test_a_stream_identifier_is_one_header_line(name: str) -> None:
    header = StreamSettings().header(name).decode("utf-8")  # strict
    lines = header.split("\n")
    assert lines.pop() == "" and len(lines) == 7
    assert lines[0] == (visible(name) or "golaunch")


def test_the_documented_instances() -> None:
    assert visible("/x\x1b]0;PWNED\x07") == "/x\\x1b]0;PWNED\\x07"
    assert visible("caf\udce9") == "caf\\xe9"
    assert visible("a\nb") == "a\\x0ab"
    assert json.loads(render_json(Report("caf\udce9", [])))["program"] == [99, 97, 102, 233]
