"""Two replicas behind nginx are one registry: consecutive requests of one upload land
on different replicas, a replica killed with SIGKILL mid-chunk costs the client only that
chunk, and the probes report what a balancer needs."""

from __future__ import annotations

import hashlib
import itertools
import os
import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from lamina.oci import mediatype
from tests.registry.helpers import image_manifest, push_blob, sha256
from tests.registry.scaleout.helpers import Deployment
from tests.registry.scaleout.services import Ceph, Postgres, as_env, unfinished_uploads
from tests.tools import lamina

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


def test_chunks_of_one_upload_land_on_different_replicas(balanced: Deployment) -> None:
    """spec.md "Pushing a blob in chunks" through a round-robin balancer: each PATCH goes
    to the other replica, which continues where the first one stopped."""
    chunks = [os.urandom(3 * MIB), os.urandom(7 * MIB), os.urandom(100), os.urandom(6 * MIB)]
    data = b"".join(chunks)
    with balanced.client() as c:
        r = c.post("/v2/spread/blobs/uploads/")
        assert r.status_code == 202
        location, served_by, offset = r.headers["Location"], [], 0
        for chunk in chunks:
            r = c.patch(location, content=chunk, headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + len(chunk) - 1}"})
            assert r.status_code == 202, r.text
            offset += len(chunk)
            assert r.headers["Range"] == f"0-{offset - 1}"
            served_by.append(r.headers["X-Upstream"])
            location = r.headers["Location"]
        assert all(a != b for a, b in itertools.pairwise(served_by)), served_by
        r = c.put(location, params={"digest": sha256(data)})
        assert r.status_code == 201, r.text
        config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
        push_blob(c, "spread", config)
        body = image_manifest(config, [data])
        r = c.put("/v2/spread/manifests/v1", content=body,
                  headers={"Content-Type": mediatype.OCI_MANIFEST})
        assert r.status_code == 201
        for _ in balanced.replicas:  # every replica answers the same
            got = c.get("/v2/spread/manifests/v1", headers={"Accept": mediatype.OCI_MANIFEST})
            assert got.content == body
            blob = c.get(f"/v2/spread/blobs/{sha256(data)}")
            assert hashlib.sha256(blob.content).hexdigest() == sha256(data)[7:]


def test_probes(balanced: Deployment) -> None:
    for replica in balanced.replicas:
        with replica.client() as c:
            assert c.get("/healthz").json() == {"status": "ok"}
            ready = c.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"database": "ok", "blobs": "ok"}


