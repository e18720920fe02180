"""``RUN --mount``, ``--network`` and ``--security`` as the Dockerfile reference defines them.

Pure: a ``--mount`` the front end parsed and checked (`lamina.dockerfile.mounts`)
becomes a `MountSpec` with the reference's defaults filled in; ``--network`` and
``--security`` are checked against the entitlements the build was given.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, replace

from lamina.dockerfile.flags import Mount
from lamina.errors import LaminaError

NETWORKS = ("default", "none", "host")
SECURITY = ("sandbox", "insecure")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$", re.IGNORECASE)


class MountError(LaminaError):
    """A RUN --mount/--network/--security value the Dockerfile reference does not allow."""


@dataclass(frozen=True)
class MountSpec:
    """One mount with the reference's defaults applied."""

    type: str
    target: str  # "" for a secret given only as env=
    id: str = ""
    source: str = ""
    from_: str | None = None
    readonly: bool = False
    sharing: str = "shared"
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    required: bool = False
    size: int | None = None
    env: str | None = None

    def key(self) -> list[object]:
        """What the step's cache key records of this mount (never a secret's value)."""
        return [self.type, self.target, self.id, self.source, self.from_, self.readonly,
                self.sharing, self.mode, self.uid, self.gid, self.required, self.size, self.env]


def ram_in_bytes(text: str) -> int:
    """go-units RAMInBytes: ``64m``, ``1g``, ``512KiB``: binary multiples."""
    match = _SIZE.match(text.strip())
    if not match:
        raise ValueError(text)
    unit = "bkmgtp".index(match.group(2).lower() or "b")
    return int(float(match.group(1)) * 1024 ** unit)


def check_mount(mount: Mount, line: int, workdir: str, ssh_count: int) -> MountSpec:
    """The spec of one ``--mount`` on ``line`` (``ssh_count``: ssh mounts before it).

    The front end has checked keys, types and values (BuildKit's own rules); this
    fills in the reference's defaults. A relative or missing target is taken
    against the working directory, as BuildKit does.
    """
    where = f"line {line}: RUN --mount={mount.raw}"
    target = mount.target_in(workdir) if mount.target else ""
    if not target and mount.type in ("bind", "cache", "tmpfs"):
        target = mount.target_in(workdir)
    spec = MountSpec(type=mount.type, target=target, source=mount.source or "",
                     from_=mount.from_, readonly=mount.readonly,
                     sharing=mount.sharing or "shared", uid=mount.uid or 0,
                     gid=mount.gid or 0, required=mount.required, size=mount.size,
                     env=mount.env)
    if mount.type == "cache":
        return replace(spec, id=mount.id or target,
                       mode=0o755 if mount.mode is None else mount.mode)
    if mount.type == "secret":
        secret_id = mount.id or mount.source or posixpath.basename(target)
        if not secret_id:
            raise MountError(f"{where}: type=secret needs id=NAME")
        if not target and mount.env is None:
            target = f"/run/secrets/{secret_id}"
        return replace(spec, id=secret_id, target=target,
                       mode=0o400 if mount.mode is None else mount.mode)
    if mount.type == "ssh":
        return replace(spec, id=mount.id or "default",
                       target=target or f"/run/buildkit/ssh_agent.{ssh_count}",
                       mode=0o600 if mount.mode is None else mount.mode)
    return spec


def check_mounts(mounts: tuple[Mount, ...], line: int, workdir: str = "/") -> list[MountSpec]:
    specs: list[MountSpec] = []
    for mount in mounts:
        specs.append(check_mount(mount, line, workdir, sum(1 for s in specs if s.type == "ssh")))
    return specs


def _choice(flag: str, value: str | None, line: int, choices: tuple[str, ...],
            guarded: str, entitlement: str, allow: frozenset[str]) -> str:
    if value is None:
        return choices[0]
    if value not in choices:
        raise MountError(f"line {line}: RUN --{flag}={value} is unknown "
                         f"(use {', '.join(choices)})")
    if value == guarded and entitlement not in allow:
        raise MountError(f"line {line}: RUN --{flag}={value} needs the {entitlement} "
                         f"entitlement: pass --allow {entitlement}")
    return value


def check_network(value: str | None, line: int, allow: frozenset[str]) -> str:
    """``RUN --network``: default, none or host (host needs ``--allow network.host``)."""
    return _choice("network", value, line, NETWORKS, "host", "network.host", allow)


def check_security(value: str | None, line: int, allow: frozenset[str]) -> str:
    """``RUN --security``: sandbox, or insecure with ``--allow security.insecure``."""
    return _choice("security", value, line, SECURITY, "insecure", "security.insecure", allow)
