"""From a refused start to a person notified, with the real programs: a golaunch@ unit
under systemd 252, golaunch-refresh@.service writing the textfile, Debian's
prometheus-node-exporter reading it, prometheus evaluating the shipped rules (with
for: shortened; the promtool tests keep the real ones) and prometheus-alertmanager
routing to a webhook receiver here, with the example route of monitoring/."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.paths import REPO, UNITS
from tests.helpers.toolchain import Toolchain
from tests.system.conftest import GOLAUNCH, WORK, Machine, free_port, http_get, wait_until
from tests.system.test_services import shipped_unit_dropin

pytestmark = pytest.mark.usefixtures("system_bus")
TEXTFILES = "/run/alerting/textfile"
OUTPUT = f"{TEXTFILES}/golaunch.prom"
UNIT = "golaunch@alerting.service"
GOROOT_LINK = WORK / "alerting-goroot"
PAYLOADS = WORK / "alerting-payloads.json"  # kept: the README quotes one


class Receiver:
    """The webhook Alertmanager notifies: every payload, with the time it came."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict[str, Any]]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((time.monotonic(), {"path": self.path, **json.loads(body)}))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, status: str, since: float = 0.0) -> list[dict[str, Any]]:
        return [
            alert
            for when, payload in list(self.received)
            if when >= since
            for alert in payload["alerts"]
            if alert["status"] == status
        ]

    def first(self, status: str, since: float, **labels: str) -> float | None:
        """When an alert with LABELS and STATUS first arrived after SINCE."""
        for when, payload in list(self.received):
            for alert in payload["alerts"]:
                matches = all(alert["labels"].get(k) == v for k, v in labels.items())
                if when >= since and alert["status"] == status and matches:
                    return when
        return None


def shortened(rules: str) -> str:
    """The shipped rules with every for: at 3 s, so that the chain runs in seconds."""
    return re.sub(r"for: \d+m", "for: 3s", rules)


def simple_unit(*command: str) -> str:
    lines = ["[Unit]", "DefaultDependencies=no", "[Service]", "Type=simple"]
    return "\n".join([*lines, "ExecStart=" + " ".join(command)]) + "\n"


