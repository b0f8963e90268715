"""The warm start: the last decision, taken again once everything it rested on is unchanged.

A full start that launches records what its checks read (golaunch.inputs.trace)
and keeps its decision, a `Launch`, in a plan beside the configuration cache
(golaunch.config.cache). The next start with the same command line, environment
and user finds the plan, asks the host everything the checks asked, and only if
every answer is the same does it finish as the full start did
(golaunch.launch.finish): the same journal entries, READY=1 and exec. Any
difference, or any doubt, means no plan, and the full path runs.

What a plan never holds, so that such starts always take the full path: a ready
probe, a dependency to wait for or a watchdog (their outcome is decided anew at
each start), credentials (their values must not be written to disk), and a start
that had to create a cache directory.

Per start, systemd sets INVOCATION_ID and JOURNAL_STREAM afresh, and the PID
variables name the new process. The plan's key holds those as "this process" or
by length (the exec check counts their bytes; no check reads their values), and
their values are passed on from the new environment. A plan whose journal
entries, status or program environment mention one of them is not kept.
"""

from __future__ import annotations

import marshal
import os
import sys

from golaunch import __version__
from golaunch.config import cache
from golaunch.inputs.trace import observe, unchanged
from golaunch.launch.finish import Launch, finish

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from golaunch.config.schema import Config
    from golaunch.inputs.trace import Recorder
    from golaunch.launch.effects import Effects

SCHEMA = 1
ONE_TIME = ("INVOCATION_ID", "JOURNAL_STREAM")
PID_VARIABLES = ("SYSTEMD_EXEC_PID", "LISTEN_PID", "WATCHDOG_PID", "MAINPID")
SUFFIX = ".plan"


def plannable(config: Config) -> bool:
    """A start whose decision may be kept (see the module's docstring)."""
    notify, credentials = config.notify, config.credentials
    waits = config.wait.probes or notify.probe is not None or notify.watchdog
    return not waits and not credentials.env and not credentials.file_env


def plan_key(argv: Sequence[str], environ: Mapping[str, str], pid: int) -> str:
    """Everything outside the host that the decision depends on, as one digest."""
    header = f"golaunch {__version__} plan {SCHEMA} {cache.FORMAT} {sys.executable}\0"
    digest = cache.sha256(header.encode())
    for arg in argv:
        digest.update(b"arg\0" + arg.encode("utf-8", "surrogateescape") + b"\0")
    for name in sorted(environ):
        value = environ[name]
        if name in ONE_TIME:
            value = f"\0{len(value)} bytes"
        elif name in PID_VARIABLES and value == str(pid):
            value = "\0this process"
        digest.update(f"env\0{name}\0{value}\0".encode("utf-8", "surrogateescape"))
    return str(digest.hexdigest())


def _path(argv: Sequence[str], environ: Mapping[str, str], pid: int) -> str | None:
    directory = cache.cache_directory(environ)
    if directory is None:
        return None
    return os.path.join(directory, plan_key(argv, environ, pid) + SUFFIX)


def start_warm(argv: Sequence[str], environ: Mapping[str, str]) -> int | None:
    """Finish as the last full start did, if nothing it read has changed; None otherwise."""
    pid = os.getpid()
    path = _path(argv, environ, pid)
    if path is None or not cache.private_directory(os.path.dirname(path), create=False):
        return None
    plan = cache.read_entry(path)
    if plan is None or plan.get("schema") != SCHEMA:
        return None
    try:
        if not unchanged(plan["calls"]):
            return None
        launch = Launch(**plan["launch"])
        for name in ONE_TIME + PID_VARIABLES:
            if name in launch.environment:
                launch.environment[name] = environ[name]
        log_target = str(plan["log_target"])
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None  # a plan of another shape: the full path decides, and keeps a new one
    effects = _effects(log_target, environ)
    notifier = None
    if plan.get("checking") is not None:
        from golaunch.systemd.notify import NotifyError

        try:
            notifier = effects.connect_notifier(environ)
            notifier(plan["checking"])
        except NotifyError:
            return None  # the full path says why, as it always does
    return finish(launch, environ, notifier, effects)


def _effects(log_target: str, environ: Mapping[str, str]) -> Effects:
    from golaunch.launch.effects import system_effects

    return system_effects(log_target, environ)


def remember(
    argv: Sequence[str],
    environ: Mapping[str, str],
    *,
    recorder: Recorder,
    launch: Launch,
    config: Config,
    checking: str | None,
) -> None:
    """Keep LAUNCH for the next start, if the recording can be trusted; silent otherwise:
    a plan not kept only costs the next start its speed."""
    import time

    pid = os.getpid()
    path = _path(argv, environ, pid)
    if path is None or not recorder.verified(time.time_ns()):
        return
    if _mentions_per_start_values(launch, checking, environ, pid):
        return
    calls = dict(recorder.calls)
    calls[("getpid", ())] = observe(("getpid", ()))
    for name, module in list(sys.modules.items()):  # golaunch's own code decided, too
        where = getattr(module, "__file__", None)
        if name.startswith("golaunch") and isinstance(where, str):
            calls[("stat", (where, True))] = observe(("stat", (where, True)))
    plan = {
        "schema": SCHEMA,
        "calls": calls,
        "checking": checking,
        "log_target": config.log.target,
        "launch": {name: getattr(launch, name) for name in Launch.__slots__},
    }
    try:
        data = marshal.dumps(plan)
    except ValueError:
        return  # something in it marshal cannot hold: no plan
    cache.write_entry(path, data)


def _mentions_per_start_values(
    launch: Launch, checking: str | None, environ: Mapping[str, str], pid: int
) -> bool:
    """Whether anything the plan would repeat holds a value that is new at every start."""
    values = [str(pid)]
    values += [environ[n] for n in ONE_TIME + PID_VARIABLES if environ.get(n)]
    passed_on = {n for n in ONE_TIME + PID_VARIABLES if n in launch.environment}
    if any(launch.environment[n] != environ.get(n) for n in passed_on):
        return True  # golaunch changed one of them: the new value could not be passed on
    texts = [checking or "", launch.ready or "", launch.program, launch.label, *launch.argv]
    texts += [v for fields in launch.entries for v in fields.values()]
    texts += [v for n, v in launch.environment.items() if n not in passed_on]
    texts += [v for triple in launch.derived for v in triple]
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
