"""Resolve a container path inside a root directory, following symlinks as the container would.

An image's symlinks are untrusted: ``/etc/resolv.conf -> /run/...`` or
``/etc -> ../../..`` must resolve inside the rootfs, never on the host. Like
runc's securejoin, absolute link targets restart at the root and ``..`` never
climbs above it.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from lamina.errors import LaminaError

_MAX_LINKS = 40  # Linux's MAXSYMLINKS


def resolve(root: Path, path: str) -> Path:
    """The host path of container path ``path`` under ``root``; the last part may not exist."""
    parts = list(PurePosixPath("/" + path).parts[1:])
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = root.joinpath(*resolved, part)
        if candidate.is_symlink():
            links += 1
            if links > _MAX_LINKS:
                raise LaminaError(f"too many levels of symbolic links resolving {path!r}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = list(PurePosixPath(target).parts) + parts
            if target.startswith("/"):
                parts = parts[1:]
            continue
        resolved.append(part)
    return root.joinpath(*resolved)


def read_text(root: Path, path: str) -> str | None:
    """The text of container file ``path`` under ``root``, or None when it is not a file."""
    host = resolve(root, path)
    if not host.is_file():
        return None
    return host.read_text(errors="replace")
