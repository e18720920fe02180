"""gc over many blobs on object storage: ``lamina registry gc --dry-run`` (and, with
``--sweep``, the real run) over N unreferenced blobs in Ceph RGW + PostgreSQL.

One throwaway Ceph cluster (scripts/ceph-rgw.sh) and PostgreSQL (scripts/postgres.sh) on
loopback, as bench/registry_s3.py starts them. N blob records (table ``blobs`` and their
links in one repository, none referenced by a manifest: every one is garbage, the dry
run's worst case) are written with COPY, and N small objects with those digests are put
in the bucket (16 threads), unless ``--records-only``. The dry run reads the records
and lists the bucket (it never reads an object's bytes); what it prints goes to
/dev/null. Wall time and the CPU seconds of the gc process are printed.

There is no peer run: distribution's ``registry garbage-collect`` walks its own storage
layout (repository link files), which these records do not have.

    .venv/bin/python bench/registry_gc.py [--blobs 100000] [--records-only] [--sweep]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
from registry_s3 import s3_client, services

from registry import LAMINA

BUCKET = "lamina-gc-bench"


def make_blobs(count: int) -> list[tuple[str, bytes]]:
    out = []
    for i in range(count):
        data = f"bench blob {i}".encode()
        out.append((hashlib.sha256(data).hexdigest(), data))
    return out


def write_records(database: str, blobs: list[tuple[str, bytes]]) -> None:
    old = time.time() - 7200  # outside any grace window
    with psycopg.connect(database, autocommit=True) as conn:
        repo = conn.execute("INSERT INTO repositories(name, created) VALUES ('bench/garbage', %s)"
                            " RETURNING id", (old,)).fetchone()
        assert repo is not None
        with conn.cursor() as cur:
            with cur.copy("COPY blobs(digest, size, created) FROM STDIN") as copy:
                for hexdigest, data in blobs:
                    copy.write_row((f"sha256:{hexdigest}", len(data), old))
            with cur.copy("COPY repo_blobs(repo_id, digest, created, seen) FROM STDIN") as copy:
                for hexdigest, _ in blobs:
                    copy.write_row((repo[0], f"sha256:{hexdigest}", old, old))
        conn.execute("ANALYZE")


def write_objects(client: Any, blobs: list[tuple[str, bytes]]) -> None:
    def put(item: tuple[str, bytes]) -> None:
        hexdigest, data = item
        client.put_object(Bucket=BUCKET, Key=f"blobs/sha256/{hexdigest[:2]}/{hexdigest}",
                          Body=io.BytesIO(data))

    with ThreadPoolExecutor(16) as pool:
        for _ in pool.map(put, blobs):
            pass


def run_gc(env: dict[str, str], root: Path, *args: str) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) of the gc process, its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run([str(LAMINA), "registry", "gc", "--root", str(root), "--grace", "0",
                           "--format", "json", *args], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, check=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blobs", type=int, default=100_000)
    parser.add_argument("--records-only", action="store_true",
                        help="No objects in the bucket: time the records' side alone.")
    parser.add_argument("--sweep", action="store_true", help="Also time the real gc.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lamina-gc-bench-"))
    with services(work) as (s3, database):
        client = s3_client(s3)
        client.create_bucket(Bucket=BUCKET)
        env = {**os.environ, "LAMINA_REGISTRY_STORAGE": "s3",
               "LAMINA_REGISTRY_S3_ENDPOINT": s3["S3_ENDPOINT"],
               "LAMINA_REGISTRY_S3_BUCKET": BUCKET,
               "LAMINA_REGISTRY_S3_ACCESS_KEY": s3["S3_ACCESS_KEY"],
               "LAMINA_REGISTRY_S3_SECRET_KEY": s3["S3_SECRET_KEY"],
               "LAMINA_REGISTRY_DATABASE": database}
        subprocess.run([str(LAMINA), "registry", "migrate-schema"], env=env, check=True)
        blobs = make_blobs(args.blobs)
        start = time.monotonic()
        write_records(database, blobs)
        if not args.records_only:
            write_objects(client, blobs)
        print(f"setup: {args.blobs} blob records"
              + ("" if args.records_only else " and objects")
              + f" in {time.monotonic() - start:.1f}s", file=sys.stderr)
        root = work / "root"
        wall, cpu, out = run_gc(env, root, "--dry-run")
        listed = len(json.loads(out)["blobs"])
        assert listed == args.blobs, f"the dry run listed {listed} blobs, not {args.blobs}"
        print(f"gc --dry-run over {args.blobs} unreferenced blobs "
              f"({'records only' if args.records_only else 'records + objects'}): "
              f"{wall:.1f}s wall, {cpu:.1f}s CPU (target: under 60s)")
        if args.sweep:
            wall, cpu, out = run_gc(env, root)
            removed = len(json.loads(out)["blobs"])
            print(f"gc (real) removing {removed} blobs: {wall:.1f}s wall, {cpu:.1f}s CPU")
        print(f"machine load (1/5/15 min): {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
