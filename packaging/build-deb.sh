#!/bin/sh
# make deb: build the .deb from a copy of the tree with Debian's own tools and
# python3.11 (not a pyenv interpreter that happens to be first on PATH).
#   build-deb.sh VERSION OUTDIR
set -eu
version=$1
out=$(realpath -m "$2")
repo=$(cd "$(dirname "$0")/.." && pwd)
work="$repo/build/deb"
"$repo/packaging/fresh-tree.sh" "$work" "golaunch-$version"
mkdir -p "$out"
# debian/changelog carries the version from golaunch/__init__.py, the one place it is set.
cat > "$work/golaunch-$version/debian/changelog" <<CHANGES
golaunch ($version) unstable; urgency=medium

  * Release $version.

 -- golaunch developers <golaunch-maintainers@example.org>  $(date -R)
CHANGES
cd "$work/golaunch-$version"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" LANG=C.UTF-8 \
    dpkg-buildpackage -us -uc -b
cp "$work/golaunch_${version}_amd64.deb" "$out/"
