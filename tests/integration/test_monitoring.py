"""The shipped alerting, checked by the programs that will read it: promtool (Debian's
prometheus package) for the rules and their unit tests, amtool (prometheus-alertmanager)
for the example route. The whole chain runs in tests/system/test_alerting.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

RULES = REPO / "monitoring" / "prometheus" / "golaunch.rules.yml"
RULE_TESTS = REPO / "monitoring" / "prometheus" / "golaunch.rules.test.yml"
ROUTE = REPO / "monitoring" / "alertmanager" / "golaunch.yml"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed; make test installs it when run as root")
    return path


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)


def test_promtool_accepts_the_rules() -> None:
    checked = run(tool("promtool"), "check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 4 rules found" in checked.stdout


def test_the_rules_unit_tests_pass_with_the_real_for_durations() -> None:
    tested = run(tool("promtool"), "test", "rules", str(RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def shipped_route() -> tuple[str, str]:
    """The golaunch route and its receivers, as the shipped file's comment says to copy
    them: the entry under the top route's `routes:`, and every receiver but `default`."""
    text = ROUTE.read_text()
    route = text.split("\n  routes:\n", 1)[1].split("\nreceivers:\n", 1)[0]
    receivers = text.split("\n  - name: default\n", 1)[1]
    assert route.startswith("    - matchers: ['alertname=~") and "golaunch-pager" in receivers
    return route + "\n", receivers


OTHER_TEAMS = [
    "    - matchers: ['team=\"db\"']\n      receiver: db-pager\n",
    "    - matchers: ['team=\"web\"']\n      receiver: web-chat\n",
]


def merged_configuration(tmp_path: Path, position: int) -> str:
    """An alertmanager.yml of a site with other teams' routes, the golaunch route merged
    in at POSITION among them."""
    route, receivers = shipped_route()
    routes = [*OTHER_TEAMS]
    routes.insert(position, route)
    text = (
        "route:\n  receiver: default\n  group_by: [alertname]\n  routes:\n"
        + "".join(routes)
        + "receivers:\n  - name: default\n  - name: db-pager\n  - name: web-chat\n"
        + receivers
    )
    path = tmp_path / f"alertmanager-{position}.yml"
    path.write_text(text)
    checked = run(tool("amtool"), "check-config", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return str(path)


GOLAUNCH_ALERTS = [
    (["alertname=GolaunchUnitNotStartable", "severity=critical"], "golaunch-pager"),
    (["alertname=GolaunchMetricsGone", "severity=critical"], "golaunch-pager"),
    (["alertname=GolaunchCheckFailing", "severity=info", "check=goroot"], "golaunch-chat"),
    (["alertname=GolaunchChecksStale", "severity=warning"], "golaunch-chat"),
]
OTHER_ALERTS = [
    # Issue 31, item 12: the route once had no matcher and took these.
    (["alertname=PostgresDown", "team=db", "severity=critical"], "db-pager"),
    (["alertname=HighLatency", "team=web", "severity=warning"], "web-chat"),
    (["alertname=Watchdog", "severity=none"], "default"),
    (["alertname=Golaunch", "severity=critical"], "default"),  # not one of golaunch's
]


@pytest.mark.parametrize("position", [0, 1, 2])
@pytest.mark.parametrize(("labels", "receiver"), GOLAUNCH_ALERTS + OTHER_ALERTS)
def test_the_route_takes_golaunchs_alerts_and_no_other_teams(
    tmp_path: Path, position: int, labels: list[str], receiver: str
) -> None:
    configuration = merged_configuration(tmp_path, position)
    routed = run(
        tool("amtool"), "config", "routes", "test", f"--config.file={configuration}",
        *labels, "unit=app.service", "instance=h1",
    )  # fmt: skip
    assert routed.stdout.strip() == receiver, routed.stdout + routed.stderr


@pytest.mark.parametrize(("labels", "receiver"), GOLAUNCH_ALERTS)
def test_only_the_unit_that_would_not_start_pages(labels: list[str], receiver: str) -> None:
    """The shipped file as it is, as the system suite gives it to Alertmanager."""
    amtool = tool("amtool")
    assert run(amtool, "check-config", str(ROUTE)).returncode == 0
    routed = run(
        amtool, "config", "routes", "test", f"--config.file={ROUTE}",
        *labels, "unit=app.service", "instance=h1",
    )  # fmt: skip
    assert routed.stdout.strip() == receiver, routed.stdout + routed.stderr


def test_nothing_inhibits_a_unit_that_would_not_start() -> None:
    """Issue 31, item 14: a stale full run once inhibited the per-unit pages."""
    assert "inhibit_rules" not in ROUTE.read_text()
