"""A container's own network with outbound access and published ports, through slirp4netns.

runc runs ``python -m lamina.runtime.slirp PORTS`` as a createRuntime hook
(runtime-spec config.md "POSIX-platform Hooks"): the container's namespaces
exist, its command has not started. The hook reads the container state (pid,
bundle) on stdin, starts slirp4netns on the namespace (tap0 at 10.0.2.100,
gateway 10.0.2.2, DNS 10.0.2.3; the host's loopback stays out of reach), waits
until slirp4netns reports the interface configured, adds each published port
through its API socket, records its pid in the bundle and exits. `stop` ends it
when the container is removed. Rootless podman's default network works the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lamina.errors import LaminaError
from lamina.runtime.ports import PortMapping

READY_TIMEOUT = 20.0


class NetworkError(LaminaError):
    """The private network could not be set up."""


def find_slirp4netns() -> str:
    found = shutil.which("slirp4netns") or shutil.which("slirp4netns", path="/usr/bin:/bin")
    if found is None:
        raise NetworkError("the default network needs slirp4netns (Debian: apt-get install"
                           " slirp4netns); or run with --network host or --network none")
    return found


def hook(ports: Sequence[PortMapping]) -> dict[str, Any]:
    """The createRuntime hook entry that starts the network for a container."""
    find_slirp4netns()  # refuse before runc starts, with the fix in the message
    doc = [[p.host_ip, p.host_port, p.container_port, p.protocol] for p in ports]
    return {"path": sys.executable,
            "args": [sys.executable, "-m", "lamina.runtime.slirp", json.dumps(doc)],
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "timeout": 30}


def _api(sock_path: Path, request: dict[str, Any]) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(sock_path))
        sock.sendall(json.dumps(request).encode())
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    answer: dict[str, Any] = json.loads(data or b"{}")
    return answer


def _wait_ready(fd: int, log: Path) -> None:
    ready, _, _ = select.select([fd], [], [], READY_TIMEOUT)
    if not ready or not os.read(fd, 1):
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
        raise NetworkError("slirp4netns did not configure the container's network: "
                           + (" / ".join(tail) or "no output"))


def start(pid: int, bundle: Path, ports: Sequence[PortMapping]) -> None:
    """Attach slirp4netns to ``pid``'s network namespace and publish ``ports``."""
    api = bundle / "slirp.sock"
    log = bundle / "slirp.log"
    read_fd, write_fd = os.pipe()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [find_slirp4netns(), "--configure", "--mtu=65520", "--disable-host-loopback",
             "--api-socket", str(api), "--ready-fd", str(write_fd), str(pid), "tap0"],
            pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=out, stderr=out,
            start_new_session=True)
    os.close(write_fd)
    (bundle / "slirp.pid").write_text(str(proc.pid))
    try:
        _wait_ready(read_fd, log)
    finally:
        os.close(read_fd)
    for port in ports:
        answer = _api(api, {"execute": "add_hostfwd", "arguments": {
            "proto": port.protocol, "host_addr": port.host_ip, "host_port": port.host_port,
            "guest_port": port.container_port}})
        if "return" not in answer:
            error = answer.get("error", {}).get("desc", answer)
            raise NetworkError(f"cannot publish {port}: {error} (is the host port in use?)")


def stop(bundle: Path) -> None:
    """End the container's slirp4netns, if one was started for it."""
    with contextlib.suppress(OSError, ValueError):
        os.kill(int((bundle / "slirp.pid").read_text()), signal.SIGTERM)


def main(argv: Sequence[str]) -> int:
    state = json.loads(sys.stdin.read())
    ports = [PortMapping(str(a), int(b), int(c), str(d)) for a, b, c, d in json.loads(argv[0])]
    try:
        start(int(state["pid"]), Path(state["bundle"]), ports)
    except (LaminaError, OSError) as exc:
        print(f"network: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
