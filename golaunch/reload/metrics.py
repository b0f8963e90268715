"""The Prometheus convention for a configuration reload, read from a metrics page.

Prometheus, Alertmanager, blackbox_exporter and others expose, under a prefix of
their own (the component):
    COMPONENT_config_last_reload_successful                1 or 0
    COMPONENT_config_last_reload_success_timestamp_seconds  when the last one worked
Only one component's series answer for the program: a page that serves several
(a sidecar's beside the program's) must say which, as metrics:URL#COMPONENT.
"""

from __future__ import annotations

import math
from typing import NamedTuple

SUCCESSFUL = "_config_last_reload_successful"
TIMESTAMP = "_config_last_reload_success_timestamp_seconds"
MAX_PAGE = 8 << 20  # bytes: a metrics page larger than this is not read


class ReloadState(NamedTuple):
    successful: float | None  # the lowest value over the component's series; None: none
    timestamp: float | None  # its latest success; None: no such metric
    names: tuple[str, ...]  # the metric names found, for messages
    component: str = ""


class NotMetrics(ValueError):
    """The page is not in a metrics format, or it is too large."""


class Ambiguous(ValueError):
    """The page has several components' reload metrics, or not the one named."""


def reload_state(page: bytes, component: str | None = None) -> ReloadState:
    """The reload metrics of COMPONENT on PAGE (the text exposition format), or of the
    only component there is; NotMetrics if unreadable, Ambiguous if it cannot tell."""
    from prometheus_client.parser import text_string_to_metric_families

    if len(page) > MAX_PAGE:
        raise NotMetrics(f"the page is larger than {MAX_PAGE >> 20} MiB")
    text = page.decode("utf-8", "replace").replace("\n# EOF\n", "\n").removesuffix("# EOF\n")
    found: dict[str, dict[str, list[float]]] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                for suffix in (SUCCESSFUL, TIMESTAMP):
                    if sample.name.endswith(suffix) and len(sample.name) > len(suffix):
                        prefix = sample.name[: -len(suffix)]
                        found.setdefault(prefix, {}).setdefault(suffix, []).append(sample.value)
    except (ValueError, IndexError, KeyError) as e:
        raise NotMetrics(f"not a metrics page ({e})") from None
    chosen = _component(found, component)
    series = found.get(chosen, {})
    successful, timestamps = series.get(SUCCESSFUL, []), series.get(TIMESTAMP, [])
    return ReloadState(
        min(successful, default=None) if not any(map(math.isnan, successful)) else math.nan,
        max((t for t in timestamps if not math.isnan(t)), default=None),
        tuple(sorted(chosen + suffix for suffix in series)),
        chosen,
    )


def _component(found: dict[str, dict[str, list[float]]], named: str | None) -> str:
    if named is not None:
        if named not in found:
            listed = ", ".join(sorted(found)) or "none"
            raise Ambiguous(
                f"no {named}_config_last_reload_* metrics on the page (it has: {listed})"
            )
        return named
    if len(found) > 1:
        listed = ", ".join(sorted(found))
        raise Ambiguous(
            f"the page has the reload metrics of several components ({listed}): name the "
            "program's, as metrics:URL#COMPONENT"
        )
    return next(iter(found), "")
