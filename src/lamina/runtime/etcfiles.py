"""The /etc/hosts, /etc/hostname and /etc/resolv.conf a container gets, as docker writes them.

With the host's network the container sees the host's own hosts and resolver
files (docker's ``--network host``); with no network it gets docker's default
loopback-only hosts file. These files are bind-mounted, never written into the
image's filesystem.
"""

from __future__ import annotations

from pathlib import Path

from lamina.runtime.spec import Network

DEFAULT_HOSTS = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)


# slirp4netns's fixed addresses (its defaults for 10.0.2.0/24): the container, its DNS.
PRIVATE_ADDRESS = "10.0.2.100"
PRIVATE_DNS = "10.0.2.3"


def hosts_text(network: Network, host_hosts: str | None, hostname: str = "") -> str:
    """The container's /etc/hosts: the host's with its network, docker's default without.

    A private network adds the container's own address and name, as docker's bridge does.
    """
    if network == "host" and host_hosts is not None:
        return host_hosts
    if network == "private" and hostname:
        return DEFAULT_HOSTS + f"{PRIVATE_ADDRESS}\t{hostname}\n"
    return DEFAULT_HOSTS


def resolv_text(host_resolv: str | None, network: Network = "host") -> str:
    """The container's /etc/resolv.conf: the host's (docker copies it; empty when absent).

    On a private network the host's loopback resolvers are out of reach: slirp4netns's
    DNS forwarder (which asks the host's resolvers) takes their place.
    """
    if network == "private":
        return f"nameserver {PRIVATE_DNS}\n"
    return host_resolv or ""


def write_etc_files(directory: Path, network: Network, hostname: str) -> dict[str, Path]:
    """Write the three files into ``directory``; map each container path to its host file."""
    files = {
        "/etc/hostname": hostname + "\n",
        "/etc/hosts": hosts_text(network, _read(Path("/etc/hosts")), hostname),
        "/etc/resolv.conf": resolv_text(_read(Path("/etc/resolv.conf")), network),
    }
    out = {}
    for target, text in files.items():
        path = directory / target.rsplit("/", 1)[1]
        path.write_text(text)
        path.chmod(0o644)
        out[target] = path
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None
