"""The dependency gate (--wait-for): its deadline, its promises to systemd
(EXTEND_TIMEOUT_USEC=), and when it opens."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from golaunch.config.schema import WaitConfig
from golaunch.readiness import gate
from golaunch.readiness.gate import wait_for
from golaunch.syntax.probeurl import Probe
from tests.helpers.servers import Trickle


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_gate_gives_up_at_its_deadline_and_says_why(tmp_path: Path) -> None:
    fake, sent = FakeTime(), list[str]()
    url = f"file://{tmp_path / 'never'}"
    finding = wait_for(
        WaitConfig((url,), timeout=3), 0.2, 1, sent.append, clock=fake.clock, sleep=fake.sleep
    )
    assert finding is not None and finding.check == "wait"
    assert finding.fields["GOLAUNCH_PROBE"] == url and int(finding.fields["GOLAUNCH_ATTEMPTS"]) > 3
    assert 3 <= fake.now <= 3.01
    assert all("EXTEND_TIMEOUT_USEC=" in message for message in sent)
    assert sent[0].startswith(f"STATUS=golaunch: waiting for {url} (attempt 1:")


def test_the_gate_opens_once_every_probe_succeeds(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.touch()
    fake = FakeTime()

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        if fake.now > 1:
            second.touch()

    config = WaitConfig((f"file://{first}", f"file://{second}"))  # no timeout: no EXTEND
    sent: list[str] = []
    assert wait_for(config, 0.2, 1, sent.append, clock=fake.clock, sleep=sleep) is None
    assert sent and not any("EXTEND" in m for m in sent)


def test_the_gate_keeps_its_deadline_against_a_trickling_server(trickle: Trickle) -> None:
    url = f"http://127.0.0.1:{trickle.port}/"
    started = time.monotonic()
    finding = wait_for(WaitConfig((url,), timeout=2), 0.2, 4, None)
    assert finding is not None and time.monotonic() - started < 2.6, finding


def test_several_probes_never_outrun_their_extension(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EXTEND_TIMEOUT_USEC= promises the next round: the pause and an attempt per probe."""
    fake, sent, marks = FakeTime(), list[str](), list[float]()
    urls = tuple(f"file://{tmp_path / name}" for name in "abc")

    def notify(message: str) -> None:
        sent.append(message)
        marks.append(fake.now)

    def slow_attempt(probe: Probe, timeout: float) -> str:
        fake.now += timeout  # each silent probe takes its whole attempt timeout
        return "silent"

    monkeypatch.setattr(gate, "attempt", slow_attempt)
    wait_for(WaitConfig(urls, timeout=60), 0.2, 4, notify, clock=fake.clock, sleep=fake.sleep)
    promised = [int(m.rsplit("EXTEND_TIMEOUT_USEC=", 1)[1]) / 1e6 for m in sent]
    gaps = [later - earlier for earlier, later in itertools.pairwise(marks)]
    assert gaps and all(gap <= promise for gap, promise in zip(gaps, promised, strict=False))
