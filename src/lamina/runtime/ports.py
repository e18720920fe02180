"""Published ports: ``-p [IP:]HOST:CONTAINER[/tcp|udp]`` as docker run takes them."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from lamina.errors import LaminaError


class BadPort(LaminaError):
    """A -p value that is not [IP:]HOST:CONTAINER[/tcp|udp]."""


def _port(text: str, spec: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise BadPort(f"-p {spec}: {text!r} is not a port number (1-65535)")
    return int(text)


@dataclass(frozen=True)
class PortMapping:
    """Connections to ``host_ip:host_port`` on the host reach ``container_port`` inside."""

    host_ip: str
    host_port: int
    container_port: int
    protocol: str = "tcp"

    @classmethod
    def parse(cls, spec: str) -> PortMapping:
        text, _, protocol = spec.partition("/")
        protocol = protocol or "tcp"
        if protocol not in ("tcp", "udp"):
            raise BadPort(f"-p {spec}: protocol must be tcp or udp, not {protocol!r}")
        host_ip = "0.0.0.0"  # docker's default: every host address
        if text.startswith("["):  # [IPv6]:HOST:CONTAINER
            end = text.find("]")
            host_ip, text = text[1:end], text[end + 2:]
        elif text.count(":") == 2:
            host_ip, text = text.split(":", 1)
        host, sep, container = text.partition(":")
        if not sep:
            raise BadPort(f"-p {spec}: expected [IP:]HOST:CONTAINER (both ports given)")
        try:
            ipaddress.ip_address(host_ip)
        except ValueError as exc:
            raise BadPort(f"-p {spec}: {host_ip!r} is not an IP address") from exc
        return cls(host_ip, _port(host, spec), _port(container, spec), protocol)

    def __str__(self) -> str:
        return f"{self.host_ip}:{self.host_port}->{self.container_port}/{self.protocol}"
