"""``lamina registry gc`` and ``fsck`` on the scaled-out deployments: unreferenced blobs
leave the bucket, referenced ones stay, unfinished multipart uploads are aborted."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from lamina.registry.meta.postgres import PostgresMetaStore
from lamina.registry.settings import RegistrySettings
from lamina.registry.storage.s3 import S3BlobStore
from lamina.registry.storage.s3_segments import MIN_PART, PART_SIZE
from tests.registry.helpers import RegistryServer, push_image, sha256, store_garbage
from tests.registry.scaleout.helpers import Deployment, deployed_client
from tests.registry.scaleout.services import Ceph, as_env, keys_under, unfinished_uploads
from tests.tools import lamina

pytestmark = pytest.mark.integration


def test_gc_sweeps_the_bucket_and_fsck_is_clean(registry_root: Path, ceph: Ceph,
                                                deployment: dict[str, Any],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in as_env(deployment).items():
        monkeypatch.setenv(key, value)
    prefix = deployment["s3_prefix"]
    with deployed_client(registry_root, **deployment) as client:
        push_image(client, "a", "keep", layers=[b"shared", b"kept"])
        gone, _ = push_image(client, "a", "drop", layers=[b"shared", b"dropped"])
        assert client.delete(f"/v2/a/manifests/{gone}").status_code == 202
    # What a replica killed mid-chunk leaves behind.
    store = S3BlobStore(RegistrySettings.from_mapping(deployment))
    store.create_upload("dead")
    store.append_upload("dead").write(b"x" * (PART_SIZE + MIN_PART))
    assert unfinished_uploads(ceph, prefix)

    result = lamina("registry", "gc", "--root", registry_root, "--grace", "0",
                    "--format", "json")
    assert result.exit_code == 0, result.stderr
    removed = {b["digest"] for b in json.loads(result.stdout)["blobs"]}
    assert sha256(b"dropped") in removed and gone in removed
    assert sha256(b"shared") not in removed and sha256(b"kept") not in removed
    blob_keys = keys_under(ceph, f"{prefix}blobs/")
    assert not any(key.endswith(sha256(b"dropped")[7:]) for key in blob_keys)
    assert any(key.endswith(sha256(b"kept")[7:]) for key in blob_keys)
    assert unfinished_uploads(ceph, prefix) == []
    fsck = lamina("registry", "fsck", "--root", registry_root)
    assert fsck.exit_code == 0 and "0 problems" in fsck.stdout, fsck.stdout + fsck.stderr
    with deployed_client(registry_root, **deployment) as client:
        assert client.get("/v2/a/manifests/keep").status_code == 200
        assert client.get(f"/v2/a/blobs/{sha256(b'kept')}").content == b"kept"


def gc_job(database: str) -> tuple[str, str, int, dict[str, Any]]:
    """State, holder, attempts and checkpoint of the gc job."""
    with psycopg.connect(database) as conn:
        found = conn.execute("SELECT state, claimed_by, attempts, progress FROM jobs "
                             "WHERE key='gc'").fetchone()
    assert found is not None
    return str(found[0]), str(found[1]), int(found[2]), json.loads(found[3])


def queue_gc_mid_sweep(deployment: Deployment, monkeypatch: pytest.MonkeyPatch
                       ) -> tuple[list[str], RegistryServer]:
    """An image pushed, another deleted, 3000 unreferenced blobs stored, and gc queued for
    the replicas (batches of 10); returns once 100 are swept: the garbage and the replica
    holding the gc job."""
    settings = RegistrySettings.from_mapping(deployment.settings)
    with deployment.client() as c:
        push_image(c, "app", "v1", layers=[b"shared", b"kept"])
        gone, _ = push_image(c, "app", "old", layers=[b"shared", b"dropped"])
        assert c.delete(f"/v2/app/manifests/{gone}").status_code == 202
    meta = PostgresMetaStore(settings.database)
    try:
        garbage = store_garbage(S3BlobStore(settings), meta, 3000)
    finally:
        meta.close()
    for key, value in as_env(deployment.settings).items():
        monkeypatch.setenv(key, value)
    queued = lamina("registry", "gc", "--root", deployment.replicas[0].root, "--grace", "0",
                    "--batch", "10", "--queue")
    assert queued.exit_code == 0 and "gc queued" in queued.stdout, queued.stderr
    deadline = time.monotonic() + 120
    while int(gc_job(settings.database)[3].get("blobs", 0)) < 100 and \
            time.monotonic() < deadline:
        time.sleep(0.02)
    holder_name = gc_job(settings.database)[1]
    return garbage, next(r for r in deployment.replicas if f"/{r.host}/" in holder_name)


def finished_by_the_other(deployment: Deployment, ceph: Ceph, holder: RegistryServer,
                          garbage: list[str]) -> RegistryServer:
    """Waits for the gc job to end; checks the other replica finished it from the
    checkpoint, the bucket holds no garbage and every referenced blob, fsck is clean."""
    database = deployment.settings["database"]
    deadline = time.monotonic() + 300
    while gc_job(database)[0] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
    state, finisher, attempts, _ = gc_job(database)
    survivor = next(r for r in deployment.replicas if r is not holder)
    assert state == "done" and f"/{survivor.host}/" in finisher and attempts == 2
    log = survivor.log.read_text()
    assert "gc: resuming an interrupted run at its blobs phase" in log and "ETA" in log
    prefix = deployment.settings["s3_prefix"]
    left = {key.rpartition("/")[2] for key in keys_under(ceph, f"{prefix}blobs/")}
    assert not left & {d[7:] for d in garbage}
    assert sha256(b"dropped")[7:] not in left
    fsck = lamina("registry", "fsck", "--root", deployment.replicas[0].root)
    assert fsck.exit_code == 0 and "0 problems" in fsck.stdout, fsck.stdout + fsck.stderr
    with deployment.client() as c:
        assert c.get("/v2/app/manifests/v1").status_code == 200
        for data in (b"shared", b"kept"):
            assert c.get(f"/v2/app/blobs/{sha256(data)}").content == data
    return survivor


def test_replica_killed_during_gc_and_the_other_resumes(
        balanced_short_lease: Deployment, ceph: Ceph, monkeypatch: pytest.MonkeyPatch) -> None:
    """`gc --queue` hands gc to the replicas; the one running it is killed with SIGKILL
    mid-sweep; when its lease runs out the other replica resumes from the checkpoint:
    every unreferenced blob leaves the bucket, every referenced one stays, fsck is clean."""
    garbage, holder = queue_gc_mid_sweep(balanced_short_lease, monkeypatch)
    holder.kill()
    state, _, _, progress = gc_job(balanced_short_lease.settings["database"])
    assert state == "running" and 100 <= progress["blobs"] < 3000
    finished_by_the_other(balanced_short_lease, ceph, holder, garbage)


def test_replica_stopped_during_gc_gives_the_job_back(
        balanced: Deployment, ceph: Ceph, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rolling update stops the replica running gc with SIGTERM: it gives the job back
    at its next checkpoint (the 60 s lease is not waited out) and the other replica
    resumes it."""
    garbage, holder = queue_gc_mid_sweep(balanced, monkeypatch)
    holder.stop()
    assert holder.proc is not None and holder.proc.returncode == 0
    assert "job gc given back to the queue" in holder.log.read_text()
    finished_by_the_other(balanced, ceph, holder, garbage)
