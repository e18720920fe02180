"""Memory under oversized bodies (issue 18): the registry's peak RSS while 16 clients at
once send 256 MiB bodies to each endpoint whose body is not blob data, beside
Debian's `docker-registry` (CNCF distribution 2.8) on its manifest endpoint.

For each endpoint, 16 raw sockets each send a request declaring (or, chunked, not
declaring) 256 MiB and then stream the body in 256 KiB blocks until the server answers
or closes; RSS of every process of the server's process group is sampled every 10 ms.
Reported: the peak rise over the idle RSS, in MiB (target: under 64), and the bytes the
server accepted before refusing. Loopback only; at most 16 x 256 MiB are sent.

    .venv/bin/python bench/registry_memory.py [--clients 16] [--mib 256] [--json]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from registry_auth import PASSWORD, USER, distribution_registry

from registry import _stop, free_port  # the registry bench's helpers

LAMINA = Path(sys.executable).parent / "lamina"
BLOCK = 256 * 1024


def group_rss(pgid: int) -> int:
    """Resident bytes of every process in the group (the server and its workers)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) != pgid:
                continue
            total += int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


class Sampler(threading.Thread):
    def __init__(self, pgid: int) -> None:
        super().__init__(daemon=True)
        self.pgid, self.peak, self.running = pgid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, group_rss(self.pgid))
            time.sleep(0.01)


def send_one(port: int, head: bytes, size: int, chunked: bool, sent: list[int]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        framing = b"Transfer-Encoding: chunked\r\n" if chunked else (
            b"Content-Length: %d\r\n" % size)
        sock.sendall(head + framing + b"\r\n")
        block = b"a" * BLOCK
        frame = b"%x\r\n%s\r\n" % (BLOCK, block) if chunked else block
        done = 0
        sock.setblocking(False)
        try:
            while done < size:
                try:
                    if sock.recv(65536) is not None:
                        break  # the server answered (or closed): it stopped reading
                except BlockingIOError:
                    pass
                try:
                    sock.setblocking(True)
                    sock.settimeout(5)
                    sock.sendall(frame)
                    sock.setblocking(False)
                except (BrokenPipeError, ConnectionResetError, TimeoutError):
                    break
                done += BLOCK
        finally:
            sent.append(done)


def load(port: int, pgid: int, head: bytes, clients: int, size: int,
         chunked: bool) -> tuple[float, float]:
    """(peak RSS rise in MiB, mean MiB sent per client before the server stopped)."""
    time.sleep(0.5)
    idle = group_rss(pgid)
    sampler = Sampler(pgid)
    sampler.start()
    sent: list[int] = []
    threads = [threading.Thread(target=send_one, args=(port, head, size, chunked, sent))
               for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.5)
    sampler.running = False
    sampler.join()
    return (sampler.peak - idle) / 2**20, sum(sent) / max(len(sent), 1) / 2**20


@contextmanager
def lamina_token_registry(work: Path) -> Iterator[tuple[int, int]]:
    from lamina.registry.auth.admin import Actor, Administration
    from lamina.registry.auth.store import AccessStore

    root = work / "lamina"
    root.mkdir()
    store = AccessStore(root)
    Administration(store, None).add_user(Actor("bench", "bench"), USER, PASSWORD, admin=True)
    store.close()
    port = free_port()
    log = (work / "lamina.log").open("ab")
    env = {**os.environ, "LAMINA_REGISTRY_ACCESS_LOG": "false"}
    proc = subprocess.Popen([str(LAMINA), "registry", "serve", "--addr", f"127.0.0.1:{port}",
                             "--root", str(root), "--auth", "token"], stdout=log, stderr=log,
                            env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield port, proc.pid
    finally:
        _stop(proc)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    size = args.mib * 2**20
    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="lamina-bench-mem-") as tmp:
        work = Path(tmp)
        with lamina_token_registry(work) as (port, pgid):
            token = httpx.get(f"http://127.0.0.1:{port}/auth/token",
                              params={"service": "lamina-registry",
                                      "scope": "repository:bench/img:pull,push"},
                              auth=(USER, PASSWORD)).json()["token"]
            heads = {
                "POST /auth/token": "POST /auth/token HTTP/1.1\r\nHost: x\r\n"
                                    "Content-Type: application/x-www-form-urlencoded\r\n",
                "POST /api/v1/users": f"POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
                                      f"Authorization: {basic}\r\n",
                "PUT manifest": f"PUT /v2/bench/img/manifests/v1 HTTP/1.1\r\nHost: x\r\n"
                                f"Authorization: Bearer {token}\r\n"
                                "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n",
            }
            for name, head in heads.items():
                for chunked in (False, True):
                    rise, sent = load(port, pgid, head.encode(), args.clients, size, chunked)
                    results[f"lamina {name} {'chunked' if chunked else 'declared'}"] = {
                        "rss_rise_mib": round(rise, 1), "mib_sent_per_client": round(sent, 2)}
        with distribution_registry(work, True) as host:
            port = int(host.rsplit(":", 1)[1])
            dist = subprocess.run(["pgrep", "-f", f"{work}/distribution-True.yml"],
                                  capture_output=True, text=True).stdout.split()
            pgid = os.getpgid(int(dist[0])) if dist else 0
            head = (f"PUT /v2/bench/img/manifests/v1 HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: {basic}\r\n"
                    "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n")
            for chunked in (False, True):
                rise, sent = load(port, pgid, head.encode(), args.clients, size, chunked)
                results[f"distribution PUT manifest {'chunked' if chunked else 'declared'}"] = {
                    "rss_rise_mib": round(rise, 1), "mib_sent_per_client": round(sent, 2)}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{args.clients} clients x {args.mib} MiB bodies; peak RSS rise (target < 64 MiB)")
    for name, figures in results.items():
        print(f"  {name:45} {figures['rss_rise_mib']:8.1f} MiB   "
              f"{figures['mib_sent_per_client']:8.2f} MiB sent per client")
    for kind in ("declared", "chunked"):
        ours = results[f"lamina PUT manifest {kind}"]["rss_rise_mib"]
        peer = results[f"distribution PUT manifest {kind}"]["rss_rise_mib"]
        print(f"  manifest PUT {kind}: Lamina/distribution RSS rise ratio "
              f"{ours / peer if peer > 0 else float('nan'):.2f}")


if __name__ == "__main__":
    main()
