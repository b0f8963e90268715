"""Finding the Go toolchain (GOROOT) the program will see, and reading its version."""

from __future__ import annotations

import os

from golaunch.readfile import read_regular_file
from golaunch.syntax.goversion import GoVersion, parse_go_version

TYPE_CHECKING = False  # on every start's path (golaunch.host.execution): no typing
if TYPE_CHECKING:
    from collections.abc import Mapping


class GorootLocation:
    __slots__ = ("path", "source")

    def __init__(self, path: str, source: str) -> None:
        self.path = path
        self.source = source  # where it came from, for messages: "go.goroot", ...


def locate_goroot(
    configured: str | None, environ: Mapping[str, str], search_path: str
) -> GorootLocation | None:
    """GOROOT by golaunch's rule: go.goroot, else the inherited GOROOT, else the `go` in PATH.

    A `go` found in PATH is resolved through its symlinks (/usr/bin/go is a link
    into /usr/lib/go-1.19/bin), and its GOROOT is the directory above bin/, as
    the go command itself assumes.
    """
    if configured:
        return GorootLocation(configured, "go.goroot")
    if environ.get("GOROOT"):
        return GorootLocation(environ["GOROOT"], "inherited GOROOT")
    go = find_in_path("go", search_path)
    if go is None:
        return None
    real = os.path.realpath(go)
    return GorootLocation(os.path.dirname(os.path.dirname(real)), f"the go command at {go}")


def find_in_path(name: str, search_path: str) -> str | None:
    """The first executable regular file NAME in SEARCH_PATH, as execvp(3) would find it."""
    for directory in search_path.split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


class ToolchainVersion:
    __slots__ = ("error", "first_line", "version")

    def __init__(
        self, version: GoVersion | None, first_line: str, error: str | None = None
    ) -> None:
        self.version = version
        self.first_line = first_line
        self.error = error


def read_toolchain_version(goroot: str) -> ToolchainVersion:
    """The version in $GOROOT/VERSION, whose first line is e.g. "go1.22.3"."""
    path = os.path.join(goroot, "VERSION")
    try:
        head = read_regular_file(path, 256)
    except OSError as e:
        return ToolchainVersion(None, "", f"cannot read {path}: {e.strerror}")
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    version = parse_go_version(first) if first.startswith("go") else None
    if version is None:
        return ToolchainVersion(None, first, f"{path} starts with {first!r}, not a Go version")
    return ToolchainVersion(version, first)
