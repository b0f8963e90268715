#!/bin/sh
# make deb DIST=...: build the .deb in a clean root of Debian release DIST, with that
# release's python3, debhelper and libsystemd, and check it with that release's
# lintian. The package lands in OUTDIR/DIST/.
#   build-deb.sh DIST VERSION OUTDIR
set -eu
dist=$1
version=$2
out=$(realpath -m "$3")/$dist
repo=$(cd "$(dirname "$0")/.." && pwd)
work="$repo/build/deb/$dist"
tarball=$("$repo/packaging/debian-root.sh" "$dist" build)
rm -rf "$work"
mkdir -p "$work/root" "$out"
tar -C "$work/root" -xf "$tarball"
"$repo/packaging/fresh-tree.sh" "$work/root/build" "golaunch-$version"
# One commit, one package: the changelog's date and every file's mtime come from the
# commit (SOURCE_DATE_EPOCH), never from the clock.
epoch=$(git -C "$repo" log -1 --format=%ct)
cat > "$work/root/build/golaunch-$version/debian/changelog" <<CHANGES
golaunch ($version) unstable; urgency=medium

  * Release $version.

 -- golaunch developers <golaunch-maintainers@example.org>  $(date -u -R -d "@$epoch")
CHANGES
"$repo/packaging/in-root.sh" "$work/root" env SOURCE_DATE_EPOCH="$epoch" sh -eu -c "
    cd /build/golaunch-$version
    dpkg-buildpackage -us -uc -b
    lintian --fail-on error,warning --tag-display-limit 0 ../golaunch_${version}_amd64.changes
"
cp "$work/root/build/golaunch_${version}_amd64.deb" "$out/"
