"""Instruction flags (``--from=build``, ``--link``, ``--mount=type=cache,target=...``).

The Dockerfile reference lists which flags each instruction takes; a flag an
instruction does not know is a build error in Docker, so it is one here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from lamina.dockerfile.errors import FlagError

ALLOWED_FLAGS: dict[str, frozenset[str]] = {
    "FROM": frozenset({"platform"}),
    "RUN": frozenset({"mount", "network", "security", "device"}),
    "COPY": frozenset({"from", "chown", "chmod", "link", "parents", "exclude"}),
    "ADD": frozenset(
        {"chown", "chmod", "link", "checksum", "keep-git-dir", "exclude", "unpack"}
    ),
    "HEALTHCHECK": frozenset({"interval", "timeout", "start-period", "start-interval", "retries"}),
}

MOUNT_TYPES = frozenset({"bind", "cache", "tmpfs", "secret", "ssh"})
_TARGET_KEYS = ("target", "dst", "destination")


@dataclass(frozen=True)
class Flag:
    """One ``--name[=value]``; ``value`` is None for a bare boolean flag such as ``--link``."""

    name: str
    value: str | None
    raw: str


@dataclass(frozen=True)
class Mount:
    """A ``RUN --mount=...`` (Dockerfile reference, "RUN --mount"); bind is the default type."""

    type: str
    target: str | None
    options: tuple[tuple[str, str], ...]
    raw: str

    def option(self, key: str) -> str | None:
        for k, v in self.options:
            if k == key:
                return v
        return None

    def covers(self, path: str) -> bool:
        """True when ``path`` lies on this mount, so writes there never reach the layer."""
        if self.target is None:
            return False
        target = "/" + self.target.strip("/")
        path = "/" + path.strip("/")
        return target == "/" or path == target or path.startswith(target + "/")


def parse_flag(raw: str, keyword: str, where: str) -> Flag:
    if not raw.startswith("--") or len(raw) == 2:
        raise FlagError(f"{where}: {keyword}: malformed flag {raw!r}")
    name, sep, value = raw[2:].partition("=")
    allowed = ALLOWED_FLAGS.get(keyword, frozenset())
    if name not in allowed:
        known = ", ".join(f"--{n}" for n in sorted(allowed)) or "none"
        raise FlagError(f"{where}: {keyword} does not take --{name} (it takes: {known})")
    return Flag(name=name, value=value if sep else None, raw=raw)


def parse_mount(value: str, where: str = "--mount") -> Mount:
    """Parse the comma-separated ``key=value`` list of a ``--mount`` flag."""
    options: list[tuple[str, str]] = []
    for field in value.split(","):
        field = field.strip()
        if not field:
            continue
        key, sep, val = field.partition("=")
        key = key.strip().lower()
        # Bare words such as ``ro`` or ``readonly`` are booleans set to true.
        options.append((key, val.strip() if sep else "true"))
    kinds = [v for k, v in options if k == "type"]
    kind = kinds[-1] if kinds else "bind"
    if kind not in MOUNT_TYPES:
        raise FlagError(
            f"{where}: --mount type {kind!r} is unknown "
            f"(use one of {', '.join(sorted(MOUNT_TYPES))})"
        )
    targets = [v for k, v in options if k in _TARGET_KEYS]
    target = targets[-1] if targets else None
    if target is None and kind in ("bind", "cache", "tmpfs"):
        raise FlagError(f"{where}: --mount type={kind} needs a target=PATH")
    return Mount(type=kind, target=target, options=tuple(options), raw=value)
