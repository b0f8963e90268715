"""Findings: what a check says about the host, as plain values."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class Severity(enum.Enum):
    PASS = "pass"
    INFO = "info"  # worth knowing, nothing to fix: shown by --check, not journaled
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


# The registry of checks, in the order they are reported: the name that appears
# in GOLAUNCH_CHECK and in reports, the module that words its findings ("source"),
# and one MESSAGE_ID per outcome ("fail", "warn"), made once
# with `systemd-id128 new`. The IDs are an interface: units/golaunch.catalog
# explains each, and operators filter on them (`journalctl MESSAGE_ID=...`).
# Never change one. Everything else (names, IDs, the catalog test) derives from here.
REGISTRY: Mapping[str, Mapping[str, str]] = {
    "unit": {
        "fail": "60f32742c1484a3180548e39f5c09885",
        "warn": "03c5b8c1e01943d88a07174a2f39c10d",
        "source": "golaunch/unitcheck/environment.py",
    },
    "config": {
        "fail": "7e9d3f5f73df43128866957f650944e5",
        "warn": "daa88c21e22a48aaa445fb5b6ae10957",
        "source": "golaunch/checks/config.py",
    },
    "wait": {
        "fail": "92ad89e74d64477e8f706b446527e1e6",
        "warn": "2de530945db044ec8c73dd12230225d9",
        "source": "golaunch/readiness/gate.py",
    },
    "program": {
        "fail": "689205bc38bc45628c05b009b0136b13",
        "warn": "1dc349df4f0d4387920cdd112043bd58",
        "source": "golaunch/checks/program.py",
    },
    "interpreter": {
        "fail": "4eaf558d32f9458ca6a41f4f0200626c",
        "warn": "48ad629a88654e6280235b3c0e131395",
        "source": "golaunch/checks/interpreter.py",
    },
    "library": {
        "fail": "aea5b077f15846a0a110ef7b2bff7c46",
        "warn": "630237d5698f4ee78854c9a31bc2f73d",
        "source": "golaunch/checks/library.py",
    },
    "goroot": {
        "fail": "7ed6af33f8ff4c51b37ccf7ece4dfba0",
        "warn": "5080a4153718452eb6e85860eb8425e0",
        "source": "golaunch/checks/goroot.py",
    },
    "go-version": {
        "fail": "9a6f7996f7f0422cad6749f5f621b661",
        "warn": "378eabd752264c0198f9a57b799c03f7",
        "source": "golaunch/checks/go_version.py",
    },
    "gocache": {
        "fail": "f5d9734e40b442e9bffedd12320f4205",
        "warn": "b927dea48e94431b8a639d86a0508f4e",
        "source": "golaunch/checks/gocache.py",
    },
    "gomodcache": {
        "fail": "cbbdc045043f43e2b48c1f6400db6f1b",
        "warn": "76cf4c3d623c440cb5a2b535137d8c19",
        "source": "golaunch/checks/gomodcache.py",
    },
    "tzdata": {
        "fail": "181b627877364db3870b8d9f783274b4",
        "warn": "d120bdd8634f4877afa5805c463faa24",
        "source": "golaunch/checks/tzdata.py",
    },
    "runtime": {
        "fail": "cfcf5a1bb4454deb9e29b2bebfbbe77f",
        "warn": "430bb4e42e444896a2a7f1de63a1e33a",
        "source": "golaunch/checks/runtime.py",
    },
    "credentials": {
        "fail": "f3be05f66ab7478c8606457b868debe3",
        "warn": "4612e289f56d47379328182282855824",
        "source": "golaunch/checks/credentials.py",
    },
    "exec": {
        "fail": "4853ba71679c47ccba19892e92fafdbf",
        "warn": "b21aef62ecca4702ae0252cba68e6d4e",
        "source": "golaunch/checks/exec.py",
    },
    "notify": {
        "fail": "41c4c353f2b548cd968061877d225469",
        "warn": "28a123b6a9304bd49982b90bdf47fc39",
        "source": "golaunch/checks/notify.py",
    },
    "security": {
        "fail": "3eda797e464544b6aee1c474a32e89e2",
        "warn": "668afc92ed0e404eb8e843ea53ac381f",
        "source": "golaunch/checks/security.py",
    },
    "ready-probe": {
        "fail": "957a8c263fc040f8907b3bc870acd45c",
        "warn": "03669716643e413c8a78acb82386ba75",
        "source": "golaunch/checks/ready_probe.py",
    },
    "watchdog": {
        "fail": "be384079d1224316aa4e8caf87aa72cc",
        "warn": "9c48cf23eb78460aafc3d38338fbc665",
        "source": "golaunch/readiness/helper.py",
    },
    "reload": {
        "fail": "292428e2463c45cda353dd916e737f39",
        "warn": "d13f43b2f1b442f88dc44c863f977edb",
        "source": "golaunch/reload/run.py",
    },
}
CHECK_NAMES = tuple(REGISTRY)
MESSAGE_IDS: Mapping[tuple[str, Severity], str] = {
    **{(name, Severity.FAIL): entry["fail"] for name, entry in REGISTRY.items()},
    **{(name, Severity.WARN): entry["warn"] for name, entry in REGISTRY.items()},
}


@dataclass(frozen=True)
class Finding:
    """One check's verdict. `fields` are extra journal fields (GOROOT, GOLAUNCH_PATH, ...)."""

    check: str
    severity: Severity
    message: str
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def message_id(self) -> str | None:
        return MESSAGE_IDS.get((self.check, self.severity))

    @property
    def journaled(self) -> bool:
        """Warnings and failures go to the journal; passes and skips only to reports."""
        return self.severity in (Severity.WARN, Severity.FAIL)


def passed(check: str, message: str, **fields: str) -> Finding:
    return Finding(check, Severity.PASS, message, fields)


def warned(check: str, message: str, **fields: str) -> Finding:
    return Finding(check, Severity.WARN, message, fields)


def failed(check: str, message: str, **fields: str) -> Finding:
    return Finding(check, Severity.FAIL, message, fields)


def noted(check: str, message: str, **fields: str) -> Finding:
    return Finding(check, Severity.INFO, message, fields)


def skipped(check: str, message: str, **fields: str) -> Finding:
    return Finding(check, Severity.SKIP, message, fields)


def first_failure(findings: Iterable[Finding]) -> Finding | None:
    """The first finding that fails, or None: whether a start, a check or a report passed."""
    return next((f for f in findings if f.severity is Severity.FAIL), None)
