#!/bin/sh
# golaunch runs from its own pinned environment. -I: no PYTHON* variable, user
# site directory or working directory can change what it imports.
exec /usr/lib/golaunch/bin/python -I -m golaunch "$@"
