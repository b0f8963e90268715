"""Environment variable names: what execve(2) can carry, and what systemd accepts."""

from __future__ import annotations


def invalid_name_reason(name: str) -> str | None:
    """Why NAME cannot be an environment variable name, or None when it can."""
    if not name:
        return "a variable name must not be empty"
    if "=" in name:
        return f"variable name {name!r} contains '='"
    if "\0" in name:
        return f"variable name {name!r} contains a NUL byte"
    if any(c.isspace() for c in name):
        return f"variable name {name!r} contains whitespace"
    return None


def systemd_accepts_name(name: str) -> bool:
    """systemd's env_name_is_valid(): letters, digits and '_', not starting with a digit."""
    return (
        bool(name)
        and name.isascii()
        and not name[0].isdigit()
        and all(c.isalnum() or c == "_" for c in name)
    )
