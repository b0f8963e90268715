"""The environment systemd would give a service, rebuilt from its unit's settings.

What systemd.exec(5) ("Environment Variables in Spawned Processes") says it sets,
in the order systemd merges them: the manager's own environment (PATH, LANG),
the variables it computes (the user's, the directories', the notify socket's),
then Environment=, then EnvironmentFile= (a later assignment wins), less
UnsetEnvironment=. What cannot be rebuilt from outside is reported as a skip.
"""

from __future__ import annotations

import os
import pwd
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from golaunch.findings import Finding, failed, skipped
from golaunch.readfile import read_regular_file
from golaunch.systemd.manager import NO_LIMIT, UserManager
from golaunch.unitcheck.envfile import environment_file_assignments

NAME = "unit"
NOBODY = 65534  # the overflow uid: shared by every service that runs as nobody

# The directories a system service's *Directory= settings live under.
DIRECTORIES = {
    "RuntimeDirectory": ("RUNTIME_DIRECTORY", "/run"),
    "StateDirectory": ("STATE_DIRECTORY", "/var/lib"),
    "CacheDirectory": ("CACHE_DIRECTORY", "/var/cache"),
    "LogsDirectory": ("LOGS_DIRECTORY", "/var/log"),
    "ConfigurationDirectory": ("CONFIGURATION_DIRECTORY", "/etc"),
}
NOLOGIN_SHELLS = frozenset(
    f"{prefix}/{name}"
    for prefix in ("/bin", "/sbin", "/usr/bin", "/usr/sbin")
    for name in ("nologin", "false", "true")
)
# Settings that change what the service sees, which a check from outside cannot.
NOT_REPRODUCED = {
    "PrivateTmp": "the service has a /tmp and /var/tmp of its own",
    "ProtectSystem": "the service sees /usr, /boot (and /etc with full or strict) read-only",
    "ProtectHome": "the service sees /home, /root and /run/user hidden or read-only",
    "ReadOnlyPaths": "the service sees these paths read-only",
    "InaccessiblePaths": "these paths are hidden from the service",
    "BindPaths": "these paths are bound into the service's view",
    "BindReadOnlyPaths": "these paths are bound, read-only, into the service's view",
    "TemporaryFileSystem": "the service has an empty file system here",
    "RootDirectory": "the service runs in another root directory",
    "RootImage": "the service runs in a disk image",
}


def user_directories(user: UserManager, manager: Mapping[str, str], systemd: int) -> dict[str, str]:
    """Where a user manager's *Directory= settings live (systemd.exec(5)): below the XDG
    directories of its own environment, or their defaults. State and logs moved from
    $XDG_CONFIG_HOME to $XDG_STATE_HOME in systemd 254 (systemd#28168)."""

    def xdg(name: str, default: str) -> str:
        return manager.get(name) or os.path.join(user.home, default)

    config, state = xdg("XDG_CONFIG_HOME", ".config"), xdg("XDG_STATE_HOME", ".local/state")
    kept = state if systemd >= 254 else config
    return {
        "RuntimeDirectory": manager.get("XDG_RUNTIME_DIR") or user.runtime,
        "StateDirectory": kept,
        "CacheDirectory": xdg("XDG_CACHE_HOME", ".cache"),
        "LogsDirectory": os.path.join(kept, "log"),
        "ConfigurationDirectory": config,
    }


def user_identity(user: UserManager) -> Identity:
    """Who a user manager's services run as: that user, with the groups initgroups() gives."""
    groups = os.getgrouplist(user.name, user.gid)
    return Identity(user.uid, user.gid, groups, user.name, user.home, user.shell)


class Identity(NamedTuple):
    uid: int
    gid: int
    groups: list[int]
    user: str | None  # None: root, no User=
    home: str | None
    shell: str | None


def identity(service: Mapping[str, Any], main_pid: int) -> tuple[Identity, list[Finding]]:
    """Who the service runs as: User=/Group=/SupplementaryGroups=, or for DynamicUser=
    the running process's credentials, or nobody (a skip says so)."""
    notes: list[Finding] = []
    if service.get("DynamicUser"):
        running = _process_identity(main_pid) if main_pid else None
        if running:
            uid, gid, groups = running
            return Identity(uid, gid, groups, _name(uid), "/", "/usr/sbin/nologin"), notes
        notes.append(
            skipped(
                NAME,
                "DynamicUser=yes: the uid systemd allocates exists only while the unit runs; "
                f"checked as nobody ({NOBODY})",
            )
        )
        return Identity(NOBODY, NOBODY, [], "nobody", "/", "/usr/sbin/nologin"), notes
    user = service.get("User") or None
    if user is None:
        return Identity(0, 0, [], None, None, None), notes
    try:
        entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except KeyError:
        why = f"User={user} does not exist: systemd would refuse to start the unit (217/USER)"
        return Identity(NOBODY, NOBODY, [], "nobody", None, None), [
            failed(NAME, f"{why}; checked as nobody")
        ]
    try:
        gid = _group(service["Group"]) if service.get("Group") else entry.pw_gid
        extra = [_group(g) for g in service.get("SupplementaryGroups", [])]
    except KeyError as e:
        why = f"group {e.args[0]} does not exist: systemd would refuse to start the unit"
        notes.append(failed(NAME, f"{why} (216/GROUP); checked without it"))
        gid, extra = entry.pw_gid, []
    # systemd calls initgroups(): the user's groups in /etc/group, then SupplementaryGroups=.
    groups = list(dict.fromkeys([*os.getgrouplist(entry.pw_name, gid), *extra]))
    return Identity(entry.pw_uid, gid, groups, entry.pw_name, entry.pw_dir, entry.pw_shell), notes


