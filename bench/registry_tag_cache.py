"""Manifest GETs by tag on Ceph RGW + PostgreSQL with the per-replica tag cache
(``tag_cache_seconds = 60``, invalidated through LISTEN/NOTIFY) against the same registry
without it (``tag_cache_seconds = 0``): requests per second (wrk, 4 connections), and
the CPU seconds the registry and PostgreSQL spend per 1,000 requests.

One throwaway Ceph cluster and PostgreSQL (as bench/registry_s3.py starts them), one
replica with one worker, one small image; the two settings alternate over the rounds.
The peer is the same registry with the cache off: that is the comparison the cache has
to win.

    .venv/bin/python bench/registry_tag_cache.py [--rounds 3] [--seconds 10]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from registry_s3 import cpu_seconds, empty_bucket, lamina_on_s3, s3_client, services

from registry import wrk_get_rate

MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def push_small_image(host: str) -> None:
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layer = b"tag cache bench layer"
    with httpx.Client(base_url=f"http://{host}", timeout=60) as c:
        for blob in (config, layer):
            digest = "sha256:" + hashlib.sha256(blob).hexdigest()
            r = c.post("/v2/bench/app/blobs/uploads/", params={"digest": digest}, content=blob)
            assert r.status_code == 201, r.text
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
                       "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": "sha256:" + hashlib.sha256(layer).hexdigest(),
                        "size": len(layer)}]}).encode()
        r = c.put("/v2/bench/app/manifests/latest", content=manifest,
                  headers={"Content-Type": MANIFEST})
        assert r.status_code == 201, r.text


def postgres_cpu(port: str) -> float:
    """CPU seconds of the PostgreSQL server listening on ``port`` and its backends."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = None
    stats: dict[int, tuple[int, int]] = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        pid = int(proc.name)
        stats[pid] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        if b"-p" in cmdline and port.encode() in cmdline and cmdline[0].endswith(b"postgres"):
            postmaster = pid
    if postmaster is None:
        raise SystemExit(f"no PostgreSQL on port {port}")
    return sum(cpu for pid, (ppid, cpu) in stats.items()
               if pid == postmaster or ppid == postmaster) / tick


def one_round(work: Path, s3: dict[str, str], database: str, cache_seconds: int,
              seconds: int) -> dict[str, float]:
    client = s3_client(s3)
    bucket = f"tags-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    os.environ["LAMINA_REGISTRY_TAG_CACHE_SECONDS"] = str(cache_seconds)
    port = database.rsplit(":", 1)[1].split("/")[0]
    try:
        with lamina_on_s3(work, s3, bucket, database, False) as (host, pgid):
            push_small_image(host)
            url = f"http://{host}/v2/bench/app/manifests/latest"
            wrk_get_rate(url, 2, work, connections=4)  # warm up
            registry_before, pg_before = cpu_seconds(pgid), postgres_cpu(port)
            rate = wrk_get_rate(url, seconds, work, connections=4)
            requests = rate * seconds
            return {"rate": rate,
                    "registry_cpu_per_1000": (cpu_seconds(pgid) - registry_before)
                    / requests * 1000,
                    "postgres_cpu_per_1000": (postgres_cpu(port) - pg_before)
                    / requests * 1000}
    finally:
        del os.environ["LAMINA_REGISTRY_TAG_CACHE_SECONDS"]
        empty_bucket(client, bucket)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    results: dict[int, list[dict[str, float]]] = {60: [], 0: []}
    with tempfile.TemporaryDirectory(prefix="lamina-bench-tags-") as tmp:
        work = Path(tmp)
        with services(work) as (s3, database):
            for n in range(args.rounds):
                for cache in (60, 0) if n % 2 == 0 else (0, 60):
                    results[cache].append(one_round(work, s3, database, cache, args.seconds))
                    time.sleep(1)
    for key in ("rate", "registry_cpu_per_1000", "postgres_cpu_per_1000"):
        cached = statistics.median(r[key] for r in results[60])
        plain = statistics.median(r[key] for r in results[0])
        print(f"{key}: cached {cached:.3f}, uncached {plain:.3f}, ratio {cached / plain:.2f}x "
              f"(median of {args.rounds})")
    print(f"machine load (1/5/15 min): {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
