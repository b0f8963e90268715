"""Entry point. A start whose inputs were validated before goes straight to launch.

The launch path is this module, golaunch.config.cache and what
golaunch.commands.launch imports: no click, no pydantic (tests/integration/
test_import_contract.py holds it to that). Anything else goes through the
command line (golaunch.cli).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from golaunch.status import ExitStatus, GolaunchError


def run(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    from golaunch.config import cache

    cached = cache.load(argv, environ)
    if cached is not None:
        from golaunch.commands import launch

        config, config_path = cached
        return launch(config, environ, config_path)
    from golaunch.cli import run as run_cli

    return run_cli(argv, environ)


def main() -> None:
    try:
        status = run(sys.argv[1:], os.environ)
    except GolaunchError as e:
        _say(f"golaunch: {e}")
        status = e.status
    except KeyboardInterrupt:
        status = 130
    except Exception as e:  # the one place a bug becomes exit 70, not a traceback
        _say(f"golaunch: internal error: {type(e).__name__}: {e}")
        _say("golaunch: this is a bug in golaunch; please report it with the command line used")
        status = ExitStatus.SOFTWARE
    sys.exit(status)


def _say(line: str) -> None:
    """One line to stderr, each of its lines escaped (golaunch.printable); never raises."""
    from golaunch.printable import visible

    text = "".join(visible(part) + "\n" for part in line.split("\n"))
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # closed (None) or full
        pass  # the exit status says the rest


if __name__ == "__main__":
    main()
