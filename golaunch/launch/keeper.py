"""The full start's side of the plan (golaunch.launch.plan): record what the checks read,
and once the start has decided its launch, keep the verdict for the next start.

Only a full start loads this module: the warm path reads plans (plan.decode) but
never writes one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from golaunch.host.surroundings import surroundings
from golaunch.inputs.digest import digest
from golaunch.inputs.recorder import Recorder
from golaunch.inputs.trace import fingerprint
from golaunch.launch import store
from golaunch.launch.plan import (
    ONE_TIME,
    PID_VARIABLES,
    PLAN_MAGIC,
    Plan,
    launch_digest,
    plan_key,
    plannable,
)

if TYPE_CHECKING:
    from golaunch.config.plain import PlainConfig
    from golaunch.launch.finish import Launch


def keeper(
    argv: Sequence[str], environ: Mapping[str, str], plain: PlainConfig | None
) -> Keeper | None:
    """What a full start with these inputs needs to keep a plan; None for a start whose
    verdict is never kept (read by validation alone, or see the module's docstring)."""
    return Keeper(argv, environ, plain) if plain and plannable(plain.values) else None


class Keeper:
    """A full start's side of the plan: RECORDER sees what the checks read (it is entered
    around them), and `remember` keeps the verdict once the start has decided its launch."""

    def __init__(self, argv: Sequence[str], environ: Mapping[str, str], plain: PlainConfig):
        self.argv, self.environ, self.plain = argv, environ, plain
        self.recorder = Recorder()

    def remember(self, launch: Launch) -> None:
        """Keep a plan for the next start, if the recording can be trusted; silent otherwise:
        a plan not kept only costs the next start its speed."""
        import time

        pid, environ, recorder = os.getpid(), self.environ, self.recorder
        directory = store.store_directory(environ)
        if directory is None or not recorder.verified(time.time_ns()):
            return
        if _mentions_per_start_values(launch.entries, environ, pid):
            return
        found = Plan(
            key=plan_key(self.argv, environ, self.plain, pid, surroundings(environ)),
            launch=launch_digest(launch, pid),
            answers=fingerprint(recorder.calls.items()),
            entries=launch.entries,
            calls=list(recorder.calls),
        )
        data = encode(found)
        if data is not None:
            store.write_file(os.path.join(directory, found.key + store.SUFFIX), data)


def _mentions_per_start_values(
    entries: list[dict[str, str]], environ: Mapping[str, str], pid: int
) -> bool:
    """Whether a journal entry the plan would repeat holds a value new at every start."""
    values = [str(pid)] + [environ[n] for n in ONE_TIME + PID_VARIABLES if environ.get(n)]
    texts = [v for fields in entries for v in fields.values()]
    return any(_mentions(text, value) for text in texts for value in values)


def _mentions(text: str, value: str) -> bool:
    """VALUE in TEXT, not as part of a longer word or number."""
    start = text.find(value)
    while start >= 0:
        end = start + len(value)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or after.isalnum()):
            return True
        start = text.find(value, start + 1)
    return False


def encode(found: Plan) -> bytes | None:
    """FOUND as a file; None when something in it cannot be written (a NUL in a string)."""
    fields: list[str] = [found.key, found.launch, found.answers, str(len(found.entries))]
    for entry in found.entries:
        fields.append(str(len(entry)))
        for name, value in entry.items():
            fields += [name, value]
    for name, args in found.calls:
        fields.append(name)
        fields += [_argument(a) for a in args]
    if any("\0" in f for f in fields):
        return None
    body = "".join(f + "\0" for f in fields).encode("utf-8", "surrogateescape")
    whole: str = digest(body).hexdigest()
    return PLAN_MAGIC + whole.encode() + b"\n" + body


def _argument(value: object) -> str:
    if isinstance(value, bool):
        return "b1" if value else "b0"
    if isinstance(value, int):
        return f"i{value}"
    return f"s{value}"
