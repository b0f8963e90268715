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
        print(f"golaunch: {e}", file=sys.stderr)
        status = e.status
    except KeyboardInterrupt:
        status = 130
    except Exception as e:  # the one place a bug becomes exit 70, not a traceback
        print(
            f"golaunch: internal error: {type(e).__name__}: {e}\n"
            "golaunch: this is a bug in golaunch; please report it with the command line used",
            file=sys.stderr,
        )
        status = ExitStatus.SOFTWARE
    sys.exit(status)


if __name__ == "__main__":
    main()
