#!/bin/sh
# PID 1 of a private PID and mount namespace, made by
#   unshare --pid --fork --mount --mount-proc --cgroup --uts --ipc boot.sh UNITDIR TARGET [EXPOSE]
# Gives systemd its own /run, /tmp, journal, state and caches, makes /etc and
# /usr/local writable copies of the host's (so /etc/golaunch and the catalog
# directory never touch the host), then execs the machine's systemd.
# EXPOSE: a directory under a 0700 parent (pyenv under /root) that service
# users other than root must reach; only the namespace sees it reachable.
set -eu
unitdir=$1
target=$2
expose=${3:-}

mount --make-rprivate /
for dir in /run /tmp /var/log/journal /var/lib/systemd /var/cache; do
    mount -t tmpfs -o mode=0755 tmpfs "$dir"
done
chmod 1777 /tmp

for dir in /etc /usr/local; do
    state=/run/golaunch-test/overlay$dir
    mkdir -p "$state/upper" "$state/work"
    mount -t overlay overlay -o "lowerdir=$dir,upperdir=$state/upper,workdir=$state/work" "$dir"
done

if [ -n "$expose" ]; then
    parent=$(dirname "$expose")
    mkdir -p /run/golaunch-test/expose
    mount --bind "$expose" /run/golaunch-test/expose
    mount -t tmpfs -o mode=0755 tmpfs "$parent"
    mkdir -p "$expose"
    mount --move /run/golaunch-test/expose "$expose"
fi

mkdir -p /run/systemd/system /etc/golaunch /usr/local/lib/systemd/catalog
cp "$unitdir"/* /run/systemd/system/
hostname golaunch-test
export container=golaunch-test
exec /usr/lib/systemd/systemd --unit="$target"
