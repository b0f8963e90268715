#!/bin/sh
# golaunch runs from its own pinned environment. -I: no PYTHON* variable, user
# site directory or working directory can change what it imports. -B: the
# packages ship every .pyc, and /usr may be read-only (ProtectSystem=strict), so
# the interpreter never tries to write one. -c, not -m: runpy's imports cost
# every start 3 ms.
exec /usr/lib/golaunch/bin/python -I -B -c 'from golaunch.__main__ import main; main()' "$@"
