"""Process IDs in systemd's variables, read as libsystemd reads them.

sd_watchdog_enabled(3) and sd_listen_fds(3) take WATCHDOG_PID and LISTEN_PID to
name this process only if parse_pid() (src/basic/parse-util.c) reads them as
its PID. parse_pid is strtoull() with base 0 behind blanks, so "0144" is octal
100 and "0x64" hexadecimal 100, plus the "0b" and "0o" prefixes systemd adds;
the whole string must be read, and the result must be a positive pid_t.
tests/integration/test_pid.py holds this to libsystemd itself.
"""

from __future__ import annotations

from golaunch.syntax import WHITESPACE

C_SPACE = " \t\n\v\f\r"  # isspace() in the C locale, which strtoull skips too
PID_MAX = 2**31 - 1  # pid_t is a 32-bit int
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def parse_pid(text: str) -> int | None:
    """The PID TEXT names for systemd, or None where systemd refuses it."""
    s = text.lstrip(WHITESPACE)
    base = 0
    for prefix, prefix_base in (("0b", 2), ("0B", 2), ("0o", 8), ("0O", 8)):
        if s.startswith(prefix):
            s, base = s[2:], prefix_base
            break
    value = _strtoull(s, base)
    # A minus sign gives 2**64 minus the number: refused here like any number past pid_t.
    return value if value is not None and 0 < value <= PID_MAX else None


def names_process(text: str, pid: int) -> bool:
    """Whether TEXT, the value of WATCHDOG_PID or LISTEN_PID, names process PID."""
    return parse_pid(text) == pid


def _strtoull(s: str, base: int) -> int | None:
    """strtoull(S, &end, BASE) when it reads all of S; None otherwise (EINVAL, ERANGE)."""
    s = s.lstrip(C_SPACE)
    negative = s[:1] == "-"
    if s[:1] in "+-" and s:
        s = s[1:]
    if base in (0, 16) and s[:2] in ("0x", "0X") and s[2:3] and s[2].lower() in DIGITS[:16]:
        s, base = s[2:], 16
    elif base == 0:
        base = 8 if s[:1] == "0" else 10
    if not s or any(c.lower() not in DIGITS[:base] or not c.isascii() for c in s):
        return None
    value = int(s, base)
    if value > 2**64 - 1:
        return None  # ERANGE
    return (-value) % 2**64 if negative else value
