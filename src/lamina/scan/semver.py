"""Semantic Versioning 2.0.0 precedence (semver.org, section 11), as npm orders versions.

A leading ``v`` or ``=`` is tolerated, as node-semver's loose parser does.
Build metadata (``+...``) does not take part in precedence.
"""

from __future__ import annotations

import re

from lamina.scan.errors import InvalidVersion

_SYNTAX = re.compile(
    r"^[v=]?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)

# (major, minor, patch, release_rank, prerelease identifiers)
Key = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


def key(text: str) -> Key:
    match = _SYNTAX.match(text.strip())
    if match is None:
        raise InvalidVersion(f"{text!r} is not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH[-pre][+build])")
    major, minor, patch = int(match[1]), int(match[2]), int(match[3])
    if match[4] is None:
        return (major, minor, patch, 1, ())
    idents: list[tuple[int, int, str]] = []
    for ident in match[4].split("."):
        # numeric identifiers sort numerically and before alphanumeric ones
        idents.append((0, int(ident), "") if ident.isdigit() else (1, 0, ident))
    return (major, minor, patch, 0, tuple(idents))


def compare(a: str, b: str) -> int:
    ka, kb = key(a), key(b)
    return (ka > kb) - (ka < kb)
