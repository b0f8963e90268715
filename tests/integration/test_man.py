"""man/: lint-clean roff that names every option, key, check and MESSAGE_ID there is."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess

import click
import pytest

from golaunch.config.commandline import command
from golaunch.config.schema import Config
from golaunch.findings import CHECK_NAMES, MESSAGE_IDS
from golaunch.systemd.journal import LAUNCH_MESSAGE_ID
from tests.helpers.paths import REPO

MAN = REPO / "man"
PAGE_1 = (MAN / "golaunch.1").read_text()
PAGE_5 = (MAN / "golaunch.toml.5").read_text()


def roff(text: str) -> str:
    return text.replace("-", "\\-")


@pytest.mark.skipif(shutil.which("mandoc") is None, reason="mandoc is not installed")
@pytest.mark.parametrize("page", ["golaunch.1", "golaunch.toml.5"])
def test_mandoc_lint_is_clean(page: str) -> None:
    run = subprocess.run(
        ["mandoc", "-Tlint", "-W", "warning", str(MAN / page)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (run.returncode, run.stdout + run.stderr) == (0, "")


def option_names() -> list[str]:
    return [
        name for param in command.params if isinstance(param, click.Option) for name in param.opts
    ]


@pytest.mark.parametrize("name", option_names())
def test_every_option_is_in_golaunch_1(name: str) -> None:
    flag = name.removeprefix("--")
    expected = f"Fl \\-{roff(flag)}" if name.startswith("--") else f"Fl {name[1:]}"
    assert re.search(rf"^\.It .*{re.escape(expected)}\b", PAGE_1, re.M), expected


def settings_keys() -> list[tuple[str, str]]:
    keys = []
    for section in dataclasses.fields(Config):
        if dataclasses.is_dataclass(section.default_factory):
            keys += [(section.name, f.name) for f in dataclasses.fields(section.default_factory)]
        else:
            keys.append(("", section.name))
    return keys


@pytest.mark.parametrize(("section", "key"), settings_keys())
def test_every_key_is_in_golaunch_toml_5(section: str, key: str) -> None:
    heading = f".Sh [{section}]" if section else ".Sh TOP LEVEL"
    body = PAGE_5.split(heading, 1)[1].split("\n.Sh ", 1)[0]
    assert f".It Va {key} " in body
    variable = "GOLAUNCH_" + "__".join(filter(None, (section, key))).upper()
    assert f".Ev {variable} ." in body


@pytest.mark.parametrize("check", CHECK_NAMES)
def test_every_check_is_described(check: str) -> None:
    assert re.search(rf"^\.It .*Cm {re.escape(roff(check))}\b", PAGE_1, re.M)


def test_every_message_id_is_listed() -> None:
    for message_id in [*MESSAGE_IDS.values(), LAUNCH_MESSAGE_ID]:
        assert message_id in PAGE_1


def test_every_exit_status_is_in_the_manual_and_nothing_else() -> None:
    """golaunch.status.ExitStatus is the one list; golaunch(1)'s EXIT STATUS names each."""
    from golaunch.status import ExitStatus

    members = {v for k, v in vars(ExitStatus).items() if k.isupper()}
    section = PAGE_1.split(".Sh EXIT STATUS\n", 1)[1].split("\n.Sh ", 1)[0]
    listed = {int(line.split()[1]) for line in section.splitlines() if line.startswith(".It ")}
    assert listed == members


README = (REPO / "README.md").read_text()


@pytest.mark.parametrize("name", option_names())
def test_every_option_is_in_the_readmes_table(name: str) -> None:
    rows = [line for line in README.splitlines() if line.startswith("| `-")]
    assert any(re.search(rf"[`,] ?{re.escape(name)}[ `,]", row) for row in rows), name


def test_every_exit_status_is_in_the_readmes_table() -> None:
    from golaunch.status import ExitStatus

    members = {v for k, v in vars(ExitStatus).items() if k.isupper()}
    table = README.split("| code | meaning |", 1)[1].split("\n\n", 1)[0]
    listed = {int(row.split("|")[1]) for row in table.splitlines()[2:] if row.startswith("| ")}
    assert listed == members


def test_no_exit_status_is_written_as_a_number() -> None:
    """Every status comes from golaunch.status.ExitStatus: a literal 78 or 143 in the code
    is a second place that can drift (issue 32)."""
    from golaunch.status import ExitStatus

    numbers = "|".join(str(v) for k, v in vars(ExitStatus).items() if k.isupper() and v)
    pattern = re.compile(rf"(return|exit\(|_exit\(|status =|status=)\s*({numbers})\b")
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in sorted((REPO / "golaunch").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) and "ExitStatus" not in line
    ]
    assert found == []
