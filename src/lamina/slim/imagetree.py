"""The files of an image as one tree: every path, its kind, and symlink resolution inside it.

slim builds it from the layers' stored indexes (slim/indextree.py); ``scan``
walks a directory instead (the merged view, or layers applied onto a directory),
which the tests hold the index-built tree to. Contents are read from the merged
view (the layers under a read-only OverlayFS mount). Paths are absolute container
paths (``/usr/bin/python3``). Symlinks resolve within the image, never on the host: an absolute target
restarts at the image root, ``..`` never climbs above it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

FILE: Final = "file"
DIR: Final = "dir"
SYMLINK: Final = "symlink"
OTHER: Final = "other"
_MAX_LINKS: Final = 40  # the kernel's MAXSYMLINKS


@dataclass(frozen=True)
class Entry:
    kind: str
    size: int
    inode: tuple[int, int]
    nlink: int
    target: str = ""  # symlinks only


@dataclass
class Resolution:
    """Where a path leads: the final path (None when it does not exist) and what it went through."""

    final: str | None
    via: list[str] = field(default_factory=list)  # directories and symlinks on the way


def join(base: str, name: str) -> str:
    return "/" + name if base == "/" else f"{base}/{name}"


def parent(path: str) -> str:
    head = path.rsplit("/", 1)[0]
    return head or "/"


class ImageTree:
    """Every path of an image, read from ``root`` (its merged view, read-only)."""

    def __init__(self, root: Path, entries: dict[str, Entry]) -> None:
        self.root = root
        self.entries = entries
        self._by_inode: dict[tuple[int, int], list[str]] = {}
        self._children: dict[str, list[str]] = {}
        for path, entry in entries.items():
            if entry.kind == FILE and entry.nlink > 1:
                self._by_inode.setdefault(entry.inode, []).append(path)
            if path != "/":
                self._children.setdefault(parent(path), []).append(path)

    @classmethod
    def scan(cls, root: Path) -> ImageTree:
        entries: dict[str, Entry] = {"/": _entry(os.lstat(root), str(root))}
        for path, host, st in _walk(str(root)):
            entries[path] = _entry(st, host)
        return cls(root, entries)

    def host(self, path: str) -> Path:
        """Where ``path`` (already resolved) is readable on this host."""
        return self.root / path.lstrip("/")

    def get(self, path: str) -> Entry | None:
        return self.entries.get(path)

    def hardlinks(self, path: str) -> list[str]:
        entry = self.entries.get(path)
        if entry is None or entry.kind != FILE or entry.nlink < 2:
            return []
        return [p for p in self._by_inode.get(entry.inode, []) if p != path]

    def resolve(self, path: str, *, follow_last: bool = True) -> Resolution:
        """Follow ``path`` through the image's symlinks, noting each dir and link passed."""
        result = Resolution(None)
        parts = [p for p in path.split("/") if p and p != "."]
        current = "/"
        links = 0
        while parts:
            name = parts.pop(0)
            if name == "..":
                current = parent(current)
                continue
            candidate = join(current, name)
            entry = self.entries.get(candidate)
            if entry is None:
                return result
            if entry.kind == SYMLINK and (parts or follow_last):
                links += 1
                if links > _MAX_LINKS:
                    return result
                result.via.append(candidate)
                target = entry.target
                parts = [p for p in target.split("/") if p and p != "."] + parts
                if target.startswith("/"):
                    current = "/"
                continue
            if parts:
                if entry.kind != DIR:
                    return result
                result.via.append(candidate)
            current = candidate
        result.final = current
        return result

    def files(self) -> Iterator[str]:
        """Every path that is not a directory."""
        return (p for p, e in self.entries.items() if e.kind != DIR)

    def under(self, directory: str) -> Iterator[str]:
        """Every path below ``directory`` (not following symlinks)."""
        stack = list(self._children.get(directory, ()))
        while stack:
            path = stack.pop()
            yield path
            stack.extend(self._children.get(path, ()))


def _entry(st: os.stat_result, host: str) -> Entry:
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return Entry(FILE, st.st_size, (st.st_dev, st.st_ino), st.st_nlink)
    if stat.S_ISDIR(mode):
        return Entry(DIR, 0, (st.st_dev, st.st_ino), st.st_nlink)
    if stat.S_ISLNK(mode):
        return Entry(SYMLINK, st.st_size, (st.st_dev, st.st_ino), 1, os.readlink(host))
    return Entry(OTHER, 0, (st.st_dev, st.st_ino), st.st_nlink)


def _walk(root: str) -> Iterator[tuple[str, str, os.stat_result]]:
    stack: list[tuple[str, str]] = [("/", root)]
    while stack:
        base, host = stack.pop()
        with os.scandir(host) as it:
            for item in it:
                path = join(base, item.name)
                st = item.stat(follow_symlinks=False)
                yield path, item.path, st
                if stat.S_ISDIR(st.st_mode):
                    stack.append((path, item.path))
