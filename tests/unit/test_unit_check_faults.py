"""The unit checks' faults from the hostile review (issue 20), without a manager: what is
staged for whom, which command lines launch, EnvironmentFile= and ExecStart= as systemd
reads them, the working directory, one bad unit among many, and --output's modes."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import stat
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from golaunch.findings import Finding, Severity, failed
from golaunch.output.atomic import write_atomically
from golaunch.output.report import Report
from golaunch.status import ExitStatus, UsageError
from golaunch.systemd.manager import ServiceUnit
from golaunch.unitcheck import run as unit_run
from golaunch.unitcheck.child import working_directory
from golaunch.unitcheck.cmdline import expand_command, split_words
from golaunch.unitcheck.credentials import stage
from golaunch.unitcheck.envfile import environment_file_assignments, parse_environment_file
from golaunch.unitcheck.environment import NOBODY, Identity, identity, rebuild
from golaunch.unitcheck.run import check_each, golaunch_command, golaunch_units
from tests.helpers.process import as_user

NOBODY_ID = Identity(NOBODY, NOBODY, [], "nobody", "/", "/usr/sbin/nologin")


def unit(*commands: tuple[str, list[str]], name: str = "app.service") -> ServiceUnit:
    return ServiceUnit(name, 0, list(commands), {})


# --- 1: secrets are never staged for a shared or fallback identity ------------------------


def test_nothing_is_staged_for_nobody(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("TOP-SECRET")
    before = set(Path("/run" if os.geteuid() == 0 else "/tmp").glob("golaunch-check-*"))
    staged = stage({"LoadCredential": [("db", str(secret))], "SetCredential": [("k", b"v")]},
                   NOBODY_ID)  # fmt: skip
    after = set(Path("/run" if os.geteuid() == 0 else "/tmp").glob("golaunch-check-*"))
    assert staged.directory is None and after == before
    assert set(staged.unstaged) == {"db", "k"} and "processes share" in staged.unstaged["db"]
    assert staged.findings == []  # the source exists and was read: nothing failed


def test_a_missing_source_still_fails_for_nobody(tmp_path: Path) -> None:
    staged = stage({"LoadCredential": [("db", str(tmp_path / "gone"))]}, NOBODY_ID)
    assert [f.severity for f in staged.findings] == [Severity.FAIL]
    assert "243/CREDENTIALS" in staged.findings[0].message


@pytest.mark.skipif(os.geteuid() != 0, reason="handing files to another user needs root")
def test_staged_credentials_are_the_units_alone(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("TOP-SECRET")
    who = Identity(4242, 4242, [], "app", None, None)
    staged = stage({"LoadCredential": [("db", str(secret))]}, who)
    try:
        assert staged.directory is not None
        directory = os.stat(staged.directory)
        entry = os.stat(os.path.join(staged.directory, "db"))
        # The files are the user's; the directory stays root's (issue 31, item 16).
        assert (directory.st_uid, stat.S_IMODE(directory.st_mode)) == (0, 0o711)
        assert (entry.st_uid, stat.S_IMODE(entry.st_mode)) == (4242, 0o400)
        secret_copy = Path(staged.directory, "db")
        assert as_user(4242, secret_copy.read_text) == "TOP-SECRET"
        # The user, who controls the check's process, cannot grow the tree root removes.
        nest = os.path.join(staged.directory, "nest")

        def nest_a_directory() -> str:
            os.mkdir(nest)
            return "made"

        made = as_user(4242, nest_a_directory)
        assert made.startswith("PermissionError"), made
    finally:
        staged.remove()
    assert not os.path.exists(staged.directory or "/nonexistent")


def test_removal_is_flat_and_bounded(tmp_path: Path) -> None:
    """Whatever the directory holds, removal unlinks its entries and never descends: a
    deep tree once made shutil.rmtree crash the run and leave the secret behind."""
    secret = tmp_path / "secret"
    secret.write_text("TOP-SECRET")
    staged = stage({"LoadCredential": [("db", str(secret))]}, NOBODY_ID._replace(uid=os.geteuid()))
    assert staged.directory is not None
    directory = staged.directory
    deep = directory
    for _ in range(1200):  # deeper than Python's recursion limit
        deep = os.path.join(deep, "d")
        os.mkdir(deep)
    try:
        staged.remove()  # no RecursionError, no exception at all
        assert os.listdir(directory) == ["d"]  # the secret went; the tree was not walked
    finally:
        subprocess.run(["rm", "-rf", directory], check=True)


def test_unstaged_credentials_are_a_skip_not_a_failure(tmp_path: Path) -> None:
    staged = stage({"SetCredential": [("token", b"x")]}, NOBODY_ID)
    child_saw = failed("credentials", "TOKEN wants credential 'token', which ...",
                       GOLAUNCH_CREDENTIAL="token", GOLAUNCH_VARIABLE="TOKEN")  # fmt: skip
    other = failed("credentials", "X wants credential 'other'", GOLAUNCH_CREDENTIAL="other")
    assert unit_run._unstaged(child_saw, staged).severity is Severity.SKIP
    assert unit_run._unstaged(other, staged).severity is Severity.FAIL


# --- 17: a credential served by an AF_UNIX socket ------------------------------------------


def test_a_socket_credential_is_not_connected_to(tmp_path: Path) -> None:
    path = tmp_path / "cred.sock"
    accepted = threading.Event()
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen()
        server.settimeout(0.5)
        staged = stage({"LoadCredential": [("db", str(path))]}, NOBODY_ID)
        try:
            server.accept()
            accepted.set()
        except TimeoutError:
            pass
    assert not accepted.is_set() and staged.findings == []
    assert "AF_UNIX socket" in staged.unstaged["db"]


# --- 2: a golaunch command line that launches nothing is not a launcher -------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["golaunch", "--check", "--all-units", "--format", "openmetrics", "--output", "/x"],
        ["golaunch", "--print-env", "--", "/opt/app"],
        ["golaunch", "--version"],
        ["golaunch", "--help"],
        ["golaunch", "-c", "/etc/golaunch/a.toml", "--check"],
    ],
)
def test_a_command_line_that_launches_nothing_is_not_a_launcher(argv: list[str]) -> None:
    assert golaunch_command(unit(("/usr/bin/golaunch", argv))) is None


def test_a_launcher_golaunch_would_refuse_is_still_one() -> None:
    argv = ["golaunch", "--no-such-option", "--", "/opt/app"]
    assert golaunch_command(unit(("/usr/bin/golaunch", argv))) == argv


def test_the_shipped_check_service_is_not_a_launcher() -> None:
    from tests.helpers.paths import REPO

    text = (REPO / "units" / "golaunch-check.service").read_text()
    (line,) = [ln for ln in text.splitlines() if ln.startswith("ExecStart=")]
    argv = line.removeprefix("ExecStart=").split()
    assert golaunch_command(unit((argv[0], [os.path.basename(argv[0]), *argv[1:]]))) is None
    assert "TimeoutStartSec=" in text  # 16: a hung check must not stop the timer for good


# --- 12: EnvironmentFile= as systemd's state machine reads it (252, and 254 on) ------------


def test_the_cases_a_line_reader_got_wrong() -> None:
    text = (
        "A=foo\\bar\n"
        'B="x\\ny"\n'
        'C="one" "two"\n'
        "G='it'\"'\"'s'\n"
        "export F=1\n"
        "T=trail\\\\\n"
        "GOLAUNCH_GO__VERSION=>=1.99\n"
    )
    assert environment_file_assignments(text, 252) == {
        "A": "foobar",
        "B": "x\\ny",
        "C": "onetwo",
        "G": "it's",
        "T": "trail\\",
        "GOLAUNCH_GO__VERSION": ">=1.99",  # no longer swallowed by the line before
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=1 \\\n  2\n", [("A", "1   2")]),
        ("K  =  v  \n", [("K", "v")]),
        ("NOEQUALS\nX=1", [("X", "1")]),
        ("Q='unterminated", [("Q", "unterminated")]),
        ('D="a\\$b\\`c\\\\d\\e"\n', [("D", "a$b`c\\d\\e")]),
        ("E=a\0B=2\n", [("E", "a")]),
        ("\r\nR=1\r\n", [("R", "1")]),
        ("=v\n", []),  # "=" starts a key in PRE_KEY; the line never reaches a value
    ],
)
def test_state_machine_cases(text: str, expected: list[tuple[str, str]]) -> None:
    assert parse_environment_file(text, 252) == expected
    assert parse_environment_file(text, 257) == expected


@pytest.mark.parametrize(
    ("systemd", "expected"),
    [
        (252, [("C", "1")]),  # an escaped newline continued the comment
        (253, [("C", "1")]),
        (254, [("B", "shown"), ("C", "1")]),  # systemd#27975: a comment ends at its line
        (257, [("B", "shown"), ("C", "1")]),
    ],
)
def test_a_comment_ending_in_a_backslash(systemd: int, expected: list[tuple[str, str]]) -> None:
    text = "# c \\\nB=shown\n# \\x\nC=1\n"
    assert parse_environment_file(text, systemd) == expected


def test_invalid_names_are_dropped_and_invalid_utf8_fails_the_file() -> None:
    assert environment_file_assignments("1A=x\nA-B=y\nok_1=z\n", 257) == {"ok_1": "z"}
    with pytest.raises(ValueError, match="UTF-8"):
        parse_environment_file(b"A=\xff\n".decode("utf-8", "surrogateescape"), 257)


def test_an_environment_file_that_is_a_fifo_never_hangs(tmp_path: Path) -> None:
    fifo = tmp_path / "env"
    os.mkfifo(fifo)
    service = {"EnvironmentFiles": [(str(fifo), False), (str(fifo), True)]}
    _, notes = rebuild(service, [], Identity(0, 0, [], None, None, None), None, 257)
    assert [n.severity for n in notes] == [Severity.FAIL] and "FIFO" in notes[0].message


# --- 13: $VAR and ${VAR} in ExecStart= -------------------------------------------------------


def test_exec_start_variables_expand_as_systemd_says() -> None:
    env = {"CONFIG": "/etc/golaunch/a b.toml", "OPTS": '--keep-env "A B" C\\ D', "EMPTY": ""}
    argv = ["golaunch", "--config", "${CONFIG}", "$OPTS", "$UNSET", "${UNSET}", "x$OPTS",
            "$$HOME", "${A:-b}", "${open", "$EMPTY", "pre${CONFIG}post"]  # fmt: skip
    assert expand_command(argv, env) == [
        "golaunch", "--config", "/etc/golaunch/a b.toml", "--keep-env", "A B", "C D", "",
        "x$OPTS", "$HOME", "${A:-b}", "${open", "pre/etc/golaunch/a b.tomlpost",
    ]  # fmt: skip


def test_split_words_unterminated_quote_ends_at_the_end() -> None:
    assert split_words("a 'b c") == ["a", "b c"]
    assert split_words("  ") == []


# --- 14: supplementary groups from /etc/group --------------------------------------------


def test_the_users_groups_come_with_it() -> None:
    import grp
    import pwd

    members = [(g.gr_name, m) for g in grp.getgrall() for m in g.gr_mem]
    if not members:
        pytest.skip("no user here is a member of a supplementary group")
    group, user = members[0]
    who, _ = identity({"User": user}, 0)
    assert grp.getgrnam(group).gr_gid in who.groups
    assert pwd.getpwnam(user).pw_gid in who.groups


# --- 15: WorkingDirectory= with "-" and "~" --------------------------------------------------


def test_working_directory_as_the_bus_shows_it(tmp_path: Path) -> None:
    here = os.getcwd()
    try:
        assert working_directory("!/no/such/dir", {}) is None and os.getcwd() == "/"
        assert working_directory("!~", {"HOME": "/no/such/home"}) is None
        assert working_directory("~", {"HOME": str(tmp_path)}) is None
        assert os.getcwd() == str(tmp_path)
        problem = working_directory("/no/such/dir", {})
        assert problem is not None and "200/CHDIR" in problem.message
    finally:
        os.chdir(here)


# --- 16: one bad unit among many ------------------------------------------------------------


class FakeManager:
    """ListUnits says three units; one is gone by LoadUnit, one fails to check."""

    user = None  # PID 1's

    def service_names(self) -> list[str]:
        return ["a.service", "gone.service", "b.service"]

    def service(self, name: str) -> ServiceUnit:
        if name == "gone.service":
            raise UsageError("--unit gone.service: the unit is not loaded (not-found)")
        return unit(("/usr/bin/golaunch", ["golaunch", "--", "/opt/x"]), name=name)


def test_a_vanished_unit_is_skipped_and_a_failing_one_is_its_own_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manager: Any = FakeManager()
    units = golaunch_units(manager)
    assert [u.name for u in units] == ["a.service", "b.service"]

    def check_loaded(
        m: object, u: ServiceUnit, argv: list[str], env: object, **_: object
    ) -> Report:
        if u.name == "a.service":
            raise OSError(5, "Input/output error")
        return Report("/opt/x", [Finding("program", Severity.PASS, "ok")], unit=u.name)

    monkeypatch.setattr(unit_run, "check_loaded", check_loaded)
    reports = check_each(manager, units, [])
    assert [(r.unit, r.ok) for r in reports] == [("a.service", False), ("b.service", True)]
    assert "Input/output error" in reports[0].findings[0].message


def test_a_unit_not_checked_in_time_is_unknown_and_the_others_count(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 31, item 15: the child that gave no answer makes its unit unknown (exit 75,
    JSON "ok": null, its last metrics kept); the other units are checked and reported."""
    from golaunch import commands
    from golaunch.output.metrics import Fleet, from_text, render
    from golaunch.output.report import SYSTEM

    unknown = unit_run._report({"unknown": "the check did not answer within 30 s"}, "a")
    assert not unknown.known and unknown.ok  # nothing failed; nothing is known either
    a = dataclasses.replace(unknown, unit="a.service", checked_at=200.0)
    b = Report("/opt/x", [Finding("program", Severity.PASS, "ok")], unit="b.service")
    monkeypatch.setattr(unit_run, "unit_reports", lambda *args, **kw: ([a, b], []))
    assert commands.check_units([], True, "json", None) == ExitStatus.TEMPFAIL
    shown = {d["unit"]: d for d in json.loads(capsys.readouterr().out)["units"]}
    assert shown["a.service"]["ok"] is None and shown["b.service"]["ok"] is True
    assert "did not answer" in shown["a.service"]["findings"][0]["message"]
    assert commands.check_units([], True, "text", None) == ExitStatus.TEMPFAIL
    text = capsys.readouterr().out
    assert "check did not finish: the unit's state is unknown" in text
    assert text.count("check is ok") == 1  # b.service's alone
    # The unit's last verdict stands in the metrics file; the checked unit's is new.
    output = tmp_path / "golaunch.prom"
    a_unit, b_unit = (SYSTEM, "a.service"), (SYSTEM, "b.service")
    output.write_text(render(Fleet({a_unit: 0}, {}, {SYSTEM: 50.0}, {a_unit: 40.0}), "prometheus"))
    assert commands.check_units([], True, "prometheus", str(output)) == ExitStatus.TEMPFAIL
    fleet = from_text(output.read_text())
    assert fleet.startable == {a_unit: 0, b_unit: 1}
    assert fleet.checked[a_unit] == 40.0 and fleet.timestamps[SYSTEM] > 50


