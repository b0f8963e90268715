#!/bin/sh
# make rpm: build the .rpm with rpmbuild from packaging/golaunch.spec.
#   build-rpm.sh VERSION OUTDIR
set -eu
version=$1
out=$(realpath -m "$2")
repo=$(cd "$(dirname "$0")/.." && pwd)
top="$repo/build/rpm"
"$repo/packaging/fresh-tree.sh" "$top" SOURCES
mkdir -p "$out"
# --nodeps: on Debian, rpm's database knows nothing of the installed python3.11.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$top" LANG=C.UTF-8 \
    rpmbuild -bb --nodeps \
    --define "_topdir $top" \
    --define "_sourcedir $top/SOURCES" \
    --define "version_from_tree $version" \
    "$repo/packaging/golaunch.spec"
cp "$top/RPMS/x86_64/golaunch-$version-1.x86_64.rpm" "$out/"
