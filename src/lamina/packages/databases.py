"""Where package databases live in an image's tree, told from the path alone.

Kept apart from the parsers so that asking "can this layer change the package list?"
(``lamina diff`` asks it of every file a layer adds) does not import them all.
"""

from __future__ import annotations

from itertools import chain, compress, repeat

PYTHON_METADATA = "python"
NPM_MANIFEST = "npm-manifest"
NPM_LOCK = "npm-lock"
DPKG_STATUS = "dpkg"
APK_INSTALLED = "apk"

BY_BASENAME = {
    "METADATA": PYTHON_METADATA,
    "PKG-INFO": PYTHON_METADATA,
    "package.json": NPM_MANIFEST,
    "package-lock.json": NPM_LOCK,
}


def database_kind(path: str) -> str | None:
    """Which package database the file at ``path`` (relative, no leading /) is, if any."""
    head, _, base = path.rpartition("/")
    if base in BY_BASENAME:
        if base == "METADATA" and not head.endswith(".dist-info"):
            return None
        if base == "PKG-INFO" and not head.endswith(".egg-info"):
            return None
        return BY_BASENAME[base]
    if base.endswith(".egg-info"):
        return PYTHON_METADATA
    if path == "var/lib/dpkg/status":
        return DPKG_STATUS
    if head == "var/lib/dpkg/status.d" and not base.endswith(".md5sums"):
        return DPKG_STATUS
    if path == "lib/apk/db/installed":
        return APK_INSTALLED
    return None


# Every path database_kind names ends with one of these or lies in dpkg's status.d: a
# C-speed test that lets the few candidates through (diff asks of thousands of paths).
_TAILS = (*BY_BASENAME, ".egg-info", "var/lib/dpkg/status", "lib/apk/db/installed")
_DPKG_PARTS = "var/lib/dpkg/status.d/"


def any_database(paths: list[str]) -> bool:
    """Whether any of ``paths`` is a package database (``database_kind`` is not None)."""
    ends = compress(paths, map(str.endswith, paths, repeat(_TAILS)))  # (no Python per path)
    parts = compress(paths, map(str.startswith, paths, repeat(_DPKG_PARTS)))
    return any(database_kind(path) is not None for path in chain(ends, parts))
