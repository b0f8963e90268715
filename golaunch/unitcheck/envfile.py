"""EnvironmentFile= as systemd reads it: its state machine (src/basic/env-file.c,
parse_env_file_internal) and the assignments it then keeps (exec_context_load_environment:
a name of letters, digits and '_' not starting with a digit, a value of valid UTF-8).

What the states do, which a line-based reading gets wrong:
- a key runs to '='; a line with no '=' is dropped; trailing blanks of a key go;
- outside quotes, blanks before a value go and trailing blanks of an unquoted
  run go, a backslash keeps the next character (and eats a newline);
- 'single quotes' keep everything; in "double quotes" a backslash unescapes only
  " \\ ` $ (and eats a newline), and keeps itself before anything else;
- quoted and unquoted runs join: C="one" "two" is onetwo, 'it'"'"'s' is it's;
- # or ; before a key starts a comment. Before systemd 254 a backslash at its end
  continued the comment onto the next line; from 254 on (systemd#27975) that next
  line is read as any other.
Invalid UTF-8 anywhere in a key or value fails the whole file, as systemd's
check_utf8ness_and_warn does.
"""

from __future__ import annotations

from collections.abc import Callable

from golaunch.syntax import WHITESPACE
from golaunch.syntax.envname import systemd_accepts_name

NEWLINE = "\n\r"
COMMENTS = "#;"
SHELL_NEED_ESCAPE = '"\\`$'
# The first systemd whose comments end at an escaped newline.
COMMENTS_END_AT_NEWLINE = 254


def _blank_start(c: str, run: list[str], start: int | None) -> int | None:
    """Where RUN's trailing blanks will begin once C is appended; None: it ends in no blank."""
    if c not in WHITESPACE:
        return None
    return len(run) if start is None else start


class _Parser:
    """One pass over the text; `pairs` collects (key, value) in file order."""

    def __init__(self, continued_comments: bool) -> None:
        self.continued_comments = continued_comments
        self.state: Callable[[str], None] = self.pre_key
        self.key: list[str] = []
        self.value: list[str] = []
        self.key_blank: int | None = None  # where the key's trailing blanks start
        self.value_blank: int | None = None  # where an unquoted run's trailing blanks start
        self.pairs: list[tuple[str, str]] = []

    def push(self, trim_value: bool) -> None:
        key = "".join(self.key[: self.key_blank])
        end = self.value_blank if trim_value else None
        self.pairs.append((key, "".join(self.value[:end])))
        self.key, self.value = [], []

    def pre_key(self, c: str) -> None:
        if c in COMMENTS:
            self.state = self.comment
        elif c not in WHITESPACE:
            self.state, self.key_blank = self.in_key, None
            self.key.append(c)

    def in_key(self, c: str) -> None:
        if c in NEWLINE:
            self.state, self.key = self.pre_key, []
        elif c == "=":
            self.state, self.value_blank = self.pre_value, None
        else:
            self.key_blank = _blank_start(c, self.key, self.key_blank)
            self.key.append(c)

    def pre_value(self, c: str) -> None:
        if c in NEWLINE:
            self.state = self.pre_key
            self.push(trim_value=False)
        elif c == "'":
            self.state = self.single_quoted
        elif c == '"':
            self.state = self.double_quoted
        elif c == "\\":
            self.state = self.value_escape
        elif c not in WHITESPACE:
            self.state = self.in_value
            self.value.append(c)

    def in_value(self, c: str) -> None:
        if c in NEWLINE:
            self.state = self.pre_key
            self.push(trim_value=True)
        elif c == "\\":
            self.state, self.value_blank = self.value_escape, None
        else:
            self.value_blank = _blank_start(c, self.value, self.value_blank)
            self.value.append(c)

    def value_escape(self, c: str) -> None:
        self.state = self.in_value
        if c not in NEWLINE:  # an escaped newline is eaten whole
            self.value.append(c)

    def single_quoted(self, c: str) -> None:
        if c == "'":
            self.state = self.pre_value
        else:
            self.value.append(c)

    def double_quoted(self, c: str) -> None:
        if c == '"':
            self.state = self.pre_value
        elif c == "\\":
            self.state = self.double_quoted_escape
        else:
            self.value.append(c)

    def double_quoted_escape(self, c: str) -> None:
        self.state = self.double_quoted
        if c in SHELL_NEED_ESCAPE:
            self.value.append(c)
        elif c != "\n":  # as a shell does, the backslash stays before anything else
            self.value += ["\\", c]

    def comment(self, c: str) -> None:
        if c == "\\":
            self.state = self.comment_escape
        elif c in NEWLINE:
            self.state = self.pre_key

    def comment_escape(self, c: str) -> None:
        if c in NEWLINE and not self.continued_comments:
            self.state = self.pre_key
        else:  # the escaped character is swallowed; before 254, a newline too
            self.state = self.comment

    def end(self) -> None:
        """At the end of the text, a pending assignment counts (not a bare key)."""
        if self.state in (self.pre_value, self.value_escape):
            self.push(trim_value=False)
        elif self.state == self.in_value:
            self.push(trim_value=True)
        elif self.state in (self.single_quoted, self.double_quoted, self.double_quoted_escape):
            self.push(trim_value=False)


def parse_environment_file(text: str, systemd: int) -> list[tuple[str, str]]:
    """(key, value) in file order, as the state machine of SYSTEMD (its major version)
    pushes them. TEXT is the file decoded with surrogateescape; ValueError if a key or
    value is not valid UTF-8."""
    parser = _Parser(continued_comments=systemd < COMMENTS_END_AT_NEWLINE)
    for c in text.split("\0", 1)[0]:  # systemd reads a C string: a NUL ends it
        parser.state(c)
    parser.end()
    for key, value in parser.pairs:
        for part in (key, value):
            if any("\udc80" <= c <= "\udcff" for c in part):
                raise ValueError(f"invalid UTF-8 in the assignment of {key!r}")
    return parser.pairs


def environment_file_assignments(text: str, systemd: int) -> dict[str, str]:
    """What SYSTEMD adds to a service's environment from an EnvironmentFile= with TEXT:
    invalid names are dropped (systemd logs and ignores them), a later assignment wins."""
    pairs = parse_environment_file(text, systemd)
    return {key: value for key, value in pairs if systemd_accepts_name(key)}
