"""What ``lamina run`` was asked for, as docker run's flags mean it, checked before any start."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamina.errors import LaminaError
from lamina.runtime import BindMount
from lamina.runtime.ports import PortMapping
from lamina.runtime.spec import Network


class BadRunOption(LaminaError):
    """A run flag whose value cannot be used."""


def parse_mount(text: str) -> BindMount:
    """``--mount type=bind,source=/a,target=/b[,readonly]`` (docker's keys and aliases).

    Unlike ``-v``, a missing source is an error, as in docker.
    """
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        fields[key.strip()] = value if sep else "true"
    kind = fields.pop("type", "volume")
    if kind != "bind":
        raise BadRunOption(f"--mount {text}: only type=bind is supported (volumes and tmpfs"
                           " are not)")
    source = fields.pop("source", None) or fields.pop("src", None)
    target = fields.pop("target", None) or fields.pop("destination", None) \
        or fields.pop("dst", None)
    readonly = False
    for key in ("readonly", "ro"):
        if key in fields:
            readonly = fields.pop(key) in ("true", "1")
    if fields:
        raise BadRunOption(f"--mount {text}: unknown key(s) {', '.join(sorted(fields))}")
    if not source or not target:
        raise BadRunOption(f"--mount {text}: needs source= and target=")
    if not Path(source).exists():
        raise BadRunOption(f"--mount {text}: bind source path does not exist: {source}")
    return BindMount.parse(f"{Path(source).absolute()}:{target}:{'ro' if readonly else 'rw'}")


@dataclass(frozen=True)
class RunOptions:
    """One ``lamina run``: image config overrides and container settings."""

    command: Sequence[str] = ()
    entrypoint: str | None = None  # "" clears the image's Entrypoint, as docker's
    env: Sequence[str] = ()
    workdir: str | None = None
    user: str | None = None
    binds: Sequence[BindMount] = ()
    read_only: bool = False
    init: bool = False
    network: Network = "private"
    ports: Sequence[PortMapping] = ()
    tty: bool = False
    interactive: bool = False
    name: str = ""

    def check(self) -> None:
        if self.workdir is not None and not self.workdir.startswith("/"):
            raise BadRunOption(f"-w {self.workdir}: the working directory must be absolute")
        if self.ports and self.network != "private":
            raise BadRunOption(f"-p needs the container's own network; --network {self.network}"
                               " has no ports to publish")
        for entry in self.env:
            if "=" not in entry or entry.startswith("="):
                raise BadRunOption(f"-e {entry}: expected KEY=VALUE")

    def to_doc(self) -> dict[str, Any]:
        return {"command": list(self.command), "entrypoint": self.entrypoint,
                "env": list(self.env), "workdir": self.workdir, "user": self.user,
                "binds": [[str(b.source), b.target, b.readonly] for b in self.binds],
                "read_only": self.read_only, "init": self.init, "network": self.network,
                "ports": [[p.host_ip, p.host_port, p.container_port, p.protocol]
                          for p in self.ports],
                "tty": self.tty, "interactive": self.interactive, "name": self.name}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> RunOptions:
        return cls(command=doc["command"], entrypoint=doc["entrypoint"], env=doc["env"],
                   workdir=doc["workdir"], user=doc["user"],
                   binds=[BindMount(Path(s), t, r) for s, t, r in doc["binds"]],
                   read_only=doc["read_only"], init=doc["init"], network=doc["network"],
                   ports=[PortMapping(a, b, c, d) for a, b, c, d in doc["ports"]],
                   tty=doc["tty"], interactive=doc["interactive"], name=doc["name"])
