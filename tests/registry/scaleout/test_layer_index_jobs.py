"""Layer indexes on two replicas sharing Ceph RGW and PostgreSQL behind nginx
(registry/layer_indexes.py): each pushed layer is read for indexing once across the
replicas (the index job's record and the replicas' blob-read counters in /metrics say
so), both replicas serve the layer listing from the one index in the bucket, gc removes
an index with its blob and keeps those of referenced blobs, and the index job of a
replica killed mid-way is taken over by the other one."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamina.oci.digest import Digest
from tests.registry.helpers import index_counts, layer_listing, sha256
from tests.registry.scaleout.helpers import (
    METADATA,
    Deployment,
    gzip_layer,
    job_row,
    push_layers,
    python_layer,
    wait_for,
)
from tests.registry.scaleout.services import Ceph, as_env, keys_under
from tests.tools import lamina

pytestmark = pytest.mark.integration


def _blob_reads(deployment: Deployment) -> int:
    return sum(index_counts(r.url)["blob_reads"] for r in deployment.replicas)


def _index_keys(ceph: Ceph, deployment: Deployment) -> set[str]:
    prefix = f"{deployment.settings['s3_prefix']}layer-index/sha256/"
    return {"sha256:" + key[len(prefix):] for key in keys_under(ceph, prefix)}


def test_each_layer_is_indexed_once_and_both_replicas_serve_the_stored_index(
        balanced_scanning: Deployment, ceph: Ceph, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    deployment = balanced_scanning
    base = python_layer()
    one, two = gzip_layer({"app/one": b"1" * 3000}), gzip_layer({"app/two": b"2" * 4000})
    kept = push_layers(deployment, "shared/app", "one", [base, one])
    dropped = push_layers(deployment, "shared/app", "two", [base, two])
    digests = [Digest.parse(sha256(layer)) for layer, _ in (base, one, two)]
    for digest in digests:
        row = wait_for(deployment, f"index:{digest}", "done")
        assert row["attempts"] == 1 and "blob read once" in row["result"], row
    for manifest in (kept, dropped):  # scan on push, through the indexes
        wait_for(deployment, f"scan:shared/app@{manifest}", "done")
    assert _blob_reads(deployment) == 3
    assert _index_keys(ceph, deployment) == {str(d) for d in digests}

    listings = []
    for replica in deployment.replicas:  # each straight, not through nginx
        before = index_counts(replica.url)["stored_reads"]
        listings.append(layer_listing(replica.url, "shared/app", "one"))
        assert index_counts(replica.url)["stored_reads"] == before + 2
    assert listings[0] == listings[1]
    assert [[m["path"] for m in layer["members"]] for layer in listings[0]] == [
        ["usr/lib/python3/dist-packages/urllib3-1.24.1.dist-info/METADATA"], ["app/one"]]
    assert listings[0][0]["members"][0]["size"] == len(METADATA)
    assert _blob_reads(deployment) == 3

    with deployment.client() as c:
        assert c.delete(f"/v2/shared/app/manifests/{dropped}").status_code == 202
    for key, value in as_env(deployment.settings).items():
        monkeypatch.setenv(key, value)
    gc = lamina("registry", "gc", "--root", tmp_path, "--grace", "0")
    assert gc.exit_code == 0, gc.stderr
    # the index went with its blob; those of blobs still referenced stay
    assert _index_keys(ceph, deployment) == {str(digests[0]), str(digests[1])}
    for replica in deployment.replicas:
        assert layer_listing(replica.url, "shared/app", "one") == listings[0]
    assert _blob_reads(deployment) == 3


def test_an_index_job_whose_replica_is_killed_is_taken_over(
        balanced_scanning: Deployment, ceph: Ceph) -> None:
    """150,000 members take seconds to index: the holder is killed mid-way."""
    deployment = balanced_scanning
    layer = python_layer(empty_files=150_000)
    manifest = push_layers(deployment, "killed/index", "v1", [layer])
    digest = sha256(layer[0])
    key = f"index:{digest}"
    claimed = wait_for(deployment, key, "running")
    holder = next(r for r in deployment.replicas if f"/{r.host}/" in claimed["claimed_by"])
    survivor = next(r for r in deployment.replicas if r is not holder)
    holder.kill()
    assert job_row(deployment, key)["state"] == "running"  # type: ignore[index]
    assert _index_keys(ceph, deployment) == set()
    done = wait_for(deployment, key, "done", timeout=300)
    assert f"/{survivor.host}/" in done["claimed_by"] and done["attempts"] == 2, done
    assert index_counts(survivor.url)["blob_reads"] == 1
    assert _index_keys(ceph, deployment) == {digest}
    wait_for(deployment, f"scan:killed/index@{manifest}", "done", timeout=300)
    listed = layer_listing(survivor.url, "killed/index", "v1")
    assert listed[0]["files"] == 150_001
    assert index_counts(survivor.url)["blob_reads"] == 1
