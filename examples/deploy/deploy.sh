#!/bin/sh
# Put a new build of a program in place only if its unit would start with it.
#
#   deploy.sh UNIT BUILD
#
# UNIT runs its program through golaunch (ExecStart=golaunch ... -- /opt/app/server).
# BUILD is the new binary, anywhere. Nothing is touched unless the check passes.
set -eu

unit=$1
build=$2
golaunch=${GOLAUNCH:-golaunch}

# The program the unit runs, as golaunch resolves it from the unit's own settings.
installed=$("$golaunch" --check --unit "$unit" --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["program"] or "")')
[ -n "$installed" ] || { echo "deploy.sh: cannot tell which program $unit runs" >&2; exit 1; }

# 1. Stage beside it: the same directory, so that step 3 is a rename on one filesystem,
#    with the mode and owner the unit's user needs (they travel with the rename).
staged="$installed.new"
install -m 0755 -o root -g root "$build" "$staged"

# 2. Judge the staged build as the unit's program, as systemd would start the unit.
if ! "$golaunch" --check --unit "$unit" --candidate "$staged"; then
    rm -f "$staged"
    echo "deploy.sh: $build would not start as $unit; nothing was changed" >&2
    exit 1
fi

# 3. Swap it in: rename(2) is atomic, so a start sees the old build or the new one.
mv -f "$staged" "$installed"

# 4. Restart onto it.
systemctl restart "$unit"
