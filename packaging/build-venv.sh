#!/bin/sh
# Assemble golaunch's private environment for a package, for .deb and .rpm alike.
#   build-venv.sh PYTHON DESTDIR PREFIX
# PYTHON is the distribution's versioned interpreter (/usr/bin/python3.11); the
# venv lands in DESTDIR/PREFIX and runs from PREFIX. The runtime dependencies
# come from packaging/requirements.lock, pinned and hash-checked; pip runs from
# the build host (pip --python) and is not installed into the environment.
set -eu
python=$1
destdir=$2
prefix=$3
source=$(cd "$(dirname "$0")/.." && pwd)
root="$destdir$prefix"

rm -rf "$root"
"$python" -m venv --without-pip "$root"
pip="$python -m pip --python $root/bin/python --disable-pip-version-check --no-input"
# sdnotify is published only as an sdist; everything else must be a wheel.
$pip install --quiet --no-compile --no-deps --require-hashes \
    --only-binary :all: --no-binary sdnotify -r "$source/packaging/requirements.lock"
$pip install --quiet --no-compile --no-deps "$source"

# Nothing runs from bin/ but the interpreter: the scripts pip wrote name DESTDIR.
find "$root/bin" -mindepth 1 ! -name 'python*' -delete
sed -i "s|$destdir||g" "$root/pyvenv.cfg"
# Byte-compile now, with the final paths, and check no timestamps: package
# tools clamp mtimes, and golaunch must never write a cache at a service start.
"$root/bin/python" -I -m compileall -q -j 0 --invalidation-mode unchecked-hash \
    -s "$destdir" "$root/lib"