def _name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def _group(name: str) -> int:
    """Raises KeyError(NAME) for a group that does not exist."""
    import grp

    if name.isdigit():
        return int(name)
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise KeyError(name) from None


def _process_identity(pid: int) -> tuple[int, int, list[int]] | None:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return None
    uid = int(fields["Uid"].split()[0])
    gid = int(fields["Gid"].split()[0])
    groups = [int(g) for g in fields.get("Groups", "").split()]
    return uid, gid, groups


def rebuild(
    service: Mapping[str, Any],
    manager_environment: Sequence[str],
    who: Identity,
    credentials_directory: str | None,
    systemd: int,
    *,
    user: UserManager | None = None,
) -> tuple[dict[str, str], list[Finding]]:
    """The service's environment as SYSTEMD (the manager's major version; USER's manager,
    when given) gives it, and a finding for each part that could not be rebuilt."""
    environment = _assignments(manager_environment)
    if user:
        directories = user_directories(user, environment, systemd)
        notify = os.path.join(directories["RuntimeDirectory"], "systemd", "notify")
    else:
        directories = {setting: base for setting, (_, base) in DIRECTORIES.items()}
        notify = "/run/systemd/notify"
    environment.update(_computed(service, who, credentials_directory, directories, notify))
    environment.update(_assignments(service.get("Environment", [])))
    notes = _read_files(service, environment, systemd)
    for item in service.get("UnsetEnvironment", []):
        name, sep, value = item.partition("=")
        if not sep or environment.get(name) == value:
            environment.pop(name, None)
    return environment, [*notes, *_not_reproduced(service)]


def _computed(
    service: Mapping[str, Any],
    who: Identity,
    credentials_directory: str | None,
    directories: Mapping[str, str],
    notify_socket: str,
) -> dict[str, str]:
    """What systemd itself sets: the user's variables, the directories', and the like."""
    environment: dict[str, str] = {}
    if who.user is not None:
        environment.update(USER=who.user, LOGNAME=who.user)
        # systemd leaves out a home of "/" or "/nonexistent" and a nologin shell.
        if who.home not in (None, "", "/", "/nonexistent"):
            environment["HOME"] = who.home
        if who.shell and who.shell not in NOLOGIN_SHELLS:
            environment["SHELL"] = who.shell
    environment["INVOCATION_ID"] = secrets.token_hex(16)
    for setting, (variable, _) in DIRECTORIES.items():
        names = service.get(setting) or []
        if names:
            base = directories[setting]
            environment[variable] = ":".join(os.path.join(base, name) for name in names)
    if credentials_directory:
        environment["CREDENTIALS_DIRECTORY"] = credentials_directory
    if service.get("Type") == "notify" or service.get("NotifyAccess", "none") != "none":
        environment["NOTIFY_SOCKET"] = notify_socket
    watchdog = int(service.get("WatchdogUSec", 0))
    if 0 < watchdog < NO_LIMIT:
        environment["WATCHDOG_USEC"] = str(watchdog)
    return environment


def _read_files(
    service: Mapping[str, Any], environment: dict[str, str], systemd: int
) -> list[Finding]:
    """EnvironmentFile= settings into ENVIRONMENT; a failure for a file systemd must read."""
    notes = []
    for path, optional in service.get("EnvironmentFiles", []):
        try:
            environment.update(read_environment_file(path, systemd))
        except (OSError, ValueError) as e:
            if optional:
                continue
            why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            notes.append(
                failed(
                    NAME,
                    f"EnvironmentFile={path} cannot be read ({why}): systemd would refuse to "
                    "start the unit",
                    GOLAUNCH_PATH=path,
                )
            )
        except FileTooLarge:
            notes.append(skipped(NAME, f"EnvironmentFile={path} is over 4 MiB; not read"))
    return notes


class FileTooLarge(Exception):
    pass


MAX_ENVIRONMENT_FILE = 4 << 20


def read_environment_file(path: str, systemd: int) -> dict[str, str]:
    """The assignments SYSTEMD takes from the EnvironmentFile= at PATH (unitcheck.envfile).
    Regular files only, opened without blocking: a FIFO is an error, never a hang."""
    data = read_regular_file(path, MAX_ENVIRONMENT_FILE)
    if len(data) > MAX_ENVIRONMENT_FILE:
        raise FileTooLarge(path)
    return environment_file_assignments(data.decode("utf-8", "surrogateescape"), systemd)


def _not_reproduced(service: Mapping[str, Any]) -> list[Finding]:
    notes = []
    for setting, effect in NOT_REPRODUCED.items():
        value = service.get(setting)
        if value and value not in ("no", "false"):
            notes.append(skipped(NAME, f"{setting}= not reproduced: {effect}"))
    if service.get("PassEnvironment"):
        names = " ".join(service["PassEnvironment"])
        notes.append(skipped(NAME, f"PassEnvironment={names}: the manager's values are not known"))
    return notes


def _assignments(items: Sequence[str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in items if "=" in item)
