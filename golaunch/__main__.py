"""Entry point: the warm start, else the full start, else the command line.

A launch whose configuration golaunch.config.plain reads (the common case) first
tries the warm start (golaunch.launch.plan), then checks and launches
(golaunch.commands.launch_read): no click, no pydantic (tests/integration/
test_import_contract.py holds it to that). Anything else, and a configuration
the rules refuse, goes through the command line (golaunch.cli), which validates
and says why.
"""

from __future__ import annotations

import os
import sys

from golaunch.status import ExitStatus, GolaunchError, Terminated

TYPE_CHECKING = False  # every start imports this module: no typing
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


def run(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    from golaunch.config.plain import read_plain_config

    plain = read_plain_config(argv, environ)
    if plain is not None:
        from golaunch.launch.plan import start_warm

        status = start_warm(argv, environ, plain)
        if status is None:
            from golaunch.commands import launch_read

            status = launch_read(argv, environ, plain)
        if status is not None:
            return status
    from golaunch.cli import dispatch

    return dispatch(argv, environ)


def as_started(environ: Mapping[str, str], proc: str = "/proc/self/environ") -> Mapping[str, str]:
    """ENVIRON as golaunch was started with it. CPython's locale coercion (PEP 538) sets
    LC_CTYPE=C.UTF-8 when the locale is C, even under -I; the program must get what the
    unit gave, so LC_CTYPE is read back from the environment block the kernel kept."""
    if "LC_CTYPE" not in environ:
        return environ
    try:
        with open(proc, "rb") as f:
            block = f.read()
    except OSError:
        return environ
    started = {}
    for entry in block.split(b"\0"):
        if entry.startswith(b"LC_CTYPE="):
            started["LC_CTYPE"] = entry[9:].decode("utf-8", "surrogateescape")
    result = {k: v for k, v in environ.items() if k != "LC_CTYPE"}
    result.update(started)
    return result


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


def main() -> None:
    # As PID 1 of a container (podman stop), a signal without a handler is ignored, and
    # the stop ends in SIGKILL after its timeout. exec resets the handler for the program.
    # _signal, not signal: the launch path does not load enum for it.
    import _signal

    _signal.signal(_signal.SIGTERM, _terminated)
    try:
        status = run(sys.argv[1:], as_started(os.environ))
    except GolaunchError as e:
        _say(f"golaunch: {e}")
        status = e.status
    except Terminated as e:
        _say(
            f"golaunch: stopped by SIGTERM {e.args[0] if e.args else 'before the program started'}"
        )
        status = ExitStatus.TERMINATED
    except KeyboardInterrupt:
        status = ExitStatus.INTERRUPTED
    except Exception as e:  # the one place a bug becomes exit 70, not a traceback
        _say(f"golaunch: internal error: {type(e).__name__}: {e}")
        _say("golaunch: this is a bug in golaunch; please report it with the command line used")
        status = ExitStatus.SOFTWARE
    sys.exit(status)


def _say(line: str) -> None:
    """One line to stderr, each of its lines escaped (golaunch.syntax.printable); never raises."""
    from golaunch.syntax.printable import visible

    text = "".join(visible(part) + "\n" for part in line.split("\n"))
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # closed (None) or full
        pass  # the exit status says the rest


if __name__ == "__main__":
    main()
