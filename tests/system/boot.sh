#!/bin/sh
# PID 1 of a private PID and mount namespace, made by
#   unshare --pid --fork --mount --mount-proc --cgroup --uts --ipc boot.sh UNITDIR TARGET [EXPOSE [PLAN]]
# EXPOSE: space-separated directories (no spaces in them) the services need that
# the namespace would hide: under a 0700 parent, or under one of the tmpfs mounts
# below (a checkout in /tmp).
# Gives systemd its own /run, /tmp, journal, state and caches, makes /etc and
# /usr/local writable copies of the host's (so /etc/golaunch and the catalog
# directory never touch the host), then execs the machine's systemd.
# Service users other than root must reach pyenv's interpreter and this tree,
# which may live in /root; only the namespace sees them reachable.
set -eu
unitdir=$1
target=$2
expose=${3:-}
plan=${4:-}

mount --make-rprivate /
# Hold the EXPOSE directories where nothing below hides them, before anything does.
mount -t tmpfs -o mode=0700 tmpfs /mnt
n=0
for dir in $expose; do
    n=$((n + 1))
    mkdir -p "/mnt/$n"
    mount --bind "$dir" "/mnt/$n"
done

for dir in /run /tmp /var/log/journal /var/lib/systemd /var/cache; do
    mount -t tmpfs -o mode=0755 tmpfs "$dir"
done
chmod 1777 /tmp

for dir in /etc /usr/local; do
    state=/run/golaunch-test/overlay$dir
    mkdir -p "$state/upper" "$state/work"
    mount -t overlay overlay -o "lowerdir=$dir,upperdir=$state/upper,workdir=$state/work" "$dir"
done

# PLAN (tests/helpers/machine.py exposure_plan, tested there) makes each EXPOSE
# directory's ancestors exist and reachable again: mkdir:DIR for one a tmpfs above hid,
# tmpfs:DIR for one nobody else may enter (a 0700 home). Then each goes back in place.
for action in $plan; do
    case $action in
        mkdir:*) mkdir -p -m 0755 "${action#mkdir:}" ;;
        tmpfs:*) mount -t tmpfs -o mode=0755 tmpfs "${action#tmpfs:}" ;;
        *) echo "boot.sh: unknown action $action" >&2; exit 2 ;;
    esac
done
n=0
for dir in $expose; do
    n=$((n + 1))
    mkdir -p "$dir"
    mount --move "/mnt/$n" "$dir"
done
umount /mnt

mkdir -p /run/systemd/system /etc/golaunch /usr/local/lib/systemd/catalog
cp "$unitdir"/* /run/systemd/system/
hostname golaunch-test
export container=golaunch-test
# On a host, systemd makes / shared itself; in a container (container= above) it
# leaves propagation alone. Credentials need it: systemd 252 fills a unit's
# /run/credentials/UNIT in a child's mount namespace, and only propagation brings
# that mount back, so with / private every credential directory stays empty.
mount --make-rshared /
exec /usr/lib/systemd/systemd --unit="$target"
