#!/bin/sh
# PID 1 of a private PID and mount namespace, booting ROOT's own systemd: ROOT is the
# root file system of another Debian release (packaging/debian-root.sh), where a
# package is installed as on a machine of that release. Made by
#   unshare --pid --fork --mount --cgroup --uts --ipc boot-root.sh ROOT UNITDIR TARGET [ARG...]
# ARGs go to systemd, which in a container reads them as its kernel command line.
# ROOT gets its own /proc, the host's /sys and /dev, and fresh /run and /tmp; the
# units in UNITDIR go to its /run/systemd/system.
set -eu
root=$1
unitdir=$2
target=$3
shift 3

mount --make-rprivate /
# The root becomes a mount of its own, so that the propagation below reaches it.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mkdir -p "$root/run/systemd/system"
cp "$unitdir"/* "$root/run/systemd/system/"
hostname golaunch-release
export container=golaunch-test
# As in boot.sh: credentials need shared propagation.
mount --make-rshared "$root"
exec chroot "$root" /usr/lib/systemd/systemd --unit="$target" "$@"
