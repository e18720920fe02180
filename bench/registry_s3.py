"""Registry on object storage: Lamina (blobs in Ceph RGW, metadata in PostgreSQL) against
Debian's ``docker-registry`` (CNCF distribution 2.8) with its s3 driver on the same RGW.

One throwaway Ceph cluster (scripts/ceph-rgw.sh) and one PostgreSQL (scripts/postgres.sh)
on loopback; each registry gets a fresh bucket per round. Same client (skopeo), same
~500 MB image as bench/registry.py (cached):

- cold push, re-push (every blob present), pull into a fresh OCI layout; after the cold
  push the bench waits until the registry's background jobs are over (Lamina's registry
  indexes the pushed layers then; distribution does no such work): ``cold_push_settled``
  is the wall time until then;
- CPU seconds the registry's processes used per GB moved (push, its indexing, and pull
  together), the figure that says how many replicas a load needs on these 2-core machines.

distribution runs with ``AWS_CA_BUNDLE`` removed from its environment (it panics loading
the CA bundle otherwise). Rounds alternate; best and median of the rounds are printed
with Lamina/distribution ratios.

    .venv/bin/python bench/registry_s3.py [--mb 500] [--rounds 3] [--redirect] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from registry import (
    LAMINA,
    _stop,
    _wait,
    cpu_seconds,
    free_port,
    image_bytes,
    layer_count,
    prepare,
    settle,
    timed,
)

REPO = Path(__file__).resolve().parents[1]


def _env_file(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.split())


@contextmanager
def services(work: Path) -> Iterator[tuple[dict[str, str], str]]:
    """(S3 endpoint and keys, PostgreSQL URL) of a fresh Ceph cluster and PostgreSQL."""
    ceph_dir, pg_dir = work / "ceph", Path(tempfile.mkdtemp(prefix="lamina-bench-pg-"))
    env = {**os.environ, "CEPH_MEMSTORE_BYTES": str(12 << 30)}
    s3 = _env_file(subprocess.run(["bash", REPO / "scripts/ceph-rgw.sh", "start", ceph_dir,
                                   str(free_port())], check=True, capture_output=True,
                                  text=True, env=env).stdout)
    try:
        pg = _env_file(subprocess.run(["bash", REPO / "scripts/postgres.sh", "start", pg_dir,
                                       str(free_port())], check=True, capture_output=True,
                                      text=True).stdout)
        try:
            yield s3, pg["DATABASE_URL"]
        finally:
            subprocess.run(["bash", REPO / "scripts/postgres.sh", "stop", pg_dir], check=False)
            shutil.rmtree(pg_dir, ignore_errors=True)
    finally:
        subprocess.run(["bash", REPO / "scripts/ceph-rgw.sh", "stop", ceph_dir], check=False)


def s3_client(s3: dict[str, str]) -> Any:
    return boto3.session.Session().client(
        "s3", endpoint_url=s3["S3_ENDPOINT"], region_name="us-east-1",
        aws_access_key_id=s3["S3_ACCESS_KEY"], aws_secret_access_key=s3["S3_SECRET_KEY"],
        config=Config(s3={"addressing_style": "path"},
                      request_checksum_calculation="when_required"))


def empty_bucket(client: Any, bucket: str) -> None:
    """Free the memstore OSD's RAM for the next round."""
    c = client
    pages = c.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    for page in pages:
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            c.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    uploads = c.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    for upload in uploads:
        c.abort_multipart_upload(Bucket=bucket, Key=upload["Key"],
                                 UploadId=upload["UploadId"])
    c.delete_bucket(Bucket=bucket)


@contextmanager
def lamina_on_s3(work: Path, s3: dict[str, str], bucket: str, database: str,
                 redirect: bool) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "LAMINA_REGISTRY_STORAGE": "s3",
           "LAMINA_REGISTRY_S3_ENDPOINT": s3["S3_ENDPOINT"], "LAMINA_REGISTRY_S3_BUCKET": bucket,
           "LAMINA_REGISTRY_S3_ACCESS_KEY": s3["S3_ACCESS_KEY"],
           "LAMINA_REGISTRY_S3_SECRET_KEY": s3["S3_SECRET_KEY"],
           "LAMINA_REGISTRY_DATABASE": database, "LAMINA_REGISTRY_MIGRATE_ON_START": "true",
           "LAMINA_REGISTRY_REDIRECT": str(redirect).lower(),
           "LAMINA_REGISTRY_ACCESS_LOG": "false"}
    log = (work / "lamina.log").open("ab")
    proc = subprocess.Popen([str(LAMINA), "registry", "serve", "--addr", f"127.0.0.1:{port}",
                             "--root", str(work / f"root-{bucket}")], stdout=log, stderr=log,
                            env=env, start_new_session=True)
    try:
        yield _wait(proc, port), proc.pid
    finally:
        _stop(proc)
        log.close()


