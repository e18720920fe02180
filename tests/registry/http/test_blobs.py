"""Blobs: spec.md "Pulling blobs" (Range), "Checking if content exists", "Deleting Blobs"."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.registry.helpers import error_codes, push_blob, sha256

DATA = bytes(range(256)) * 40


def test_get_and_head_blob(client: TestClient) -> None:
    """spec.md "Pulling blobs": 200 with the bytes and Docker-Content-Digest; HEAD has
    Content-Length."""
    digest = push_blob(client, "a", DATA)
    r = client.get(f"/v2/a/blobs/{digest}")
    assert r.status_code == 200 and r.content == DATA
    assert r.headers["Docker-Content-Digest"] == digest
    h = client.head(f"/v2/a/blobs/{digest}")
    assert h.status_code == 200 and h.headers["Content-Length"] == str(len(DATA))
    assert h.headers["Docker-Content-Digest"] == digest


def test_range_request_gives_206_with_content_range(client: TestClient) -> None:
    """spec.md "Pulling blobs": Range per RFC 9110 section 14."""
    digest = push_blob(client, "a", DATA)
    r = client.get(f"/v2/a/blobs/{digest}", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.content == DATA[100:200]
    assert r.headers["Content-Range"] == f"bytes 100-199/{len(DATA)}"
    r = client.get(f"/v2/a/blobs/{digest}", headers={"Range": f"bytes={len(DATA) + 10}-"})
    assert r.status_code == 416


def test_blob_only_visible_where_linked(client: TestClient) -> None:
    """spec.md "Pulling blobs": a blob not in the repository is 404 BLOB_UNKNOWN."""
    digest = push_blob(client, "a", DATA)
    r = client.get(f"/v2/b/blobs/{digest}")
    assert r.status_code == 404 and error_codes(r) == ["BLOB_UNKNOWN"]
    assert client.head(f"/v2/a/blobs/{sha256(b'none')}").status_code == 404


def test_delete_blob_unlinks_it(client: TestClient) -> None:
    """spec.md "Deleting Blobs": 202, then 404; unknown blob is 404."""
    digest = push_blob(client, "a", DATA)
    push_blob(client, "b", DATA)
    assert client.delete(f"/v2/a/blobs/{digest}").status_code == 202
    assert client.get(f"/v2/a/blobs/{digest}").status_code == 404
    assert client.get(f"/v2/b/blobs/{digest}").status_code == 200
    r = client.delete(f"/v2/a/blobs/{digest}")
    assert r.status_code == 404 and error_codes(r) == ["BLOB_UNKNOWN"]
