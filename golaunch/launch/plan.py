"""The warm start: a full start's verdict, taken again when nothing it rested on has changed.

Every start reads its configuration afresh (golaunch.config.plain) and computes
what it will exec (golaunch.host.execution): the program, its argv and its
environment never come from a file. A full start that launches also records
what its checks read (golaunch.inputs.recorder) and keeps a *plan*
(golaunch.launch.keeper):

- the key: a digest of this start's inputs (command line, environment, the
  configuration read, the user, golaunch's own code and interpreter, and whether it
  runs in a unit, a container or a shell);
- the calls its checks made, and one digest of what they saw;
- a digest of the launch it decided (program, argv, environment, ...);
- its journal entries (the warnings of a start that passed).

The next start with the same key asks every call again. Only if the answers
digest the same, and the launch it computes digests the same, does it finish as
the full start did (golaunch.launch.finish), without checking. Any difference or
doubt means no warm start: the full start runs, and keeps a new plan.

Plans live where the service's own user can write (golaunch.launch.store), so a
plan is input from a program that may be compromised. It never decides what
runs: at most, a planted plan skips the checks of the launch this start
computed itself, and a damaged one costs the warm start. The format is bounded
and checked before anything is built from it; no call it names can write,
block or read without bound (golaunch.inputs.trace).

What a plan never covers, so that such starts always check: a ready probe, a
dependency to wait for or a watchdog (decided anew at each start), credentials
(their values must not be written to disk), and a start that had to create a
cache directory. INVOCATION_ID and JOURNAL_STREAM are new at every start and the
PID variables name the new process: the key holds those by length (the exec
check counts their bytes), and as "this process" where they name it.
"""

from __future__ import annotations

import os
import sys

from golaunch import __version__
from golaunch.host.surroundings import surroundings
from golaunch.inputs.digest import digest
from golaunch.inputs.trace import fingerprint_now, well_formed
from golaunch.launch import store
from golaunch.syntax.pid import names_process

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from golaunch.config.plain import PlainConfig
    from golaunch.inputs.trace import Call
    from golaunch.launch.finish import Launch

PLAN_MAGIC = b"golaunch plan 2\n"
ONE_TIME = ("INVOCATION_ID", "JOURNAL_STREAM")
PID_VARIABLES = ("SYSTEMD_EXEC_PID", "LISTEN_PID", "WATCHDOG_PID", "MAINPID")
MAX_CALLS = 50_000
MAX_ENTRIES = 256
MAX_FIELDS = 64
FIELD_NAME = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class Plan:
    __slots__ = ("answers", "calls", "entries", "key", "launch")

    def __init__(
        self,
        key: str,
        launch: str,
        answers: str,
        entries: list[dict[str, str]],
        calls: list[Call],
    ) -> None:
        self.key = key  # the inputs' digest (plan_key)
        self.launch = launch  # the launch's digest (launch_digest)
        self.answers = answers  # what the calls saw (golaunch.inputs.trace.fingerprint)
        self.entries = entries  # the journal fields of the findings journaled
        self.calls = calls


def plannable(values: Mapping[str, Any]) -> bool:
    """A start whose verdict may be kept (see the module's docstring)."""
    notify, credentials = values["notify"], values["credentials"]
    waits = values["wait"]["probes"] or notify["probe"] is not None or notify["watchdog"]
    return not waits and not credentials["env"] and not credentials["file_env"]


def start_warm(argv: Sequence[str], environ: Mapping[str, str], plain: PlainConfig) -> int | None:
    """Finish as the last full start with these inputs did, if nothing it read has changed
    and this start computes the same launch; None otherwise."""
    from golaunch.host.execution import compute_execution, runnable
    from golaunch.launch.finish import checking_status, finish, launch_for

    if not plannable(plain.values):
        return None
    pid, where = os.getpid(), surroundings(environ)
    found = _read_plan(argv, environ, plain, pid, where)
    if found is None or fingerprint_now(found.calls) != found.answers:
        return None
    execution = compute_execution(plain.values, environ, where=where)
    if execution.program is None or not runnable(execution.program):
        return None  # asked whatever the plan says: a planted one cannot run what is gone
    launch = launch_for(execution, plain.values["log"]["syslog_identifier"], environ, found.entries)
    if launch_digest(launch, pid) != found.launch:
        return None
    effects = _effects(plain.values["log"]["target"], environ)
    notifier = None
    if execution.notify_mode == "ready":
        from golaunch.systemd.notify import NotifyError

        try:
            notifier = effects.connect_notifier(environ)
            notifier(checking_status(launch.label))
        except NotifyError:
            return None  # the full start says why, as it always does
    return finish(launch, environ, notifier, effects)


def _read_plan(
    argv: Sequence[str], environ: Mapping[str, str], plain: PlainConfig, pid: int, where: str
) -> Plan | None:
    directory = store.store_directory(environ)
    if directory is None or not store.private_directory(directory, create=False):
        return None
    key = plan_key(argv, environ, plain, pid, where)
    data = store.read_file(os.path.join(directory, key + store.SUFFIX))
    found = decode(data) if data is not None else None
    return found if found is not None and found.key == key else None


def _effects(log_target: str, environ: Mapping[str, str]) -> Any:
    from golaunch.launch.effects import system_effects

    return system_effects(log_target, environ)


