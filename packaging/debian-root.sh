#!/bin/sh
# A Debian root file system of one release, made once by debootstrap and kept as a
# tarball under build/roots (a fresh clone makes it anew; about a minute each).
#   debian-root.sh DIST VARIANT    prints the tarball's path
# VARIANT clean: what a new machine of DIST has that can boot (systemd, dbus), the
#                root a package is installed into;
#         build: what building the .deb needs, from DIST's own archive;
#         system: clean, with what the tests run in it: python3-venv for a venv of
#                 DIST's python3, and DIST's own prometheus Go programs.
# GOLAUNCH_TEST_MIRROR overrides the mirror.
set -eu
dist=$1
variant=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
mirror=${GOLAUNCH_TEST_MIRROR:-http://deb.debian.org/debian}
cache="$repo/build/roots"
# debootstrap installs the few packages a machine boots with; apt, in the root,
# the rest (debootstrap's own resolver fails on larger sets).
boots=systemd,systemd-sysv,dbus,ca-certificates
case $variant in
    clean) extra= ;;
    system) extra="python3-venv acl procps dbus-user-session prometheus prometheus-alertmanager prometheus-node-exporter" ;;
    build) extra="build-essential debhelper python3-dev python3-venv libsystemd-dev pkg-config lintian" ;;
    *) echo "debian-root.sh: unknown variant $variant (clean, build, system)" >&2; exit 64 ;;
esac
# The tarball's name carries what it holds: a changed list makes a new one.
key=$(echo "$mirror $boots $extra" | sha256sum | cut -c1-8)
tarball="$cache/$dist-$variant-$key.tar"
if [ -f "$tarball" ]; then
    echo "$tarball"
    exit 0
fi
mkdir -p "$cache"
work="$cache/$dist-$variant.work"
rm -rf "$work"
log="$cache/$dist-$variant.log"
install="apt-get update -qq && apt-get install -y -qq --no-install-recommends $extra"
if ! { debootstrap --variant=minbase --include="$boots" "$dist" "$work" "$mirror" > "$log" 2>&1 &&
        { [ -z "$extra" ] || "$repo/packaging/in-root.sh" "$work" sh -c \
            "DEBIAN_FRONTEND=noninteractive; export DEBIAN_FRONTEND; $install" >> "$log" 2>&1; }; }; then
    tail -20 "$log" >&2
    echo "debian-root.sh: the $dist $variant root could not be made; see $log" >&2
    exit 1
fi
# apt's lists and downloaded packages are large and of no use in a cached root.
rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/*_Packages
tar -C "$work" -cf "$tarball.partial" .
mv "$tarball.partial" "$tarball"
rm -rf "$work"
echo "$tarball"
