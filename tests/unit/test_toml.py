"""golaunch.syntax.toml against tomllib: the same tables, or None (tomllib then decides).

Documents are generated from TOML's grammar, inside the subset and outside it
(dates, hex, multi-line strings, dotted keys, tables defined twice, control
characters), then mutated byte by byte. For each, the reader must give exactly
tomllib's result or None, and None whenever tomllib refuses the document.
"""

from __future__ import annotations

import math
import tomllib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from golaunch.syntax.toml import read_toml
from tests.helpers.paths import REPO


def same(a: object, b: object) -> bool:
    """Equal, type for type: True is not 1 and -0.0 is not 0.0 here."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float):
        assert isinstance(b, float)
        both_nan = math.isnan(a) and math.isnan(b)
        return math.copysign(1, a) == math.copysign(1, b) and (a == b or both_nan)
    return a == b


def assert_as_tomllib(text: str) -> None:
    ours = read_toml(text)
    try:
        theirs = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        assert ours is None, f"accepted what tomllib refuses: {text!r} -> {ours!r}"
        return
    assert ours is None or same(ours, theirs), f"{text!r}: {ours!r} != {theirs!r}"


bare = st.text("abcXYZ019_-", min_size=1, max_size=6)
tame_chars = st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"])
wild_chars = tame_chars | st.sampled_from(list("\"'\\#=[]{},.\t \n\r\x00\x7f"))
tame_escapes = st.sampled_from(["\\n", "\\t", '\\"', "\\\\", "\\u00e9", "\\U0001F600"])
wild_escapes = tame_escapes | st.sampled_from(["\\e", "\\x41", "\\ud800", "\\u12", "\\"])
digits = st.from_regex(r"[0-9](_?[0-9]){0,4}", fullmatch=True)
integer = st.tuples(st.sampled_from(["", "+", "-"]), digits).map("".join)
floating = st.tuples(
    integer, st.sampled_from(["", "."]), st.sampled_from(["", "0", "5_0", "_1"]),
    st.sampled_from(["", "e", "E-", "e+2", "e0_1"]),
).map("".join)  # fmt: skip
odd = st.sampled_from(
    ["inf", "-nan", "0x1F", "0o7", "0b1", "1979-05-27", "07:32:00", "1979-05-27T07:32:00Z",
     '"""a\nb"""', "'''x'''", "tru", "True", "01", "1__0", "1_", "1.", ".5", "1e", "+", "--1"]
)  # fmt: skip
space = st.sampled_from(["", " ", "\t", "  "])


def grammar(wild: bool) -> st.SearchStrategy[str]:
    """TOML documents; WILD ones also hold what the subset or TOML itself refuses."""
    chars, escapes = (wild_chars, wild_escapes) if wild else (tame_chars, tame_escapes)
    basic = st.lists(chars.filter(lambda c: c not in '"\\\n') | escapes, max_size=6).map(
        lambda parts: '"' + "".join(parts) + '"'
    )
    literal = st.text(chars.filter(lambda c: c not in "'\n"), max_size=6).map(lambda s: f"'{s}'")
    key = bare | basic | literal
    scalar = basic | literal | integer | st.sampled_from(["true", "false", "0.5", "-1e3"])
    if wild:
        key = key | st.sampled_from(["a.b", '"x".y', "a . b", ""])
        scalar = scalar | floating | odd

    def array(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        separator = st.sampled_from([",", ", ", ",\n", " ,\n  # note\n"] + [",,", "\n"] * wild)
        tail = st.sampled_from(["", ",", ",\n", "\n"])
        return st.tuples(st.lists(st.tuples(inner, separator), max_size=4), tail).map(
            lambda t: "[" + "".join(v + s for v, s in t[0])[:-1] + t[1] + "]" if t[0] else "[]"
        )

    def inline(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pair = st.tuples(key, space, inner).map(lambda t: f"{t[0]}{t[1]}={t[1]}{t[2]}")
        return st.lists(pair, max_size=3).map(lambda pairs: "{" + ", ".join(pairs) + "}")

    value = st.recursive(scalar, lambda inner: array(inner) | inline(inner), max_leaves=8)
    comment = st.sampled_from(["", " # c", "#", "  # [x] = 1"] + ["# \x01"] * wild)
    pair_line = st.tuples(key, space, value, comment).map(
        lambda t: f"{t[0]}{t[1]}={t[1]}{t[2]}{t[3]}"
    )
    opening = st.sampled_from(["[", "[ "] + ["[["] * wild)
    header = st.tuples(opening, st.lists(key, min_size=1, max_size=3)).map(
        lambda t: t[0] + ".".join(t[1]) + ("]]" if t[0] == "[[" else "]")
    )
    line = pair_line | header | comment
    if wild:
        line = line | st.sampled_from(["junk", "= 1"])
    newline = st.sampled_from(["\n", "\r\n", "\n\n"] + ["\r"] * wild)
    return st.lists(st.tuples(line, newline), max_size=8).map(
        lambda lines: "".join(text + end for text, end in lines)
    )


document = grammar(wild=True) | grammar(wild=False)


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(document)
@example('[go]\nversion = ">=1.22"\n[environment]\nset = { GOMAXPROCS = "2" }\n')
@example("[a.b]\nx = 1\n[a]\ny = 2\n")  # valid, outside the subset
@example("a = {x = 1}\n[a.b]\n")  # an inline table is never extended
@example("[a]\nb = 1\n[a.b]\n")
@example('s = "tab\there"\nt = -0.0\nu = +0\nv = 1_000\nw = 1e-3\n')
def test_generated_documents_read_as_tomllib_reads_them(text: str) -> None:
    assert_as_tomllib(text)


@settings(max_examples=2000, deadline=None)
@given(document, st.data())
def test_mutated_documents_read_as_tomllib_reads_them(text: str, data: st.DataObject) -> None:
    raw = bytearray(text.encode())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw)))
        choice = data.draw(st.sampled_from(["insert", "delete", "flip"]))
        byte = data.draw(st.sampled_from([*b"\"'\\[]{}=,.#\n\r\t 0aZ_-+", 0, 0xC3]))
        if choice == "insert" or not raw:
            raw.insert(at, byte)
        elif choice == "delete":
            del raw[min(at, len(raw) - 1)]
        else:
            raw[min(at, len(raw) - 1)] = byte
    mutated = raw.decode("utf-8", "replace")
    assert_as_tomllib(mutated)


def shipped_examples() -> dict[str, str]:
    """packaging/example.toml as shipped and with every key uncommented, as a user edits it,
    and golaunch.toml(5)'s example."""
    example = (REPO / "packaging" / "example.toml").read_text()
    edited = "\n".join(
        line.removeprefix("# ") if " = " in line else line for line in example.splitlines()
    )
    page = (REPO / "man" / "golaunch.toml.5").read_text()
    manual = page.split(".Sh EXAMPLES\n.Bd -literal -offset indent\n", 1)[1].split(".Ed", 1)[0]
    return {"shipped": example, "edited": edited, "manual": manual.replace("\\-", "-")}


@pytest.mark.parametrize("name", sorted(shipped_examples()))
def test_the_configurations_users_start_from_are_in_the_subset(name: str) -> None:
    """The files a user starts from must take the fast path, not only parse the same."""
    text = shipped_examples()[name]
    parsed = tomllib.loads(text)
    assert len(parsed) >= 4  # the example really was read
    assert same(read_toml(text), parsed)
