"""The validated-config cache: reused only while every input is unchanged, and only if private."""

from __future__ import annotations

import marshal
import os
import time
from pathlib import Path

import pytest

from golaunch.config import cache as config_cache
from golaunch.config.file import ConfigFile
from golaunch.config.schema import Config, GoConfig


@pytest.fixture
def environ(private_cache: Path) -> dict[str, str]:
    return {"CACHE_DIRECTORY": str(private_cache.parent), "GOLAUNCH_GO__VERSION": "1.22"}


def store(
    tmp_path: Path, environ: dict[str, str], text: str = "program = '/bin/true'\n"
) -> tuple[list[str], Config]:
    path = tmp_path / "app.toml"
    path.write_text(text)
    argv = ["-c", str(path), "--", "/bin/true"]
    config = Config(program="/bin/true", go=GoConfig(version="1.22"))
    config_cache.store(argv, environ, ConfigFile(str(path), path.read_bytes()), config)
    return argv, config


def test_round_trip(tmp_path: Path, environ: dict[str, str]) -> None:
    argv, config = store(tmp_path, environ)
    assert config_cache.load(argv, environ) == (config, argv[1])
    entry = next((tmp_path / "golaunch").glob("*.entry"))
    assert entry.stat().st_mode & 0o777 == 0o600
    assert marshal.loads(entry.read_bytes())["config"]["go"]["version"] == "1.22"


@pytest.mark.parametrize(
    "change",
    [
        lambda argv, env, p: argv.append("--extra"),
        lambda argv, env, p: env.update(GOLAUNCH_GO__VERSION="1.23"),
        lambda argv, env, p: env.update(GOLAUNCH_LOG__TARGET="stderr"),
        lambda argv, env, p: (tmp := p / "app.toml").write_text(tmp.read_text() + "# edited\n"),
        lambda argv, env, p: (p / "app.toml").unlink(),
        lambda argv, env, p: (p / "golaunch").chmod(0o777),
        lambda argv, env, p: [e.chmod(0o644) for e in (p / "golaunch").glob("*.entry")],
        lambda argv, env, p: [e.write_bytes(b"\0junk") for e in (p / "golaunch").glob("*.entry")],
    ],
    ids=[
        "argv",
        "variable",
        "new-variable",
        "file-edited",
        "file-removed",
        "dir-writable",
        "entry-readable-by-others",
        "corrupt",
    ],
)
def test_any_change_means_validating_again(tmp_path: Path, environ: dict[str, str], change) -> None:  # type: ignore[no-untyped-def]
    argv, _ = store(tmp_path, environ)
    change(argv, environ, tmp_path)
    assert config_cache.load(argv, environ) is None


@pytest.mark.parametrize(
    "stored", [[], "x", {"go": []}, {"go": {"nonsense": 1}}, {"args": 5}, None]
)
def test_an_entry_of_the_wrong_shape_means_validating_again(
    tmp_path: Path, environ: dict[str, str], stored: object
) -> None:
    argv, _ = store(tmp_path, environ)
    entry = next((tmp_path / "golaunch").glob("*.entry"))
    data = marshal.loads(entry.read_bytes())
    data["config"] = stored
    entry.write_bytes(marshal.dumps(data))
    assert config_cache.load(argv, environ) is None


def test_symlinked_entry_is_refused(tmp_path: Path, environ: dict[str, str]) -> None:
    argv, _ = store(tmp_path, environ)
    entry = next((tmp_path / "golaunch").glob("*.entry"))
    target = tmp_path / "elsewhere.entry"
    os.replace(entry, target)
    entry.symlink_to(target)
    assert config_cache.load(argv, environ) is None


def stored_for(environ: dict[str, str], n: int) -> Path:
    """Store an entry for a command line of its own; return its file."""
    argv = ["--", f"/bin/prog{n}"]
    config_cache.store(argv, environ, None, Config(program=f"/bin/prog{n}"))
    directory = Path(environ["CACHE_DIRECTORY"]) / "golaunch"
    return directory / f"{config_cache.cache_key(argv, environ)}.entry"


def test_the_cache_keeps_at_most_the_entries_used_last(environ: dict[str, str]) -> None:
    day_ago = time.time() - 24 * 3600
    files = []
    for n in range(config_cache.MAX_ENTRIES + 6):  # entry n last used n minutes after the first
        files.append(stored_for(environ, n))
        os.utime(files[-1], (day_ago + 60 * n,) * 2)
    remaining = sorted(files[0].parent.glob("*.entry"))
    assert remaining == sorted(files[-config_cache.MAX_ENTRIES :])


def test_entries_unused_for_thirty_days_go(environ: dict[str, str]) -> None:
    old, fresh = stored_for(environ, 1), stored_for(environ, 2)
    month = config_cache.MAX_AGE_SECONDS + 60
    os.utime(old, (old.stat().st_mtime - month,) * 2)
    stored_for(environ, 3)  # every store prunes
    assert not old.exists() and fresh.exists()


def test_a_hit_counts_as_use(environ: dict[str, str]) -> None:
    path = stored_for(environ, 1)
    os.utime(path, (0, 0))
    assert config_cache.load(["--", "/bin/prog1"], environ) is not None
    assert path.stat().st_mtime > 0