def plan_key(
    argv: Sequence[str], environ: Mapping[str, str], plain: PlainConfig, pid: int, where: str
) -> str:
    """Everything outside the host that the verdict depends on, as one digest. WHERE: the
    surroundings (golaunch.host.surroundings), which decide advice and questions."""
    hashed = digest(PLAN_MAGIC)
    for part in (__version__, code_stamp(), sys.executable, os.geteuid(), os.getegid()):
        hashed.update(f"{part}\0".encode("utf-8", "surrogateescape"))
    for arg in argv:
        hashed.update(b"arg\0" + arg.encode("utf-8", "surrogateescape") + b"\0")
    for name in sorted(environ):
        value = _per_start(name, environ[name], pid)
        hashed.update(f"env\0{name}\0{value}\0".encode("utf-8", "surrogateescape"))
    # From files outside the environment: a unit's start and a shell's never share a plan.
    hashed.update(f"where\0{where}\0".encode())
    configuration = f"config\0{plain.path}\0{plain.values!r}\0"
    hashed.update(configuration.encode("utf-8", "surrogateescape"))
    return str(hashed.hexdigest())


def _per_start(name: str, value: str, pid: int) -> str:
    """VALUE as the key holds it: a value new at every start by its length only."""
    size = len(value.encode("utf-8", "surrogateescape"))
    if name in ONE_TIME:
        return f"\0{size} bytes"
    if name in PID_VARIABLES and names_process(value, pid):
        return f"\0this process, {size} bytes"
    return value


def code_stamp() -> str:
    """The identity of golaunch's own code and of the interpreter: a package patched or
    rebuilt under the same version is new code that decides anew. Every source file is
    looked at; the byte code by its directory, since a .pyc is only ever replaced whole
    (by the interpreter, dpkg or pip), which changes its directory."""
    import golaunch

    files = [_identity(os.stat(sys.executable))]
    pending = [os.path.dirname(golaunch.__file__)]
    while pending:
        with os.scandir(pending.pop()) as listing:
            for item in listing:
                if item.name.endswith(".py") or item.name == "__pycache__":
                    files.append(f"{item.path} {_identity(item.stat(follow_symlinks=False))}")
                if item.name != "__pycache__" and item.is_dir(follow_symlinks=False):
                    pending.append(item.path)
    return str(digest("\n".join(sorted(files)).encode("utf-8", "surrogateescape")).hexdigest())


def _identity(info: os.stat_result) -> str:
    return f"{info.st_dev} {info.st_ino} {info.st_size} {info.st_mtime_ns} {info.st_ctime_ns}"


def launch_digest(launch: Launch, pid: int) -> str:
    """The launch as a digest, its per-start values by length (see _per_start)."""
    environment = sorted((n, _per_start(n, v, pid)) for n, v in launch.environment.items())
    facts = (
        launch.program,
        launch.label,
        launch.argv,
        environment,
        launch.identifier,
        launch.derived,
        launch.dropped,
        launch.ready,
    )
    return str(digest(repr(facts).encode("utf-8", "surrogateescape")).hexdigest())


# The file: PLAN_MAGIC, the hex BLAKE2b of the body and a newline, then the body: fields
# ended by NUL. The key, the launch's digest, the answers' digest; the number of
# entries, and for each its number of fields and their names and values; then each
# call: its name, and each argument as a type letter (s, i, b) and its text.
# golaunch.launch.keeper writes it.


def decode(data: bytes) -> Plan | None:
    """The plan in DATA, or None unless it is one this version wrote, whole, with every
    field of its kind and within bounds."""
    if not data.startswith(PLAN_MAGIC):
        return None
    whole, _, body = data[len(PLAN_MAGIC) :].partition(b"\n")
    if whole != digest(body).hexdigest().encode() or not body.endswith(b"\0"):
        return None
    fields = body[:-1].decode("utf-8", "surrogateescape").split("\0")
    try:
        return _decoded(fields)
    except (ValueError, IndexError):
        return None


def _decoded(fields: list[str]) -> Plan | None:
    key, launch, answers = fields[0], fields[1], fields[2]
    count = _bounded(fields[3], MAX_ENTRIES)
    entries: list[dict[str, str]] = []
    at = 4
    for _ in range(count):
        size = _bounded(fields[at], MAX_FIELDS)
        pairs = fields[at + 1 : at + 1 + 2 * size]
        entry = dict(zip(pairs[::2], pairs[1::2], strict=True))
        if len(entry) != size or not all(_field_name(n) for n in entry):
            return None
        entries.append(entry)
        at += 1 + 2 * size
    calls = _calls(fields[at:])
    return Plan(key, launch, answers, entries, calls) if calls is not None else None


def _calls(fields: list[str]) -> list[Call] | None:
    from golaunch.inputs.trace import SIGNATURES

    calls: list[Call] = []
    at = 0
    while at < len(fields):
        name = fields[at]
        types = SIGNATURES.get(name)
        if types is None or len(calls) >= MAX_CALLS:
            return None
        args = tuple(_parsed(text) for text in fields[at + 1 : at + 1 + len(types)])
        call = (name, args)
        if not well_formed(call):
            return None
        calls.append(call)
        at += 1 + len(types)
    return calls


def _parsed(text: str) -> object:
    letter, value = text[:1], text[1:]
    if letter == "s":
        return value
    if letter == "b" and value in ("0", "1"):
        return value == "1"
    digits = value.removeprefix("-")
    if letter == "i" and 0 < len(digits) <= 20 and digits.isascii() and digits.isdigit():
        return int(value)
    raise ValueError(text)


def _bounded(text: str, limit: int) -> int:
    if not (text.isascii() and text.isdigit() and int(text) <= limit):
        raise ValueError(text)
    return int(text)


def _field_name(name: str) -> bool:
    """A journal field name as journald takes one from a client."""
    if not 0 < len(name) <= 64 or name[0] == "_" or name[0].isdigit():
        return False
    return set(name) <= FIELD_NAME