@contextmanager
def distribution_on_s3(work: Path, s3: dict[str, str], bucket: str) -> Iterator[tuple[str, int]]:
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    port = free_port()
    config = work / f"distribution-{bucket}.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  s3:\n"
        f"    accesskey: {s3['S3_ACCESS_KEY']}\n    secretkey: {s3['S3_SECRET_KEY']}\n"
        f"    region: us-east-1\n    regionendpoint: {s3['S3_ENDPOINT']}\n"
        f"    bucket: {bucket}\n    secure: false\n    v4auth: true\n"
        "  delete:\n    enabled: true\n  redirect:\n    disable: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n")
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    log = (work / "distribution.log").open("ab")
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log, env=env,
                            start_new_session=True)
    try:
        yield _wait(proc, port), proc.pid
    finally:
        _stop(proc)
        log.close()


def one_round(host: str, pgid: int, layout: Path, work: Path) -> dict[str, float]:
    dest = f"docker://{host}/bench/img:v1"
    push = ["skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:v1", dest]
    before = cpu_seconds(pgid)
    start = time.perf_counter()
    figures = {"cold_push": timed(push)}
    # Lamina's registry indexes the pushed layers after the push (distribution does not):
    # that CPU counts in cpu_s_per_gb, and the re-push and pull start on an idle registry.
    settle(host, layer_count(layout))
    figures["cold_push_settled"] = time.perf_counter() - start
    figures["re_push"] = timed(push)
    pulled = work / "pulled"
    figures["pull"] = timed(["skopeo", "copy", "--src-tls-verify=false", dest,
                             f"oci:{pulled}:v1"])
    shutil.rmtree(pulled)
    moved_gb = 2 * image_bytes(layout) / 1e9  # pushed once, pulled once
    figures["cpu_s_per_gb"] = (cpu_seconds(pgid) - before) / moved_gb
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redirect", action="store_true",
                        help="Lamina answers blob GETs with 307 to presigned URLs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    layout = prepare("skopeo", "docker-registry", "radosgw", "ceph-mon", "ceph-osd", mb=args.mb)
    results: dict[str, list[dict[str, float]]] = {"lamina": [], "distribution": []}
    with tempfile.TemporaryDirectory(prefix="lamina-bench-s3-") as tmp:
        work = Path(tmp)
        with services(work) as (s3, database):
            client = s3_client(s3)
            for n in range(args.rounds):
                for name in ("distribution", "lamina") if n % 2 else ("lamina", "distribution"):
                    bucket = f"{name}-{uuid.uuid4().hex[:8]}"
                    client.create_bucket(Bucket=bucket)
                    registry = (lamina_on_s3(work, s3, bucket, database, args.redirect)
                                if name == "lamina" else distribution_on_s3(work, s3, bucket))
                    with registry as (host, pgid):
                        figures = one_round(host, pgid, layout, work)
                    results[name].append(figures)
                    empty_bucket(client, bucket)
                    time.sleep(1)
                    print(f"round {n + 1} {name}: " + ", ".join(
                        f"{k}={v:.2f}" for k, v in figures.items()), file=sys.stderr)
    best = {name: {k: min(r[k] for r in rounds) for k in rounds[0]}
            for name, rounds in results.items()}
    medians = {name: {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
               for name, rounds in results.items()}
    ratios = {k: best["lamina"][k] / best["distribution"][k] for k in best["lamina"]}
    median_ratios = {k: medians["lamina"][k] / medians["distribution"][k]
                     for k in medians["lamina"]}
    if args.json:
        print(json.dumps({"best": best, "median": medians, "ratio": ratios,
                          "median_ratio": median_ratios, "image_bytes": image_bytes(layout),
                          "rounds": args.rounds, "redirect": args.redirect}, indent=2))
        return
    print(f"best of {args.rounds} rounds, Ceph RGW + PostgreSQL (median ratio last)")
    print(f"{'figure':<16}{'lamina':>10}{'distribution':>14}{'ratio':>8}{'median':>8}")
    for key, value in best["lamina"].items():
        print(f"{key:<16}{value:>10.2f}{best['distribution'][key]:>14.2f}"
              f"{ratios[key]:>8.2f}{median_ratios[key]:>8.2f}")


if __name__ == "__main__":
    main()
