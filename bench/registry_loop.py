"""Manifest GET rate while a large push runs (issue 13): storage and database work of
pushes must not stall the event loop that answers everyone else.

For each registry on a fresh root: push a small image through the API, measure the GET
rate of its manifest with wrk (16 connections, 2 threads) idle, and again while skopeo
pushes the ~500 MB bench image (every blob new to the registry). Registries:
Lamina as built from this tree; with ``--before-src DIR``, Lamina from another source
tree (e.g. ``git archive <commit> src | tar -x -C DIR``) run by the same interpreter;
and Debian's ``docker-registry`` (CNCF distribution 2.8). Printed: each rate, the
during/idle ratio, and Lamina/distribution ratios.

    .venv/bin/python bench/registry_loop.py [--mb 500] [--duration 10] [--rounds 2]
        [--before-src DIR] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from registry import (  # the registry bench's image and helpers
    build_image,
    distribution_registry,
    free_port,
    serving,
    wrk_get_rate,
)


@contextmanager
def lamina_registry(work: Path, src: Path | None) -> Iterator[str]:
    port = free_port()
    root = work / "lamina-root"
    env = {**os.environ, "LAMINA_REGISTRY_ACCESS_LOG": "false",
           "LAMINA_REGISTRY_MAX_CLIENT_REQUESTS": "0"}
    if src is not None:
        env["PYTHONPATH"] = str(src)  # ahead of the editable install of this tree
    with serving([sys.executable, "-c", "from lamina.cli.main import main; main()", "registry",
                  "serve", "--addr", f"127.0.0.1:{port}", "--root", str(root)],
                 port=port, root=root, log_path=work / "lamina.log", env=env) as host:
        yield host


def push(layout: Path, host: str, repo: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:v1",
                             f"docker://{host}/{repo}:v1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def small_image(host: str) -> str:
    """A one-layer image pushed through the API; its manifest is what wrk fetches."""
    config = b'{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}'
    layer = b"small layer"
    with httpx.Client(base_url=f"http://{host}", timeout=60) as c:
        for blob in (config, layer):
            digest = "sha256:" + hashlib.sha256(blob).hexdigest()
            location = c.post("/v2/bench/small/blobs/uploads/").headers["Location"]
            # distribution's Location carries its own query (_state): keep it.
            url = httpx.URL(location).copy_merge_params({"digest": digest})
            c.put(url, content=blob).raise_for_status()
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": _descriptor("application/vnd.oci.image.config.v1+json", config),
                    "layers": [_descriptor("application/vnd.oci.image.layer.v1.tar", layer)]}
        c.put("/v2/bench/small/manifests/v1", content=json.dumps(manifest).encode(),
              headers={"Content-Type": manifest["mediaType"]}).raise_for_status()
    return f"http://{host}/v2/bench/small/manifests/v1"


def _descriptor(media_type: str, data: bytes) -> dict[str, object]:
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
            "size": len(data)}


def one_round(host: str, layout: Path, work: Path, duration: int) -> dict[str, float]:
    url = small_image(host)
    idle = wrk_get_rate(url, duration, work, connections=16)
    start = time.perf_counter()
    pushing = push(layout, host, "bench/img")  # every blob new to this registry
    ended: list[float] = []

    def wait_push() -> None:
        pushing.wait()
        ended.append(time.perf_counter())

    waiter = threading.Thread(target=wait_push)
    waiter.start()
    during = wrk_get_rate(url, duration, work, connections=16)
    waiter.join()
    if pushing.returncode != 0:
        raise SystemExit(f"the concurrent push failed: "
                         f"{pushing.communicate()[1].decode()[-2000:]}")
    # When the push ends before wrk, part of the "during" window had no push running.
    return {"idle_rps": idle, "during_push_rps": during, "push_seconds": ended[0] - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before-src", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    layout = build_image(args.mb)
    names = ["lamina", *(["lamina-before"] if args.before_src else []), "distribution"]
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="lamina-bench-loop-") as tmp:
        work = Path(tmp)
        for n in range(args.rounds):
            for name in names if n % 2 == 0 else reversed(names):
                registry = (distribution_registry(work) if name == "distribution" else
                            lamina_registry(work, args.before_src if name == "lamina-before"
                                            else None))
                with registry as host:
                    figures = one_round(host, layout, work, args.duration)
                results[name].append(figures)
                print(f"round {n + 1} {name}: " + ", ".join(
                    f"{k}={v:.1f}" for k, v in figures.items()), file=sys.stderr)
    best = {name: {key: max(r[key] for r in runs) for key in ("idle_rps", "during_push_rps")}
            for name, runs in results.items()}
    if args.json:
        print(json.dumps({"best": best, "runs": results}, indent=2))
        return
    print("manifest GET, 16 connections (best of rounds), idle and during a "
          f"{args.mb} MB push")
    for name, figures in best.items():
        print(f"  {name:15} idle {figures['idle_rps']:9.0f}/s   during push "
              f"{figures['during_push_rps']:9.0f}/s   during/idle "
              f"{figures['during_push_rps'] / figures['idle_rps']:.2f}")
    peer = best["distribution"]
    for name in names[:-1]:
        print(f"  {name}/distribution during push: "
              f"{best[name]['during_push_rps'] / peer['during_push_rps']:.2f}")


if __name__ == "__main__":
    main()