# --- 19: --output keeps a report's mode ------------------------------------------------------


def test_a_report_keeps_its_files_mode_and_metrics_are_world_readable(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text("old")
    report.chmod(0o600)
    write_atomically(str(report), '{"environment": {"DATABASE_URL": "..."}}')
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    fresh = tmp_path / "fresh.json"
    old = os.umask(0o027)
    try:
        write_atomically(str(fresh), "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o640
    metrics = tmp_path / "golaunch.prom"
    write_atomically(str(metrics), "# EOF\n", 0o644)
    assert stat.S_IMODE(metrics.stat().st_mode) == 0o644


@pytest.mark.parametrize("planted", ["symlink", "fifo", "directory"])
def test_the_metrics_lock_is_never_followed_or_waited_on(tmp_path: Path, planted: str) -> None:
    """Issue 31, item 11: whoever can write the textfile directory plants the lock's name;
    root must not create or truncate a file elsewhere through it, nor hang on a FIFO."""
    from golaunch import commands
    from golaunch.output.metrics import Listing
    from golaunch.status import OutputFileError

    target = tmp_path / "elsewhere" / "nologin"
    target.parent.mkdir()
    lock = tmp_path / ".golaunch.prom.lock"
    if planted == "symlink":
        lock.symlink_to(target)
    elif planted == "fifo":
        os.mkfifo(lock)
    else:
        lock.mkdir()
    report = Report("/opt/x", [Finding("program", Severity.PASS, "ok")], unit="a.service")
    output = str(tmp_path / "golaunch.prom")
    with pytest.raises(OutputFileError) as refused:
        listing = Listing(1.0, "system", ["a.service"])
        commands._emit_metrics([report], [], "prometheus", output, listing)
    assert refused.value.status == ExitStatus.CANTCREAT and str(lock) in str(refused.value)
    assert not target.exists() and not os.path.exists(output)


# --- 11: the deprecated MemoryLimit= of a stopped unit ----------------------------------------


class SliceManager:
    def slice_settings(self, name: str) -> dict[str, Any]:
        return {"a.slice": {"MemoryMax": 300 << 20, "Slice": "-.slice"}}[name]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"MemoryLimit": 100 << 20}, (100 << 20, "MemoryLimit= of app.service")),
        (
            {"MemoryLimit": 100 << 20, "MemoryMax": 200 << 20},
            (200 << 20, "MemoryMax= of app.service"),
        ),
        # Any cgroup v2 style memory setting and systemd 252 ignores MemoryLimit=.
        ({"MemoryLimit": 100 << 20, "MemoryLow": 1}, (300 << 20, "MemoryMax= of a.slice")),
        ({}, (300 << 20, "MemoryMax= of a.slice")),
    ],
)
def test_memory_limit_counts_where_systemd_applies_it(
    settings: dict[str, Any], expected: tuple[int, str]
) -> None:
    from golaunch.unitcheck.limits import _from_settings

    service = ServiceUnit("app.service", 0, [], {**settings, "Slice": "a.slice"})
    manager: Any = SliceManager()
    limit = _from_settings(manager, service).memory()
    assert limit is not None and (limit.amount, limit.file) == expected
