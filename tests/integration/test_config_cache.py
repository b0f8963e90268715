"""The validated-config cache: reused only while every input is unchanged, and only if private."""

from __future__ import annotations

import marshal
from pathlib import Path


def test_launch_uses_the_cache_on_the_second_start(tmp_path: Path) -> None:
    """The second start skips validation: its settings come from the entry the first one wrote."""
    from tests.helpers.process import run_golaunch

    cache = tmp_path / "c"
    cache.mkdir()
    env = {"CACHE_DIRECTORY": str(cache), "HOME": str(tmp_path)}
    first = run_golaunch("--set-env", "MARK=1", "--", "/usr/bin/env", env=env)
    assert first.returncode == 0, first.stderr
    (entry,) = (cache / "golaunch").glob("*.entry")
    # Tamper with the stored (already validated) settings: only a cache hit can show this value.
    data = marshal.loads(entry.read_bytes())
    data["config"]["environment"]["set"]["MARK"] = "from-cache"
    entry.write_bytes(marshal.dumps(data))
    second = run_golaunch("--set-env", "MARK=1", "--", "/usr/bin/env", env=env)
    assert "MARK=from-cache" in second.stdout.splitlines()