def test_replica_killed_mid_chunk_and_the_client_resumes(balanced: Deployment, ceph: Ceph,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """kill -9 of the replica receiving a chunk: the client sees the request fail, asks
    the session's status (spec.md "Resumable Push"; another replica answers with the
    size before that chunk), sends the chunk again and completes the push. Afterwards gc
    aborts the dead replica's unfinished multipart upload and fsck finds nothing wrong."""
    first, second = os.urandom(6 * MIB), os.urandom(40 * MIB)
    data = first + second
    killed = threading.Event()
    with balanced.client() as c:
        r = c.post("/v2/resume/blobs/uploads/")
        location = r.headers["Location"]
        r = c.patch(location, content=first, headers={"Content-Range": f"0-{len(first) - 1}"})
        assert r.status_code == 202
        # Round robin with one nginx worker: the next request goes to the other replica.
        victim = next(rep for rep in balanced.replicas if rep.host != r.headers["X-Upstream"])

        def body() -> Iterator[bytes]:
            for start in range(0, len(second), MIB):
                # By now the replica has sent S3 parts of this chunk (loopback socket
                # buffers hold a few MiB at most).
                if start == 36 * MIB:
                    victim.kill()
                    killed.set()
                yield second[start:start + MIB]

        span = f"{len(first)}-{len(data) - 1}"
        try:
            r = c.patch(location, content=body(), headers={"Content-Range": span,
                                                            "Content-Length": str(len(second))})
            failed = r.status_code >= 500
        except httpx.HTTPError:
            failed = True
        assert killed.is_set() and failed
        status = c.get(location)
        assert status.status_code == 204
        assert status.headers["Range"] == f"0-{len(first) - 1}"
        assert status.headers["X-Upstream"] != victim.host
        r = c.patch(location, content=second, headers={"Content-Range": span})
        assert r.status_code == 202, r.text
        r = c.put(r.headers["Location"], params={"digest": sha256(data)})
        assert r.status_code == 201, r.text
        assert c.get(f"/v2/resume/blobs/{sha256(data)}").content == data
    prefix = balanced.settings["s3_prefix"]
    assert unfinished_uploads(ceph, prefix)  # the killed replica's parts
    for key, value in as_env(balanced.settings).items():
        monkeypatch.setenv(key, value)
    root = balanced.replicas[0].root
    assert lamina("registry", "gc", "--root", root, "--grace", "0").exit_code == 0
    assert unfinished_uploads(ceph, prefix) == []
    fsck = lamina("registry", "fsck", "--root", root)
    assert fsck.exit_code == 0 and "0 problems" in fsck.stdout, fsck.stdout + fsck.stderr


def test_database_restart_during_a_push(balanced: Deployment, postgres: Postgres,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL restarts between two requests of a chunked push: the push completes,
    and the manifest is visible on every replica (or, had a request failed, it would
    have been 503 with nothing half-recorded); fsck finds nothing wrong."""
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    layer = os.urandom(2 * MIB)
    with balanced.client() as c:
        push_blob(c, "restart", config)
        r = c.post("/v2/restart/blobs/uploads/")
        location = r.headers["Location"]
        r = c.patch(location, content=layer[:MIB], headers={"Content-Range": f"0-{MIB - 1}"})
        assert r.status_code == 202
        postgres.restart()
        r = c.patch(r.headers["Location"], content=layer[MIB:],
                    headers={"Content-Range": f"{MIB}-{2 * MIB - 1}"})
        assert r.status_code == 202, r.text
        r = c.put(r.headers["Location"], params={"digest": sha256(layer)})
        assert r.status_code == 201, r.text
        body = image_manifest(config, [layer])
        r = c.put("/v2/restart/manifests/v1", content=body,
                  headers={"Content-Type": mediatype.OCI_MANIFEST})
        assert r.status_code == 201, r.text
        for _ in balanced.replicas:
            assert c.get("/v2/restart/manifests/v1",
                         headers={"Accept": mediatype.OCI_MANIFEST}).content == body
    for key, value in as_env(balanced.settings).items():
        monkeypatch.setenv(key, value)
    fsck = lamina("registry", "fsck", "--root", balanced.replicas[0].root)
    assert fsck.exit_code == 0 and "0 problems" in fsck.stdout, fsck.stdout + fsck.stderr


def test_replica_stopped_with_sigterm_finishes_the_chunk_it_is_receiving(
        balanced: Deployment, ceph: Ceph) -> None:
    """A rolling update stops a replica with SIGTERM: the chunk it is receiving is taken
    whole (202 with the full Range), then the other replica serves the session."""
    chunk = os.urandom(24 * MIB)
    prefix = balanced.settings["s3_prefix"]
    with balanced.client() as c:
        r = c.post("/v2/rolling/blobs/uploads/")
        location = r.headers["Location"]
        # Round robin with one nginx worker: the next request goes to the other replica.
        stopping = next(rep for rep in balanced.replicas if rep.host != r.headers["X-Upstream"])

        def body() -> Iterator[bytes]:
            for start in range(0, len(chunk), MIB):
                if start == 16 * MIB:
                    # The replica is inside the request once it has begun the chunk's
                    # multipart upload (after 13 MiB): stop it then.
                    while not unfinished_uploads(ceph, prefix):
                        time.sleep(0.05)
                    assert stopping.proc is not None
                    os.killpg(stopping.proc.pid, signal.SIGTERM)
                yield chunk[start:start + MIB]

        r = c.patch(location, content=body(), headers={"Content-Length": str(len(chunk))})
        assert r.status_code == 202, r.text
        assert r.headers["Range"] == f"0-{len(chunk) - 1}"
        assert r.headers["X-Upstream"] == stopping.host
        assert stopping.proc is not None and stopping.proc.wait(timeout=60) == 0
        r = c.put(r.headers["Location"], params={"digest": sha256(chunk)})
        assert r.status_code == 201 and r.headers["X-Upstream"] != stopping.host
