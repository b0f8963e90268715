"""Where things are: this checkout, the build directory, the fixtures' sources, units."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Outside /tmp: the system tests run services in a namespace with its own /tmp.
BUILD = REPO / "build" / "fixtures"
SOURCES = REPO / "tests" / "fixtures"
UNITS = REPO / "units"
CATALOG = UNITS / "golaunch.catalog"
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
