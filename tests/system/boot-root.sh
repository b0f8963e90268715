#!/bin/sh
# PID 1 of a private PID and mount namespace, booting ROOT's own systemd: ROOT is the
# root file system of another Debian release (packaging/debian-root.sh). Made by
#   unshare --pid --fork --mount --cgroup --uts --ipc \
#       boot-root.sh ROOT UNITDIR TARGET EXPOSE [ARG...]
# EXPOSE: space-separated host directories (no spaces in them) shown at the same path
# in ROOT, each with its ancestors searchable: this tree and its interpreter, for a
# suite run against ROOT's systemd. ARGs go to systemd, which in a container reads
# them as its kernel command line. ROOT gets its own /proc, the host's /sys and /dev,
# and fresh /run and /tmp; the units in UNITDIR go to its /run/systemd/system.
set -eu
root=$1
unitdir=$2
target=$3
expose=$4
shift 4

mount --make-rprivate /
# The root becomes a mount of its own, so that the propagation below reaches it.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
for dir in $expose; do
    mkdir -p "$root$dir"
    # ROOT is a copy of the tests' own: its /root may be opened to every user.
    parent=$(dirname "$dir")
    while [ "$parent" != / ]; do
        chmod a+x "$root$parent"
        parent=$(dirname "$parent")
    done
    mount --bind "$dir" "$root$dir"
done
mkdir -p "$root/run/systemd/system" "$root/etc/golaunch" "$root/usr/local/lib/systemd/catalog"
cp "$unitdir"/* "$root/run/systemd/system/"
hostname golaunch-test
export container=golaunch-test
# As in boot.sh: credentials need shared propagation.
mount --make-rshared "$root"
exec chroot "$root" /usr/lib/systemd/systemd --unit="$target" "$@"
