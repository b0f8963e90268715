"""ImportCredential= (systemd 254) as a unit check stages it: the stores in systemd's
order, a trailing * glob, renames, and the first credential of a name winning."""

from __future__ import annotations

from pathlib import Path

from golaunch.unitcheck.credentials import Staged, import_patterns, imported


def stores(tmp_path: Path, **files: dict[str, str]) -> tuple[tuple[str, bool], ...]:
    """Stores named system, etc and encrypted (in that order), holding FILES."""
    made = []
    for store in ("system", "etc", "encrypted"):
        directory = tmp_path / store
        directory.mkdir()
        for name, text in files.get(store, {}).items():
            (directory / name).write_text(text)
        made.append((str(directory), store == "encrypted"))
    return tuple(made)


def test_the_first_store_holding_a_name_wins(tmp_path: Path) -> None:
    where = stores(
        tmp_path, system={"app.token": "system"}, etc={"app.token": "etc", "app.db": "d"}
    )
    found = imported([("app.*", "")], Staged(), where)
    assert found == {"app.db": b"d", "app.token": b"system"}


def test_an_exact_name_and_a_rename(tmp_path: Path) -> None:
    where = stores(tmp_path, etc={"app.token": "t", "app.tokens": "no", "my.a": "1", "my.b": "2"})
    found = imported([("app.token", "token"), ("my.*", "mine.")], Staged(), where)
    assert found == {"token": b"t", "mine.a": b"1", "mine.b": b"2"}


def test_the_first_pattern_keeps_a_name_a_later_one_gives_again(tmp_path: Path) -> None:
    where = stores(tmp_path, etc={"a": "from-a", "b": "from-b"})
    assert imported([("a", "x"), ("b", "x")], Staged(), where) == {"x": b"from-a"}


def test_an_encrypted_credential_found_first_is_not_staged(tmp_path: Path) -> None:
    where = stores(tmp_path, encrypted={"app.key": "sealed"})
    staged = Staged()
    assert imported([("app.*", "")], staged, where) == {}
    assert "does not decrypt" in staged.unstaged["app.key"]


def test_nothing_found_is_no_finding(tmp_path: Path) -> None:
    staged = Staged()
    assert imported([("absent.*", "")], staged, stores(tmp_path)) == {}
    assert (staged.findings, staged.unstaged) == ([], {})


def test_the_managers_two_ways_of_publishing_it() -> None:
    assert import_patterns({"ImportCredentialEx": [("a.*", "b.")]}) == [("a.*", "b.")]
    assert import_patterns({"ImportCredential": ["a.*"]}) == [("a.*", "")]
    assert import_patterns({}) == []
