#!/bin/sh
# Assemble golaunch's private environment for a package, for .deb and .rpm alike.
#   build-venv.sh PYTHON DESTDIR PREFIX [compile]
# PYTHON is the release's interpreter (/usr/bin/python3); the venv lands in
# DESTDIR/PREFIX and runs from PREFIX. The runtime dependencies come from
# packaging/requirements.lock, pinned and hash-checked. pip runs from a throwaway
# environment of its own (pip --python) and is not installed into this one.
#
# cysystemd is built from its source against the release's own libsystemd (its
# wheel bundles copies of libsystemd, libgcrypt, libgpg-error, liblzma, liblz4,
# libzstd and libcap that no security update reaches); sdnotify is published only
# as source.
# Everything else is a wheel. With "compile", the environment is byte-compiled
# here (the .rpm); the .deb compiles in postinst and ships no bytecode.
set -eu
python=$1
destdir=$2
prefix=$3
compile=${4:-}
source=$(cd "$(dirname "$0")/.." && pwd)
root="$destdir$prefix"
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT

rm -rf "$root"
"$python" -m venv --without-pip "$root"
"$python" -m venv "$tools/pip"
pip="$tools/pip/bin/pip --python $root/bin/python --disable-pip-version-check --no-input"
# -g0: no debugging information in the journal binding, whose build directory name
# pip picks at random; so two builds of one commit give the same bytes.
CFLAGS="-O2 -g0" $pip install --quiet --no-compile --no-deps --require-hashes \
    --only-binary :all: --no-binary cysystemd,sdnotify -r "$source/packaging/requirements.lock"
$pip install --quiet --no-compile --no-deps "$source"

site=$(echo "$root"/lib/python3*/site-packages)
# Nothing runs from bin/ but the interpreter: the scripts pip wrote name DESTDIR.
find "$root/bin" -mindepth 1 ! -name 'python*' -delete
# Python 3.13 adds a .gitignore to every venv; nothing of a build tree belongs here.
rm -rf "$root/include" "$root/.gitignore"
# Where golaunch was installed from (the build directory) is no one's business.
rm -f "$site"/golaunch-*.dist-info/direct_url.json
# Each RECORD lists only what is there (the scripts above are gone).
"$python" - "$site" <<'PY'
import csv, io, os, sys
site = sys.argv[1]
for entry in os.listdir(site):
    record = os.path.join(site, entry, "RECORD")
    if not entry.endswith(".dist-info") or not os.path.exists(record):
        continue
    with open(record, newline="") as f:
        rows = list(csv.reader(f))
    kept = [r for r in rows if os.path.lexists(os.path.normpath(os.path.join(site, r[0])))]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(kept)
    with open(record, "w") as f:
        f.write(out.getvalue())
PY
# pyvenv.cfg names the interpreter and, since 3.11, the command that made it.
sed -i -e "s|$destdir||g" -e '/^command = /d' "$root/pyvenv.cfg"
if [ "$compile" = compile ]; then
    # unchecked-hash: package tools clamp mtimes, and a start must never find its
    # bytecode stale and write a new one under /usr.
    "$root/bin/python" -I -m compileall -q -j 0 --invalidation-mode unchecked-hash \
        -s "$destdir" "$root/lib"
fi
