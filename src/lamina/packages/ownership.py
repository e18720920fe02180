"""Which files each installed package put on disk, from the records that say so.

dpkg: ``var/lib/dpkg/info/NAME[:ARCH].list`` (absolute paths) and distroless
``var/lib/dpkg/status.d/NAME.md5sums`` (``md5  relative/path``); Python: a
dist-info's ``RECORD`` (PEP 376/627, relative to the site dir); apk's database
lists files itself (apk.py). Readers collect these by ``stem`` and ``attach``
them to the packages they belong to.
"""

from __future__ import annotations

from dataclasses import replace

from lamina.packages import python
from lamina.packages.model import DEB, PYTHON, Package

_DIRS = {"var/lib/dpkg/info": ".list", "var/lib/dpkg/status.d": ".md5sums"}


def stem(path: str) -> str | None:
    """What the ownership record at ``path`` (relative, no leading /) is keyed by:
    ``libc6:amd64`` for info/libc6:amd64.list, the dist-info directory (absolute) for
    its RECORD; None for any other path."""
    head, _, base = path.rpartition("/")
    if base == "RECORD" and head.endswith(".dist-info"):
        return "/" + head
    suffix = _DIRS.get(head)
    return base[: -len(suffix)] if suffix and base.endswith(suffix) else None


def owned_paths(data: bytes) -> tuple[str, ...]:
    """The files of a .list (absolute paths) or .md5sums (``md5  relative/path``) file."""
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line.startswith("/"):
            if line != "/.":
                out.append(line)
        elif "  " in line:
            out.append("/" + line.split("  ", 1)[1].lstrip("/"))
    return tuple(out)


def files_of(key: str, data: bytes) -> tuple[str, ...]:
    """The absolute paths the record keyed ``key`` (from ``stem``) lists."""
    if key.startswith("/"):
        return python.installed_files(key, data)
    return owned_paths(data)


def attach(pkg: Package, owned: dict[str, tuple[str, ...]]) -> Package:
    """``pkg`` with the files its records list (by name, name:arch, or dist-info dir)."""
    if pkg.type == DEB:
        files = {*owned.get(pkg.name, ()), *owned.get(f"{pkg.name}:{pkg.arch}", ())}
    elif pkg.type == PYTHON and pkg.path.endswith(".dist-info/METADATA"):
        files = set(owned.get(pkg.path.rpartition("/")[0], ()))
    else:
        return pkg
    return replace(pkg, files=frozenset(files)) if files else pkg
