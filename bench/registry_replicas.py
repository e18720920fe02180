"""Replicas under concurrent load: 8 clients push different images at once through nginx
to 1 and then 2 Lamina replicas (blobs in Ceph RGW, metadata in PostgreSQL), while a
prober GETs one manifest in a loop.

Printed for each replica count: aggregate push throughput (MB/s over the whole run),
p50/p99 latency of the manifest GETs during the pushes, and the replicas' CPU seconds
per GB pushed. On a 2-core machine that also runs Ceph, PostgreSQL and nginx, a second
replica cannot add cores; the figures say what the replicas cost, not how they scale.

    .venv/bin/python bench/registry_replicas.py [--clients 8] [--mb 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from registry_s3 import cpu_seconds, empty_bucket, s3_client, services

from registry import LAMINA, _stop, _wait, build_image, free_port, image_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.registry.scaleout.services import Nginx


def start_replicas(work: Path, count: int, s3: dict[str, str], bucket: str,
                   database: str) -> list[tuple[subprocess.Popen[bytes], str]]:
    env_base = {"LAMINA_REGISTRY_STORAGE": "s3", "LAMINA_REGISTRY_S3_ENDPOINT": s3["S3_ENDPOINT"],
                "LAMINA_REGISTRY_S3_BUCKET": bucket,
                "LAMINA_REGISTRY_S3_ACCESS_KEY": s3["S3_ACCESS_KEY"],
                "LAMINA_REGISTRY_S3_SECRET_KEY": s3["S3_SECRET_KEY"],
                "LAMINA_REGISTRY_DATABASE": database,
                "LAMINA_REGISTRY_MIGRATE_ON_START": "true",
                "LAMINA_REGISTRY_ACCESS_LOG": "false"}
    replicas = []
    for i in range(count):
        port = free_port()
        log = (work / f"replica{i}.log").open("ab")
        proc = subprocess.Popen([str(LAMINA), "registry", "serve", "--addr",
                                 f"127.0.0.1:{port}", "--root", str(work / f"root{i}")],
                                stdout=log, stderr=log, env={**os.environ, **env_base},
                                start_new_session=True)
        replicas.append((proc, _wait(proc, port)))
    return replicas


def probe(url: str, stop: threading.Event, latencies: list[float]) -> None:
    accept = "application/vnd.oci.image.manifest.v1+json"
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            start = time.perf_counter()
            r = client.get(url, headers={"Accept": accept})
            if r.status_code == 200:
                latencies.append(time.perf_counter() - start)
            time.sleep(0.01)


def one_setting(work: Path, count: int, layouts: list[Path], s3: dict[str, str],
                database: str) -> dict[str, float]:
    client = s3_client(s3)
    bucket = f"replicas-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    run_dir = work / f"r{count}-{bucket}"
    run_dir.mkdir(parents=True)
    replicas = start_replicas(run_dir, count, s3, bucket, database)
    nginx = Nginx(work / f"nginx-{bucket}", [host for _, host in replicas]).start()
    try:
        seed = ["skopeo", "copy", "--dest-tls-verify=false", f"oci:{layouts[0]}:v1",
                f"docker://{nginx.host}/probe/img:v1"]
        subprocess.run(seed, check=True, capture_output=True)
        stop, latencies = threading.Event(), list[float]()
        prober = threading.Thread(target=probe, args=(
            f"{nginx.url}/v2/probe/img/manifests/v1", stop, latencies))
        before = sum(cpu_seconds(proc.pid) for proc, _ in replicas)
        prober.start()
        start = time.perf_counter()
        pushes = [subprocess.Popen(["skopeo", "copy", "--dest-tls-verify=false",
                                    f"oci:{layout}:v1", f"docker://{nginx.host}/c{i}/img:v1"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                  for i, layout in enumerate(layouts)]
        for push in pushes:
            if push.wait() != 0:
                raise SystemExit(f"a push failed: {push.stderr.read() if push.stderr else ''}")
        elapsed = time.perf_counter() - start
        stop.set()
        prober.join()
        cpu = sum(cpu_seconds(proc.pid) for proc, _ in replicas) - before
    finally:
        nginx.stop()
        for proc, _ in replicas:
            _stop(proc)
        empty_bucket(client, bucket)
    total = sum(image_bytes(layout) for layout in layouts)
    latencies.sort()
    return {"push_MB_per_s": total / 1e6 / elapsed, "seconds": elapsed,
            "manifest_get_p50_ms": 1000 * statistics.median(latencies),
            "manifest_get_p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
            "cpu_s_per_gb": cpu / (total / 1e9)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--mb", type=int, default=40, help="size of each client's image")
    args = parser.parse_args()
    # Different sizes give different layer bytes, so every client pushes its own blobs.
    layouts = [build_image(args.mb + i) for i in range(args.clients)]
    results = {}
    with tempfile.TemporaryDirectory(prefix="lamina-bench-replicas-") as tmp:
        work = Path(tmp)
        with services(work) as (s3, database):
            for count in (1, 2):
                results[count] = one_setting(work, count, layouts, s3, database)
                print(f"{count} replica(s): " + ", ".join(
                    f"{k}={v:.2f}" for k, v in results[count].items()), file=sys.stderr)
    print(f"{args.clients} clients pushing {args.mb}-{args.mb + args.clients - 1} MB images "
          "through nginx (Ceph RGW + PostgreSQL)")
    print(f"{'figure':<22}{'1 replica':>12}{'2 replicas':>12}")
    for key in results[1]:
        print(f"{key:<22}{results[1][key]:>12.2f}{results[2][key]:>12.2f}")


if __name__ == "__main__":
    main()
