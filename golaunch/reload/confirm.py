"""Has the program reloaded? Looked at again and again after the signal, one look each.

- a probe URL (as --ready-probe): the reload is confirmed once it passes;
- metrics:URL: once PREFIX_config_last_reload_success_timestamp_seconds has moved
  past the signal with PREFIX_config_last_reload_successful at 1; rejected as soon
  as PREFIX_config_last_reload_successful reads 0 when it read 1 before the signal
  (a 0 left by an earlier failed reload says nothing about this one);
- nothing: confirmed when the program is still alive a moment after the signal.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from golaunch.reload.metrics import NotMetrics, ReloadState, reload_state
from golaunch.syntax.probeurl import METRICS, parse_confirm


class Look(NamedTuple):
    done: bool  # confirmed (rejected is not done: REJECTED says so)
    rejected: str | None  # why the program refused the reload
    last: str  # what the last look saw, for a message when time runs out


class Confirmation:
    def __init__(self, what: str, attempt_timeout: float) -> None:
        self.what = what
        self.probe = parse_confirm(what)
        self.metrics = what.startswith(METRICS)
        self.attempt_timeout = attempt_timeout
        self.before: ReloadState | None = None

    def before_signal(self) -> None:
        """What the metrics said before the signal (best effort: none if unreadable)."""
        if self.metrics:
            state = self._state()
            self.before = state if isinstance(state, ReloadState) else None

    def look(self, sent_at: float) -> Look:
        if not self.metrics:
            from golaunch.readiness.probes import attempt

            error = attempt(self.probe, self.attempt_timeout)
            return Look(error is None, None, error or "it passed")
        state = self._state()
        if isinstance(state, str):
            return Look(False, None, state)
        return judge(state, self.before, sent_at)

    def _state(self) -> ReloadState | str:
        from golaunch.readiness.probes import fetch
        from golaunch.reload.metrics import MAX_PAGE

        try:
            return reload_state(fetch(self.probe, self.attempt_timeout, MAX_PAGE))
        except NotMetrics as e:
            return f"{self.probe.url}: {e}"
        except (OSError, ValueError) as e:
            return f"{self.probe.url}: {getattr(e, 'strerror', None) or e}"


def judge(state: ReloadState, before: ReloadState | None, sent_at: float) -> Look:
    """One look at the reload metrics after a signal sent at SENT_AT (Unix seconds)."""
    if state.successful is None or state.timestamp is None:
        return Look(False, None, "no *_config_last_reload_successful and *_success_timestamp_"
                    "seconds metrics on the page")  # fmt: skip
    names = " and ".join(state.names)
    if state.successful == 0 and (before is None or before.successful == 1):
        return Look(False, f"{names}: the last reload failed (successful is 0)", "")
    previous = before.timestamp if before and before.timestamp is not None else -math.inf
    # Exporters write whole seconds: a reload in the second of the signal counts.
    moved = state.timestamp > previous and state.timestamp >= math.floor(sent_at)
    if state.successful == 1 and moved:
        return Look(True, None, f"{names}: reloaded at {state.timestamp:.0f}")
    return Look(False, None, f"{names}: no successful reload since the signal yet")