@pytest.fixture(scope="module")
def chain(machine: Machine, go_server: Path, go_new: Toolchain) -> Iterator[Receiver]:
    receiver = Receiver()
    exporter, prometheus, alertmanager = free_port(), free_port(), free_port()
    machine.run("mkdir", "-p", TEXTFILES)
    route = (REPO / "monitoring/alertmanager/golaunch.yml").read_text()
    route = route.replace("http://127.0.0.1:9099", f"http://127.0.0.1:{receiver.port}")
    route = re.sub(r"group_(wait|interval): \w+", r"group_\1: 1s", route)
    machine.write("/run/alerting/alertmanager.yml", route)
    machine.write(
        "/run/alerting/rules.yml",
        shortened((REPO / "monitoring/prometheus/golaunch.rules.yml").read_text()),
    )
    machine.write(
        "/run/alerting/prometheus.yml",
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "rule_files: [/run/alerting/rules.yml]\n"
        "alerting: {alertmanagers: [{static_configs: "
        f"[{{targets: ['127.0.0.1:{alertmanager}']}}]}}]}}\n"
        "scrape_configs:\n"
        f"  - {{job_name: node, static_configs: [{{targets: ['127.0.0.1:{exporter}']}}]}}\n",
    )
    machine.install(
        {
            "alert-exporter.service": simple_unit(
                "/usr/bin/prometheus-node-exporter",
                f"--web.listen-address=127.0.0.1:{exporter}",
                "--collector.disable-defaults --collector.textfile",
                f"--collector.textfile.directory={TEXTFILES}",
            ),
            "alert-prometheus.service": simple_unit(
                "/usr/bin/prometheus --config.file=/run/alerting/prometheus.yml",
                "--storage.tsdb.path=/run/alerting/tsdb",
                f"--web.listen-address=127.0.0.1:{prometheus}",
            ),
            "alert-alertmanager.service": simple_unit(
                "/usr/bin/prometheus-alertmanager --config.file=/run/alerting/alertmanager.yml",
                f"--storage.path=/run/alerting/am --web.listen-address=127.0.0.1:{alertmanager}",
                "--cluster.listen-address=",
            ),
        }
    )
    for name in ("alert-exporter", "alert-prometheus", "alert-alertmanager"):
        machine.start_ok(f"{name}.service")
    # The shipped units, pointed at this tree and at a file in the namespace's /run.
    machine.write("/etc/default/golaunch-check", f"GOLAUNCH_CHECK_OUTPUT={OUTPUT}\n")
    for shipped, command in (
        ("golaunch-check.service", "--check --all-units --format prometheus"),
        ("golaunch-refresh@.service", "--check --unit %i --format prometheus --merge"),
    ):
        machine.write(
            f"/run/systemd/system/{shipped}.d/test.conf",
            shipped_unit_dropin(
                shipped, f"{GOLAUNCH} {command} --output ${{GOLAUNCH_CHECK_OUTPUT}}"
            ),
        )
    machine.write(
        "/run/systemd/system/golaunch@.service.d/test.conf",
        shipped_unit_dropin("golaunch@.service", f"{GOLAUNCH} --config /etc/golaunch/%i.toml"),
    )
    GOROOT_LINK.unlink(missing_ok=True)
    GOROOT_LINK.symlink_to(go_new.goroot)
    machine.write(
        "/etc/golaunch/alerting.toml",
        f'program = "{go_server}"\nargs = ["-listen", "127.0.0.1:{free_port()}"]\n'
        f'[go]\ngoroot = "{GOROOT_LINK}"\n',
    )
    machine.install(
        {name: (UNITS / name).read_text() for name in (
            "golaunch@.service", "golaunch-check.service", "golaunch-refresh@.service")}
    )  # fmt: skip
    machine.start_ok(UNIT)
    machine.start_ok("golaunch-check.service")  # the hourly run: the whole file, once
    wait_until(
        "prometheus to see the healthy unit",
        lambda: query(prometheus, f'golaunch_unit_startable{{unit="{UNIT}"}} == 1'),
        timeout=30,
    )
    yield receiver
    PAYLOADS.write_text(json.dumps([p for _, p in receiver.received], indent=2) + "\n")
    # The shipped units' development copies go, so that tests of the packages see theirs.
    (machine.root / "etc/default/golaunch-check").unlink()
    for shipped in ("golaunch-check.service", "golaunch-refresh@.service"):
        shutil.rmtree(machine.root / f"run/systemd/system/{shipped}.d", ignore_errors=True)
        (machine.root / f"run/systemd/system/{shipped}").unlink(missing_ok=True)
    machine.run("systemctl", "daemon-reload")
    machine.run("systemctl", "stop", UNIT, "alert-exporter.service", "alert-prometheus.service",
                "alert-alertmanager.service", check=False)  # fmt: skip
    receiver.server.shutdown()


def query(port: int, expression: str) -> list[dict[str, Any]]:
    from urllib.parse import quote

    answer = json.loads(http_get(port, f"/api/v1/query?query={quote(expression)}"))
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def series(machine: Machine, value: int) -> float | None:
    """When the file shows the unit's startable series at VALUE (now), else None."""
    text = (machine.root / OUTPUT.lstrip("/")).read_text()
    line = f'golaunch_unit_startable{{manager="system",unit="{UNIT}"}} {value:.1f}'
    return time.monotonic() if line in text.splitlines() else None


