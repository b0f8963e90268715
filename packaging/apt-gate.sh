#!/bin/sh
# apt's DPkg::Pre-Install-Pkgs hook (/etc/apt/apt.conf.d/50golaunch): the candidate
# check for every incoming package that replaces a golaunch unit's program
# (golaunch.unitcheck.aptgate). Off, and no Python started, until the administrator creates
# /etc/golaunch/apt-gate.enabled; nor where no systemd runs (a chroot, an image build).
if [ ! -e /etc/golaunch/apt-gate.enabled ] || [ ! -d /run/systemd/system ]; then
    cat >/dev/null  # apt writes the list whatever the hook does with it
    exit 0
fi
exec /usr/lib/golaunch/bin/python -I -B -c 'from golaunch.unitcheck.aptgate import main; main()'
