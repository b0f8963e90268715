#!/bin/sh
# Run a command in ROOT, a Debian root file system, as in a fresh machine of that
# release: a private mount namespace with /proc, /dev and the host's resolver, so
# that apt and pip reach the network. The host's certificate authorities stand in
# for the root's while the command runs (a network may inspect TLS with its own);
# nothing mounted here outlives the command.
#   in-root.sh [--bind DIR]... ROOT COMMAND [ARG...]
# --bind shows the host's DIR at the same path in ROOT (no spaces in it).
set -eu
binds=
while [ "$1" = --bind ]; do
    binds="$binds $(realpath "$2")"
    shift 2
done
root=$(realpath "$1")
shift
exec unshare --mount --fork sh -eu -c '
    root=$1; binds=$2; shift 2
    mount --make-rprivate /
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs tmpfs "$root/tmp"
    # After the tmpfs: a tree in /tmp is bound onto it, not hidden by it.
    for dir in $binds; do
        mkdir -p "$root$dir"
        mount --bind "$dir" "$root$dir"
    done
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    trust=/etc/ssl/certs/ca-certificates.crt
    if [ -f "$trust" ]; then
        mkdir -p "$root/run/host-trust"
        mount -t tmpfs tmpfs "$root/run/host-trust"
        cp "$trust" "$root/run/host-trust/ca.crt"
        trust="/run/host-trust/ca.crt"
    fi
    exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        HOME=/root SSL_CERT_FILE="$trust" PIP_CERT="$trust" "$@"
' in-root "$root" "$binds" "$@"
