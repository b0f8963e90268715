"""The shipped alerting, checked by the programs that will read it: promtool (Debian's
prometheus package) for the rules and their unit tests, amtool (prometheus-alertmanager)
for the example route. The whole chain runs in tests/system/test_alerting.py."""

from __future__ import annotations

import shutil
import subprocess

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
    assert "SUCCESS: 3 rules found" in checked.stdout


def test_the_rules_unit_tests_pass_with_the_real_for_durations() -> None:
    tested = run(tool("promtool"), "test", "rules", str(RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=GolaunchUnitNotStartable", "severity=critical"], "golaunch-pager"),
        (["alertname=GolaunchCheckFailing", "severity=info", "check=goroot"], "golaunch-chat"),
        (["alertname=GolaunchChecksStale", "severity=warning"], "golaunch-chat"),
    ],
)
def test_only_the_unit_that_would_not_start_pages(labels: list[str], receiver: str) -> None:
    amtool = tool("amtool")
    assert run(amtool, "check-config", str(ROUTE)).returncode == 0
    routed = run(
        amtool, "config", "routes", "test", f"--config.file={ROUTE}",
        *labels, "unit=app.service", "instance=h1",
    )  # fmt: skip
    assert routed.stdout.strip() == receiver, routed.stdout + routed.stderr
