"""The Prometheus convention for a configuration reload, read from a metrics page.

Prometheus, Alertmanager, blackbox_exporter and others expose, under a prefix of
their own:
    PREFIX_config_last_reload_successful                1 or 0
    PREFIX_config_last_reload_success_timestamp_seconds  when the last one worked
The names are found on the page by their suffix, never assumed.
"""

from __future__ import annotations

import math
from typing import NamedTuple

SUCCESSFUL = "_config_last_reload_successful"
TIMESTAMP = "_config_last_reload_success_timestamp_seconds"
MAX_PAGE = 8 << 20  # bytes: a metrics page larger than this is not read


class ReloadState(NamedTuple):
    successful: float | None  # the lowest value over the series; None: no such metric
    timestamp: float | None  # the latest success; None: no such metric
    names: tuple[str, ...]  # the metric names found, for messages


class NotMetrics(ValueError):
    """The page is not in a metrics format, or it is too large."""


def reload_state(page: bytes) -> ReloadState:
    """The reload metrics of PAGE (the text exposition format); NotMetrics if unreadable."""
    from prometheus_client.parser import text_string_to_metric_families

    if len(page) > MAX_PAGE:
        raise NotMetrics(f"the page is larger than {MAX_PAGE >> 20} MiB")
    text = page.decode("utf-8", "replace").replace("\n# EOF\n", "\n").removesuffix("# EOF\n")
    successful: list[float] = []
    timestamps: list[float] = []
    names: set[str] = set()
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name.endswith(SUCCESSFUL):
                    successful.append(sample.value)
                    names.add(sample.name)
                elif sample.name.endswith(TIMESTAMP):
                    timestamps.append(sample.value)
                    names.add(sample.name)
    except (ValueError, IndexError, KeyError) as e:
        raise NotMetrics(f"not a metrics page ({e})") from None
    return ReloadState(
        min(successful, default=None) if not any(map(math.isnan, successful)) else math.nan,
        max((t for t in timestamps if not math.isnan(t)), default=None),
        tuple(sorted(names)),
    )
