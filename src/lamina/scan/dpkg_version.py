"""Debian version ordering (Debian Policy 5.6.12; dpkg's lib/dpkg/version.c).

``[epoch:]upstream[-revision]``: the epoch compares as an integer; upstream and
revision compare as alternating runs of non-digits (character by character,
where ``~`` sorts before everything, even the end of the string, and letters
before other characters) and digits (as integers).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lamina.scan.errors import InvalidVersion

_UPSTREAM = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")
_REVISION = re.compile(r"^[A-Za-z0-9.+~]*$")


@dataclass(frozen=True)
class DpkgVersion:
    epoch: int
    upstream: str
    revision: str

    def __str__(self) -> str:
        text = f"{self.epoch}:{self.upstream}" if self.epoch else self.upstream
        return f"{text}-{self.revision}" if self.revision else text


def parse(text: str) -> DpkgVersion:
    raw = text.strip()
    if not raw or any(c.isspace() for c in raw):
        raise InvalidVersion(f"Debian version {text!r} is empty or contains whitespace")
    epoch = 0
    rest = raw
    if ":" in raw:
        head, rest = raw.split(":", 1)
        if not head.isdigit():
            raise InvalidVersion(f"Debian version {text!r}: the epoch must be a number")
        epoch = int(head)
    upstream, revision = rest, ""
    if "-" in rest:
        upstream, revision = rest.rsplit("-", 1)
        if not revision:
            raise InvalidVersion(f"Debian version {text!r}: empty revision after '-'")
    if not _UPSTREAM.match(upstream):
        raise InvalidVersion(
            f"Debian version {text!r}: the upstream version must start with a digit"
            " and hold only alphanumerics and . + ~ - :"
        )
    if not _REVISION.match(revision):
        raise InvalidVersion(f"Debian version {text!r}: bad character in revision {revision!r}")
    return DpkgVersion(epoch, upstream, revision)


def _order(c: str) -> int:
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def compare_parsed(a: DpkgVersion, b: DpkgVersion) -> int:
    if a.epoch != b.epoch:
        return -1 if a.epoch < b.epoch else 1
    result = _verrevcmp(a.upstream, b.upstream)
    if result:
        return -1 if result < 0 else 1
    result = _verrevcmp(a.revision, b.revision)
    return (result > 0) - (result < 0)


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as ``dpkg --compare-versions`` orders ``a`` and ``b``."""
    return compare_parsed(parse(a), parse(b))


key = functools.cmp_to_key(compare_parsed)
