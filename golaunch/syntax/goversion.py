"""Go toolchain versions, ordered exactly as Go's go/version package orders them.

Go does not use semver: "1.21" (the language version) sorts before "1.21rc1",
which sorts before "1.21.0". Numbers are kept as decimal strings and compared
by length first, as Go does, so huge numbers cannot overflow anything.
"""

from __future__ import annotations

_OPERATORS = (">=", "<=", "==", "!=", ">", "<")


class GoVersion:
    """A plain class, not a dataclass: every start that computes GOMEMLIMIT parses the
    program's Go version, and the dataclasses module costs more than the whole start."""

    __slots__ = ("major", "minor", "patch", "pre", "stage", "text")

    def __init__(
        self, *, major: str, minor: str, patch: str, stage: str = "", pre: str = "", text: str
    ) -> None:
        self.major = major
        self.minor = minor
        self.patch = patch
        self.stage = stage  # "", "alpha", "beta" or "rc"
        self.pre = pre
        self.text = text

    def __repr__(self) -> str:
        return f"GoVersion({self.text!r})"

    def sort_key(self) -> tuple[tuple[int, str], ...]:
        # ("", "alpha", "beta", "rc") already sort as Go sorts them.
        return (
            _int_key(self.major),
            _int_key(self.minor),
            _int_key(self.patch),
            (0, self.stage),
            _int_key(self.pre),
        )

    @property
    def release(self) -> str:
        """The language version, "1.22" for go1.22.3 or go1.22rc1."""
        return f"{self.major}.{self.minor}"


def _int_key(decimal: str) -> tuple[int, str]:
    return (len(decimal), decimal)


def _cut_int(text: str) -> tuple[str, str] | None:
    i = 0
    while i < len(text) and "0" <= text[i] <= "9":
        i += 1
    if i == 0 or (text[0] == "0" and i != 1):  # no digits, or a needless leading zero
        return None
    return text[:i], text[i:]


def parse_go_version(text: str) -> GoVersion | None:
    """Parse "go1.22.3", "1.22", "go1.21rc1" (a "go" prefix and a "-custom" suffix are optional)."""
    body = text.strip().split("-", 1)[0]
    body = body.removeprefix("go")
    cut = _cut_int(body)
    if cut is None:
        return None
    major, rest = cut
    if rest == "":
        return GoVersion(major=major, minor="0", patch="0", text=text)
    if rest[0] != ".":
        return None
    cut = _cut_int(rest[1:])
    if cut is None:
        return None
    minor, rest = cut
    if rest == "":
        # Before Go 1.21, "1.N" named the release itself (1.20 == 1.20.0).
        patch = "0" if _int_key(minor) < _int_key("21") else ""
        return GoVersion(major=major, minor=minor, patch=patch, text=text)
    if rest[0] == ".":
        cut = _cut_int(rest[1:])
        if cut is None or cut[1] != "":
            return None
        return GoVersion(major=major, minor=minor, patch=cut[0], text=text)
    stage_end = 0
    while stage_end < len(rest) and not ("0" <= rest[stage_end] <= "9"):
        if not ("a" <= rest[stage_end] <= "z"):
            return None
        stage_end += 1
    if stage_end == 0:
        return None
    stage, rest = rest[:stage_end], rest[stage_end:]
    if rest == "":
        return GoVersion(major=major, minor=minor, patch="", stage=stage, text=text)
    cut = _cut_int(rest)
    if cut is None or cut[1] != "":
        return None
    return GoVersion(major=major, minor=minor, patch="", stage=stage, pre=cut[0], text=text)


def compare(x: GoVersion, y: GoVersion) -> int:
    kx, ky = x.sort_key(), y.sort_key()
    return (kx > ky) - (kx < ky)


class Comparator:
    __slots__ = ("operator", "version")

    def __init__(self, operator: str, version: GoVersion) -> None:
        self.operator = operator
        self.version = version

    def allows(self, candidate: GoVersion) -> bool:
        c = compare(candidate, self.version)
        return {
            ">=": c >= 0,
            "<=": c <= 0,
            ">": c > 0,
            "<": c < 0,
            "==": c == 0,
            "!=": c != 0,
        }[self.operator]


def parse_constraint(spec: str) -> tuple[Comparator, ...]:
    """Parse ">=1.22, <1.28". A bare version means "==". Raises ValueError naming the bad part."""
    comparators = []
    for raw in spec.split(","):
        part = raw.strip()
        if not part:
            raise ValueError(f"empty comparator in {spec!r}")
        operator = next((op for op in _OPERATORS if part.startswith(op)), "==")
        text = part.removeprefix(operator).strip() if part.startswith(operator) else part
        version = parse_go_version(text)
        if version is None:
            raise ValueError(
                f"{text!r} is not a Go version (use forms like 1.22, 1.22.3, go1.23rc1)"
            )
        comparators.append(Comparator(operator, version))
    return tuple(comparators)


def satisfies(version: GoVersion, constraint: tuple[Comparator, ...]) -> bool:
    return all(c.allows(version) for c in constraint)
