"""What ``--add-host``, ``--shm-size`` and ``--ulimit`` give every RUN container of a build.

As ``docker buildx build``: ``--add-host NAME:IP`` (or ``NAME=IP``) adds lines to
/etc/hosts, ``--shm-size 128m`` sizes /dev/shm, ``--ulimit nofile=1024:2048``
sets an rlimit (soft[:hard]). Nothing of these reaches the image: the hosts
file is bind-mounted and /dev/shm is a tmpfs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamina.build.mountspec import ram_in_bytes
from lamina.errors import LaminaError

# docker's --ulimit names (moby pkg/ulimit) and the rlimits they set.
ULIMITS = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
           "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")


class RunOptionError(LaminaError):
    """An --add-host, --shm-size or --ulimit value that cannot be used."""


@dataclass(frozen=True)
class RunOptions:
    add_hosts: tuple[tuple[str, str], ...] = ()
    shm_size: int | None = None
    ulimits: tuple[tuple[str, int, int], ...] = ()

    @classmethod
    def parse(cls, add_hosts: tuple[str, ...] = (), shm_size: str | None = None,
              ulimits: tuple[str, ...] = ()) -> RunOptions:
        return cls(tuple(_host(h) for h in add_hosts),
                   _shm(shm_size) if shm_size else None,
                   tuple(_ulimit(u) for u in ulimits))

    def rlimits(self) -> dict[str, tuple[int, int]]:
        return {f"RLIMIT_{name.upper()}": (soft, hard) for name, soft, hard in self.ulimits}

    def mounts(self, network: str, scratch: Path) -> list[dict[str, Any]]:
        """Mounts that go over the defaults: a larger /dev/shm, an /etc/hosts with more lines."""
        out: list[dict[str, Any]] = []
        if self.shm_size is not None:
            out.append({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                        "options": ["nosuid", "noexec", "nodev", "mode=1777",
                                    f"size={self.shm_size}"]})
        if self.add_hosts:
            from lamina.runtime.etcfiles import hosts_text

            try:
                host = Path("/etc/hosts").read_text()
            except OSError:
                host = None
            text = hosts_text("none" if network == "none" else "host", host)
            text += "".join(f"{ip}\t{name}\n" for name, ip in self.add_hosts)
            path = scratch / "hosts"
            path.write_text(text)
            path.chmod(0o644)
            out.append({"destination": "/etc/hosts", "type": "bind", "source": str(path),
                        "options": ["rbind", "rprivate"]})
        return out


def _host(text: str) -> tuple[str, str]:
    sep = "=" if "=" in text else ":"
    name, _, ip = text.partition(sep)
    try:
        ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        raise RunOptionError(f"--add-host {text!r}: expected NAME:IP with a valid IP "
                             "address") from None
    if not name:
        raise RunOptionError(f"--add-host {text!r}: the host name is empty")
    return name, ip.strip("[]")


def _shm(text: str) -> int:
    try:
        return ram_in_bytes(text)
    except ValueError:
        raise RunOptionError(f"--shm-size {text!r}: not a size (e.g. 128m)") from None


def _ulimit(text: str) -> tuple[str, int, int]:
    name, sep, value = text.partition("=")
    if not sep or name not in ULIMITS:
        raise RunOptionError(f"--ulimit {text!r}: expected NAME=SOFT[:HARD] with NAME one of "
                             f"{', '.join(ULIMITS)}")
    soft_text, _, hard_text = value.partition(":")
    try:
        soft = int(soft_text)
        hard = int(hard_text) if hard_text else soft
    except ValueError:
        raise RunOptionError(f"--ulimit {text!r}: limits must be numbers") from None
    if soft > hard:
        raise RunOptionError(f"--ulimit {text!r}: soft limit {soft} is above hard limit {hard}")
    return name, soft, hard
