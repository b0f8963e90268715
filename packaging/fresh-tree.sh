#!/bin/sh
# Shared by build-deb.sh and build-rpm.sh: empty WORKDIR, then copy the tree's
# files (tracked and new, not ignored) into WORKDIR/SUBDIR.
#   fresh-tree.sh WORKDIR SUBDIR
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$1"
mkdir -p "$1/$2"
cd "$repo"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$1/$2"
