"""ExecStart='s variables, expanded as systemd 252 does when it starts the command
(systemd.service(5) "Command lines"; src/basic/env-util.c replace_env_argv).

- A word that starts with $ (not ${ or $$) is a variable: the rest of the word,
  whatever it holds, is its name. It becomes the value split into words
  (whitespace, with quotes and backslashes removed as in the unit file), or no
  word at all when no variable has that name: `$FOO/bin` looks up "FOO/bin",
  which no environment holds, and vanishes.
- Anywhere in a word, ${NAME} becomes the value as it is, one word (empty when
  unset); $$ becomes $. Nothing else is special: $NAME after the word's start,
  ${NAME:-x} and an unterminated ${ stay as written.
tests/system/test_unit_faults.py holds each rule to systemd 252 itself.
The bus gives ExecStart= before this expansion, which is why a check redoes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from golaunch.syntax import WHITESPACE


def expand_command(argv: Sequence[str], environment: Mapping[str, str]) -> list[str]:
    expanded: list[str] = []
    for word in argv:
        if word.startswith("$") and word[1:2] not in ("{", "$"):
            value = environment.get(word[1:])
            expanded += split_words(value) if value is not None else []
        else:
            expanded.append(expand_word(word, environment))
    return expanded


def expand_word(word: str, environment: Mapping[str, str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(word):
        if word.startswith("$$", i):
            out.append("$")
            i += 2
        elif word.startswith("${", i):
            end = word.find("}", i + 2)
            name = word[i + 2 : end] if end >= 0 else ""
            if end < 0 or ":" in name:  # unterminated, or ${NAME:-...}: left as written
                out.append(word[i:])
                break
            out.append(environment.get(name, ""))
            i = end + 1
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


def split_words(text: str) -> list[str]:
    """Words of TEXT split at whitespace, quotes removed, a backslash keeping the next
    character (also inside quotes); an unterminated quote ends at the end of TEXT."""
    words: list[str] = []
    current: list[str] | None = None  # None: between words
    quote = ""
    chars = iter(text)
    for c in chars:
        if c in WHITESPACE and not quote:
            if current is not None:
                words.append("".join(current))
            current = None
            continue
        current = [] if current is None else current
        if c == "\\":
            current.append(next(chars, ""))
        elif quote and c == quote:
            quote = ""
        elif not quote and c in "'\"":
            quote = c
        else:
            current.append(c)
    if current is not None:
        words.append("".join(current))
    return words
