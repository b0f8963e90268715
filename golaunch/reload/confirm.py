"""Has the program reloaded? Looked at again and again after the signal, one look each.

- a probe URL (as --ready-probe): the reload is confirmed once it passes;
- metrics:URL: once COMPONENT_config_last_reload_success_timestamp_seconds has
  moved past the signal with COMPONENT_config_last_reload_successful at 1;
  rejected as soon as COMPONENT_config_last_reload_successful reads 0 where it
  read 1 before the signal. A 0 read after the signal with nothing read before
  says nothing: it may be an earlier reload's. COMPONENT is the one component
  whose reload metrics the page has, or the one the URL's #fragment names;
- nothing: confirmed when the program is still alive a moment after the signal.

Whatever confirms, golaunch.reload.run also waits for the program to live on.
Every text from the page or the server is bounded before it is shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from golaunch.reload.metrics import Ambiguous, NotMetrics, ReloadState, reload_state
from golaunch.status import ExitStatus
from golaunch.syntax.printable import shortened
from golaunch.syntax.probeurl import METRICS, parse_confirm, split_component


class Verdict(NamedTuple):
    """How a reload ended: the exit status, and what happened, in a few words."""

    status: int
    message: str


class Look(NamedTuple):
    done: bool  # the confirmation came (the program must still live on)
    last: str  # what the look saw, for a message when time runs out
    verdict: Verdict | None = None  # the reload's end, decided otherwise (rejected, ...)


class Confirmation:
    def __init__(self, what: str, attempt_timeout: Callable[[], float]) -> None:
        self.what = what
        self.probe = parse_confirm(what)
        self.metrics = what.startswith(METRICS)
        self.component = split_component(what)[1] if self.metrics else None
        self.attempt_timeout = attempt_timeout  # seconds a look may take, now
        self.before: ReloadState | None = None

    def before_signal(self) -> None:
        """What the metrics said before the signal (best effort: none if unreadable)."""
        if self.metrics:
            state = self._state()
            self.before = state if isinstance(state, ReloadState) else None

    def look(self, sent_at: float) -> Look:
        if not self.metrics:
            from golaunch.readiness.probes import attempt

            error = attempt(self.probe, max(0.01, self.attempt_timeout()))
            return Look(error is None, shortened(error or "it passed"))
        state = self._state()
        if isinstance(state, Verdict):
            return Look(False, state.message, state)
        if isinstance(state, str):
            return Look(False, state)
        return look_at(state, self.before, sent_at)

    def _state(self) -> ReloadState | Verdict | str:
        from golaunch.readiness.probes import fetch
        from golaunch.reload.metrics import MAX_PAGE

        url = self.probe.url
        try:
            page = fetch(self.probe, max(0.01, self.attempt_timeout()), MAX_PAGE)
            return reload_state(page, self.component)
        except Ambiguous as e:
            return Verdict(ExitStatus.CONFIG, f"{url}: {e}")
        except NotMetrics as e:
            return f"{url}: {shortened(str(e))}"
        except (OSError, ValueError) as e:
            return f"{url}: {shortened(getattr(e, 'strerror', None) or str(e))}"


def look_at(state: ReloadState, before: ReloadState | None, sent_at: float) -> Look:
    """One look at the reload metrics after a signal sent at SENT_AT (Unix seconds)."""
    if state.successful is None or state.timestamp is None:
        return Look(False, f"no {state.component or '*'}_config_last_reload_successful and "
                    "*_success_timestamp_seconds metrics on the page")  # fmt: skip
    names = " and ".join(state.names)
    if state.successful == 0:
        if before is not None and before.successful == 1:
            rejected = f"the program rejected the reload: {names}: the last reload failed"
            return Look(False, "", Verdict(ExitStatus.DATAERR, rejected))
        # A 0 with nothing known from before the signal may be an earlier reload's.
        return Look(False, f"{names}: successful is 0, maybe from before the signal")
    previous = before.timestamp if before and before.timestamp is not None else -math.inf
    # Exporters write whole seconds: a reload in the second of the signal counts.
    moved = state.timestamp > previous and state.timestamp >= math.floor(sent_at)
    if state.successful == 1 and moved:
        return Look(True, f"{names}: reloaded at {state.timestamp:.0f}")
    return Look(False, f"{names}: no successful reload since the signal yet")
