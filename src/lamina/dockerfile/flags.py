"""Instruction flags (``--from=build``, ``--link``, ``--mount=type=cache,target=...``).

The Dockerfile reference lists which flags each instruction takes; a flag an
instruction does not know is a build error in Docker, so it is one here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from lamina.dockerfile.errors import FlagError
from lamina.dockerfile.mounts import MOUNT_TYPES, Mount, parse_mount

__all__ = ["ALLOWED_FLAGS", "MOUNT_TYPES", "Flag", "Mount", "parse_flag", "parse_mount"]

ALLOWED_FLAGS: dict[str, frozenset[str]] = {
    "FROM": frozenset({"platform"}),
    "RUN": frozenset({"mount", "network", "security", "device"}),
    "COPY": frozenset({"from", "chown", "chmod", "link", "parents", "exclude"}),
    "ADD": frozenset(
        {"chown", "chmod", "link", "checksum", "keep-git-dir", "exclude", "unpack"}
    ),
    "HEALTHCHECK": frozenset({"interval", "timeout", "start-period", "start-interval", "retries"}),
}


@dataclass(frozen=True)
class Flag:
    """One ``--name[=value]``; ``value`` is None for a bare boolean flag such as ``--link``."""

    name: str
    value: str | None
    raw: str


def parse_flag(raw: str, keyword: str, where: str) -> Flag:
    if not raw.startswith("--") or len(raw) == 2:
        raise FlagError(f"{where}: {keyword}: malformed flag {raw!r}")
    name, sep, value = raw[2:].partition("=")
    allowed = ALLOWED_FLAGS.get(keyword, frozenset())
    if name not in allowed:
        known = ", ".join(f"--{n}" for n in sorted(allowed)) or "none"
        raise FlagError(f"{where}: {keyword} does not take --{name} (it takes: {known})")
    return Flag(name=name, value=value if sep else None, raw=raw)
