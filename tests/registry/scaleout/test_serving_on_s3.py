"""Serving blobs from object storage: the 307 redirect to a presigned URL (Range works
there too), 503 with Retry-After when the object store is down, fsck on the bucket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.registry.helpers import error_codes, push_blob, push_image, sha256
from tests.registry.scaleout.helpers import deployed_client
from tests.registry.scaleout.services import Ceph, as_env
from tests.tools import lamina

pytestmark = pytest.mark.integration

DATA = bytes(range(256)) * 4000


def test_redirect_to_presigned_url_with_range(registry_root: Path,
                                              s3_settings: dict[str, Any]) -> None:
    """spec.md "Pulling blobs": a registry MAY answer 307 with the blob's location;
    the client follows it, with its Range header (RFC 9110 §14) honoured there."""
    with deployed_client(registry_root, redirect=True, **s3_settings) as client:
        digest = push_blob(client, "a", DATA)
        r = client.get(f"/v2/a/blobs/{digest}", follow_redirects=False)
        assert r.status_code == 307
        url = r.headers["Location"]
        assert url.startswith(s3_settings["s3_endpoint"]) and "X-Amz-Signature" in url
        assert r.headers["Docker-Content-Digest"] == digest
        assert httpx.get(url).content == DATA
        part = httpx.get(url, headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206 and part.content == DATA[1000:2000]
        # HEAD still answers from the registry: clients check existence without a hop.
        h = client.head(f"/v2/a/blobs/{digest}")
        assert h.status_code == 200 and h.headers["Content-Length"] == str(len(DATA))


def test_streamed_suffix_range_and_unsatisfiable(client: TestClient) -> None:
    """RFC 9110 §14.1.2 suffix ranges; §15.5.17 416 with ``Content-Range: bytes */size``."""
    digest = push_blob(client, "a", DATA)
    r = client.get(f"/v2/a/blobs/{digest}", headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == DATA[-10:]
    assert r.headers["Content-Range"] == f"bytes {len(DATA) - 10}-{len(DATA) - 1}/{len(DATA)}"
    r = client.get(f"/v2/a/blobs/{digest}", headers={"Range": f"bytes={len(DATA)}-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(DATA)}"


@pytest.fixture
def own_ceph(tmp_path: Path) -> Iterator[Ceph]:
    """A cluster of this test's own, because the test stops it."""
    cluster = Ceph.start(tmp_path / "ceph")
    try:
        yield cluster
    finally:
        cluster.stop()


def test_object_store_down_answers_503_and_records_nothing(registry_root: Path,
                                                           own_ceph: Ceph) -> None:
    """Clients get 503 UNAVAILABLE with Retry-After while the object store is down, and
    no blob is linked that the store does not hold."""
    with deployed_client(registry_root, **own_ceph.settings()) as client:
        stored = push_blob(client, "a", DATA)
        own_ceph.stop()
        r = client.get(f"/v2/a/blobs/{stored}")
        assert r.status_code == 503, r.text
        assert error_codes(r) == ["UNAVAILABLE"] and int(r.headers["Retry-After"]) > 0
        r = client.post("/v2/a/blobs/uploads/", params={"digest": sha256(b"new")},
                        content=b"new")
        assert r.status_code == 503 and "Retry-After" in r.headers
        assert client.head(f"/v2/a/blobs/{sha256(b'new')}").status_code == 404
        ready = client.get("/readyz")  # a balancer takes the replica out of rotation
        assert ready.status_code == 503 and "Retry-After" in ready.headers
        assert ready.json()["checks"]["database"] == "ok"
        assert ready.json()["checks"]["blobs"] != "ok"


def test_fsck_on_the_bucket_finds_and_quarantines_corruption(
        registry_root: Path, ceph: Ceph, s3_settings: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in as_env(s3_settings).items():
        monkeypatch.setenv(key, value)
    with deployed_client(registry_root, **s3_settings) as client:
        push_image(client, "a", "v1", layers=[b"good layer", b"soon bad"])
    clean = lamina("registry", "fsck", "--root", registry_root)
    assert clean.exit_code == 0 and "0 problems" in clean.stdout, clean.stdout + clean.stderr
    bad = sha256(b"soon bad")
    key = f"{s3_settings['s3_prefix']}blobs/sha256/{bad[7:9]}/{bad[7:]}"
    ceph.client().put_object(Bucket=ceph.bucket, Key=key, Body=b"bit rot")
    result = lamina("registry", "fsck", "--root", registry_root, "--format", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [(p["kind"], p["digest"]) for p in problems] == [("corrupt", bad)]
    assert f"s3://{ceph.bucket}/{s3_settings['s3_prefix']}quarantine/" in problems[0]["detail"]
    assert lamina("registry", "fsck", "--root", registry_root).exit_code == 0
