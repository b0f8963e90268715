"""The dependency gate (--wait-for): before the checks, wait until every probe succeeds.

golaunch is still the main process here, so NotifyAccess=main is enough. A
dependency that never comes is exit 75 (EX_TEMPFAIL): the host is fine, so
Restart= should try again, which RestartPreventExitStatus=78 would not.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from golaunch.config.schema import WaitConfig
from golaunch.findings import Finding, failed
from golaunch.readiness.probes import Schedule, attempt, waiting_message
from golaunch.syntax.probeurl import Probe, parse_probe
from golaunch.systemd.notify import NotifyError

if TYPE_CHECKING:
    from golaunch.systemd.notify import Notifier

NAME = "wait"
MIN_ATTEMPT = 0.05  # seconds: the last attempt before the deadline still gets this


def wait_for(
    config: WaitConfig,
    interval: float,
    attempt_timeout: float,
    notifier: Notifier | None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Finding | None:
    """None once every probe succeeded; the finding that says why not by the deadline."""
    pending = [parse_probe(url) for url in config.probes]
    schedule = Schedule(interval, attempt_timeout, config.timeout, clock)
    errors: dict[str, str] = {}
    attempts = 0
    while True:
        attempts += 1
        # Each attempt within what is left: the deadline is the gate's, not the probes'.
        pending = [
            p for p in pending if _still_failing(p, schedule.attempt_budget(MIN_ATTEMPT), errors)
        ]
        if not pending:
            return None
        if schedule.remaining() <= 0:
            return _gave_up(pending[0], config.timeout, attempts, errors[pending[0].url])
        pause = schedule.next_pause()
        if notifier is not None:
            url = pending[0].url
            # The next round: this pause, then one attempt for each probe still failing.
            next_in = pause + attempt_timeout * len(pending) if config.timeout else None
            with contextlib.suppress(NotifyError):  # the start's notify check says the rest
                notifier(waiting_message(url, attempts, errors[url], next_in))
        sleep(pause)


def _still_failing(probe: Probe, timeout: float, errors: dict[str, str]) -> bool:
    error = attempt(probe, timeout)
    if error is not None:
        errors[probe.url] = error
    return error is not None


def _gave_up(probe: Probe, timeout: float, attempts: int, error: str) -> Finding:
    return failed(
        NAME,
        f"{probe.url} did not succeed within {timeout:g} s ({attempts} attempts; last: "
        f"{error}); exiting 75 so that Restart= tries again",
        GOLAUNCH_PROBE=probe.url,
        GOLAUNCH_ATTEMPTS=str(attempts),
    )
