"""A registry replica's layer index on Ceph RGW + PostgreSQL: made from the blob (what the
first reader of a deployment pays, and what every replica paid when indexes were kept
per replica) against read from the index stored next to the blob (what every other
replica and reader pays now).

One throwaway Ceph cluster and PostgreSQL (bench/registry_s3.py's), one `lamina registry
serve` on them, the ~500 MB bench image pushed with skopeo. Then, in this process, for
each round: the stored indexes are deleted, a LayerIndexes (one replica) indexes the
eight layers, and a second LayerIndexes (another replica: nothing cached in-process)
reads them. CPU is this process's (boto3's threads included); best and median of the
rounds, and the stored indexes' bytes against the blobs'.

    .venv/bin/python bench/registry_layer_index.py [--mb 500] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from registry_s3 import empty_bucket, lamina_on_s3, s3_client, services

from lamina.oci.manifest import Manifest, parse_manifest
from lamina.registry.layer_indexes import LayerIndexes
from lamina.registry.registry import Registry
from lamina.registry.settings import RegistrySettings
from registry import prepare


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    layout = prepare("skopeo", "radosgw", "ceph-mon", "ceph-osd", mb=args.mb)
    rounds: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="lamina-bench-index-") as tmp:
        work = Path(tmp)
        with services(work) as (s3, database):
            client = s3_client(s3)
            bucket = f"index-{uuid.uuid4().hex[:8]}"
            client.create_bucket(Bucket=bucket)
            with lamina_on_s3(work, s3, bucket, database, redirect=False) as (host, _):
                subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false",
                                f"oci:{layout}:v1", f"docker://{host}/bench/img:v1"],
                               check=True)
            settings = RegistrySettings.from_mapping({
                "root": str(work / "replica"), "storage": "s3", "s3_bucket": bucket,
                "s3_endpoint": s3["S3_ENDPOINT"], "s3_access_key": s3["S3_ACCESS_KEY"],
                "s3_secret_key": s3["S3_SECRET_KEY"], "database": database})
            reg = Registry.open(settings)
            try:
                record = reg.find_manifest("bench/img", "v1")
                manifest = parse_manifest(reg.manifest_body(record), record.media_type)
                assert isinstance(manifest, Manifest)
                layers = manifest.layers
                digests = [d.digest for d in layers]
                for n in range(args.rounds):
                    reg.blobs.delete_layer_indexes(digests)
                    first, other = LayerIndexes(reg, 0), LayerIndexes(reg, 0)
                    made = _timed(lambda i=first: [i.get(d) for d in layers])
                    read = _timed(lambda i=other: [i.get(d) for d in layers])
                    assert first.counts()["blob_reads"] == len(layers)
                    assert other.counts() == {"blob_reads": 0, "stored_reads": len(layers)}
                    rounds.append({"made_wall": made[0], "made_cpu": made[1],
                                   "read_wall": read[0], "read_cpu": read[1]})
                    print(f"round {n + 1}: " + ", ".join(
                        f"{k}={v:.3f}" for k, v in rounds[-1].items()), file=sys.stderr)
                index_bytes = sum(len(reg.blobs.read_layer_index(d) or b"") for d in digests)
                blob_bytes = sum(d.size for d in layers)
            finally:
                reg.close()
            empty_bucket(client, bucket)
    best = {k: min(r[k] for r in rounds) for k in rounds[0]}
    median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    doc = {"best": best, "median": median, "layers": len(layers), "blob_bytes": blob_bytes,
           "index_bytes": index_bytes, "load": os.getloadavg(), "rounds": args.rounds}
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    print(f"{len(layers)} layers, {blob_bytes / 1e6:.0f} MB of blobs, stored indexes "
          f"{index_bytes} bytes; load {' '.join(f'{x:.1f}' for x in doc['load'])}")
    print(f"{'':<28}{'best':>8}{'median':>8}")
    for key, text in (("made", "indexed from the blobs"), ("read", "read from storage")):
        for unit in ("wall", "cpu"):
            print(f"{text + ' (' + unit + ' s)':<28}{best[f'{key}_{unit}']:>8.3f}"
                  f"{median[f'{key}_{unit}']:>8.3f}")


if __name__ == "__main__":
    main()