def test_a_refused_start_reaches_a_person_and_so_does_its_fix(
    machine: Machine, chain: Receiver, go_new: Toolchain
) -> None:
    time.sleep(5)  # long enough for any alert about the healthy unit to arrive: none may
    # Other tests' units may be broken on purpose; this one's, healthy, raises nothing.
    mine = [a for a in chain.alerts("firing") if a["labels"].get("unit") in (UNIT, None)]
    assert mine == [], chain.received

    GOROOT_LINK.unlink()  # someone removed the toolchain the unit needs
    refused = time.monotonic()
    assert machine.run("systemctl", "restart", UNIT, check=False).returncode != 0
    assert machine.show(UNIT)["ExecMainStatus"] == "78"
    seen = wait_until("the refresh to mark the unit", lambda: series(machine, 0), timeout=60)
    print(f"refused start -> series: {seen - refused:.1f} s")
    page = wait_until(
        "the page for the refused start",
        lambda: chain.first("firing", refused, alertname="GolaunchUnitNotStartable", unit=UNIT),
        timeout=60,
    )
    detail = wait_until(
        "the goroot check's alert",
        lambda: chain.first(
            "firing", refused, alertname="GolaunchCheckFailing", unit=UNIT, check="goroot"
        ),
        timeout=60,
    )
    assert max(page, detail) - refused < 60
    print(f"refused start -> webhook: {max(page, detail) - refused:.1f} s")

    GOROOT_LINK.symlink_to(go_new.goroot)  # put back
    fixed = time.monotonic()
    machine.run("systemctl", "reset-failed", UNIT, check=False)
    machine.start_ok(UNIT)
    seen = wait_until("the refresh to clear the unit", lambda: series(machine, 1), timeout=60)
    print(f"fixed start -> series: {seen - fixed:.1f} s")
    resolved = wait_until(
        "the resolved notification",
        lambda: chain.first("resolved", fixed, alertname="GolaunchUnitNotStartable", unit=UNIT),
        timeout=60,
    )
    assert resolved - fixed < 60
    print(f"fixed start -> resolved: {resolved - fixed:.1f} s")


def rewrite(machine: Machine, change: Callable[[str], str]) -> None:
    """The metrics file, changed by CHANGE, replaced as golaunch replaces it (rename)."""
    path = machine.root / OUTPUT.lstrip("/")
    fresh = path.with_name(".golaunch.prom.test")
    fresh.write_text(change(path.read_text()))
    fresh.chmod(0o644)
    fresh.rename(path)


def test_a_full_run_three_hours_old_is_stale_and_a_run_renews_it(
    machine: Machine, chain: Receiver
) -> None:
    """Staleness is the hourly run's timestamp, whatever renews the file (issue 31, 14)."""
    since = time.monotonic()
    three_hours_ago = time.time() - 3 * 3600
    rewrite(
        machine,
        lambda text: re.sub(
            r'^golaunch_check_timestamp_seconds\{manager="system"\} .*$',
            f'golaunch_check_timestamp_seconds{{manager="system"}} {three_hours_ago}',
            text,
            flags=re.MULTILINE,
        ),
    )
    wait_until(
        "the stale alert",
        lambda: chain.first("firing", since, alertname="GolaunchChecksStale"),
        timeout=60,
    )
    renewed = time.monotonic()
    machine.start_ok("golaunch-check.service")  # a run renews it
    wait_until(
        "the stale alert to resolve",
        lambda: chain.first("resolved", renewed, alertname="GolaunchChecksStale"),
        timeout=60,
    )


def test_a_file_node_exporter_cannot_read_pages(machine: Machine, chain: Receiver) -> None:
    """node_exporter 1.5 drops every series of a file with a bad line and keeps only
    node_textfile_scrape_error 1: the page says so (issue 31, item 13)."""
    since = time.monotonic()
    rewrite(machine, lambda text: text + "golaunch_broken{ this is no metric line\n")
    page = wait_until(
        "the page for the unreadable file",
        lambda: chain.first("firing", since, alertname="GolaunchMetricsGone"),
        timeout=60,
    )
    assert any(
        p["receiver"] == "golaunch-pager" and a["labels"]["alertname"] == "GolaunchMetricsGone"
        for when, p in chain.received if when >= since for a in p["alerts"]
    )  # fmt: skip
    print(f"unreadable file -> page: {page - since:.1f} s")
    rewritten = time.monotonic()
    machine.start_ok("golaunch-check.service")  # what the alert says to do: a new file
    wait_until(
        "the page to resolve",
        lambda: chain.first("resolved", rewritten, alertname="GolaunchMetricsGone"),
        timeout=60,
    )
