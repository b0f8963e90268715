"""The sanitized environment the program gets: what is inherited, what never is."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # on every start's path: collections.abc would load collections (1 ms)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

# systemd's own variables for the service (systemd.exec(5), "Environment Variables Set or
# Propagated by the Service Manager", as of 257): its contract with the program, which
# golaunch's exec leaves in place. PIDFILE and the ExecStop= ones never reach a Type=notify
# ExecStart=; the user manager's (MANAGERPID, XDG_RUNTIME_DIR) pass too.
SYSTEMD_VARIABLES = frozenset(
    {
        "LISTEN_FDS",
        "LISTEN_PID",
        "LISTEN_FDNAMES",
        "INVOCATION_ID",
        "JOURNAL_STREAM",
        "RUNTIME_DIRECTORY",
        "STATE_DIRECTORY",
        "CACHE_DIRECTORY",
        "LOGS_DIRECTORY",
        "CONFIGURATION_DIRECTORY",
        "CREDENTIALS_DIRECTORY",
        "SYSTEMD_EXEC_PID",
        "LOG_NAMESPACE",
        "TERM",
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "MANAGERPID",
        "XDG_RUNTIME_DIR",
        # 252: what a timer or path unit that started it says
        "TRIGGER_UNIT",
        "TRIGGER_PATH",
        "TRIGGER_TIMER_REALTIME_USEC",
        "TRIGGER_TIMER_MONOTONIC_USEC",
        # 254: the memory pressure to watch (cgroup v2), the file descriptor store's size
        "MEMORY_PRESSURE_WATCH",
        "MEMORY_PRESSURE_WRITE",
        "FDSTORE",
        # 257: RestartMode=debug asks for more logging after a failed start
        "DEBUG_INVOCATION",
    }
)
# Passed on only with the notify socket (notify.mode passthrough).
NOTIFY_VARIABLES = frozenset({"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"})
LOCALE_AND_USER = frozenset({"LANG", "LANGUAGE", "TZ", "HOME", "USER", "LOGNAME"})
GO_RUNTIME_KNOBS = frozenset(
    {
        "GOMAXPROCS",
        "GOMEMLIMIT",
        "GOGC",
        "GODEBUG",
        "GOTRACEBACK",
        "GOPROXY",
        "GOPRIVATE",
        "GONOPROXY",
        "GONOSUMDB",
        "GOSUMDB",
        "GOFLAGS",
        "GOPATH",
        "GOENV",
        # Set in the unit on purpose; checked like any other source (golaunch.host.godirs).
        "GOCACHE",
        "GOMODCACHE",
    }
)
# Variables that change what the dynamic loader, libc or an interpreter loads or
# trusts. The glibc list is its "unsecure envvars" (sysdeps/generic/unsecvars.h),
# less TMPDIR and TZDIR: glibc drops those only for set-user-ID programs, and a
# service's own temporary directory and zone files are legitimate, so `keep` may
# pass them (nothing passes them by default). Only an explicit `set` can put one
# of these in: `keep` globs never match them.
NEVER_INHERITED_NAMES = frozenset(
    {
        "GCONV_PATH",
        "GETCONF_DIR",
        "GLIBC_TUNABLES",
        "HOSTALIASES",
        "LOCALDOMAIN",
        "LOCPATH",
        "NIS_PATH",
        "NLSPATH",
        "RESOLV_HOST_CONF",
        "RES_OPTIONS",
    }
)
NEVER_INHERITED_PREFIXES = ("LD_", "MALLOC_", "PYTHON", "GOLAUNCH_")


def never_inherited(name: str) -> bool:
    return name in NEVER_INHERITED_NAMES or name.startswith(NEVER_INHERITED_PREFIXES)


def inherited_by_rule(name: str, keep: Sequence[str], passthrough_notify: bool) -> bool:
    if never_inherited(name):
        return False
    if name in NOTIFY_VARIABLES:
        # Only a program that gets the socket can ping a watchdog (sd_watchdog_enabled(3)).
        return passthrough_notify
    if name in SYSTEMD_VARIABLES or name in LOCALE_AND_USER or name in GO_RUNTIME_KNOBS:
        return True
    if name.startswith("LC_"):
        return True
    if not keep:
        return False
    import fnmatch  # pulls in re: 4 ms at every start, for units that use no keep

    return any(fnmatch.fnmatchcase(name, pattern) for pattern in keep)


def dropped(environ: Mapping[str, str], environment: Mapping[str, str]) -> list[str]:
    """The inherited variables the program will not get and that --keep-env could pass:
    names only (a value may be a secret), sorted. PATH is replaced, the never-inherited
    ones cannot be kept, and the notify socket's follow --notify."""
    return sorted(
        name
        for name in environ
        if name
        and name not in environment
        and name != "PATH"
        and name not in NOTIFY_VARIABLES
        and not never_inherited(name)
    )


def inherit(
    environ: Mapping[str, str], keep: Iterable[str], passthrough_notify: bool
) -> dict[str, str]:
    """The inherited variables that may reach the program, before golaunch adds its own."""
    patterns = tuple(keep)
    return {
        name: value
        for name, value in environ.items()
        # An entry without a name ("=x" in the environment block) cannot be passed on:
        # execve(2) from Python refuses it.
        if name and inherited_by_rule(name, patterns, passthrough_notify)
    }


# Linux limits each argv or envp string to 32 pages (MAX_ARG_STRLEN), NUL included.
MAX_ARG_STRLEN = 32 * 4096


def exec_strings(argv: Iterable[str], environment: Mapping[str, str]) -> list[bytes]:
    return [a.encode("utf-8", "surrogateescape") for a in argv] + [
        f"{k}={v}".encode("utf-8", "surrogateescape") for k, v in environment.items()
    ]


def exec_size(filename: str, strings: Iterable[bytes]) -> int:
    """Bytes execve(2) counts against ARG_MAX: the file name and each string with its NUL,
    and a pointer per string (fs/exec.c; matched to the kernel byte for byte in the tests)."""
    pointer = 8
    name = len(filename.encode("utf-8", "surrogateescape")) + 1
    return name + sum(len(s) + 1 + pointer for s in strings)


def arg_max() -> int:
    try:
        return os.sysconf("SC_ARG_MAX")
    except (ValueError, OSError):
        return 131072  # POSIX's minimum is smaller; Linux's historical value is this
