"""Entry point. The launch path stays here and in what it imports: no click, no pydantic.

A start whose inputs were validated before reuses those settings
(golaunch.settings_cache); anything else goes through the full command line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from golaunch.errors import GolaunchError
from golaunch.exitcodes import ExitStatus


def run(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    from golaunch import settings_cache

    cached = settings_cache.load(argv, environ)
    if cached is not None:
        from golaunch.modes import launch_config

        config, config_path = cached
        return launch_config(config, environ, config_path)
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
