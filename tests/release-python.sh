#!/bin/sh
# make lint and make unit again, with another Debian release's own python3 (trixie:
# 3.13): in a root of that release (packaging/debian-root.sh DIST system), with this
# tree at its own path, and a venv of that python3 in build/venv-DIST.
#   release-python.sh DIST
set -eu
dist=$1
if [ "$(id -u)" != 0 ]; then
    echo "release-python.sh: skipped, making and entering a $dist root needs root"
    exit 0
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
root="$repo/build/roots/$dist-system"
tarball=$("$repo/packaging/debian-root.sh" "$dist" system)
if [ "$(cat "$root.unpacked" 2>/dev/null)" != "$tarball" ]; then
    rm -rf "$root"
    mkdir -p "$root"
    tar -C "$root" -xf "$tarball"
    echo "$tarball" > "$root.unpacked"
fi
venv="$repo/build/venv-$dist"
exec "$repo/packaging/in-root.sh" --bind "$repo" "$root" sh -eu -c '
    repo=$1; venv=$2
    cd "$repo"
    if [ ! -f "$venv/.installed" ] || [ pyproject.toml -nt "$venv/.installed" ]; then
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -e ".[test]" \
            --config-settings editable_mode=compat
        touch "$venv/.installed"
    fi
    version=$("$venv/bin/python" -c "import sys; print(\"%d.%d\" % sys.version_info[:2])")
    echo "lint and unit tests with $(readlink -f "$venv/bin/python") ($version)"
    "$venv/bin/ruff" check golaunch tests examples bench
    "$venv/bin/ruff" format --check golaunch tests examples bench
    "$venv/bin/mypy" --python-version "$version"
    "$venv/bin/pytest" -q -p no:cacheprovider tests/unit
' release-python "$repo" "$venv"
