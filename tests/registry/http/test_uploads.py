"""Uploads: spec.md "Pushing a blob monolithically" (POST then PUT, Single POST),
"Pushing a blob in chunks", "Cancel a blob upload", "Mounting a blob from another
repository" (end-4 .. end-6, end-11, end-13, end-14)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.testclient import TestClient

from tests.registry.helpers import error_codes, make_client, push_blob, sha256

BLOB = b"0123456789" * 1000


def _start(client: TestClient, repo: str = "a") -> str:
    r = client.post(f"/v2/{repo}/blobs/uploads/", headers={"Content-Length": "0"})
    assert r.status_code == 202
    assert r.headers["Location"].startswith(f"/v2/{repo}/blobs/uploads/")
    return str(r.headers["Location"])


def _patch(client: TestClient, location: str, start: int, data: bytes):  # type: ignore[no-untyped-def]
    return client.patch(location, content=data, headers={
        "Content-Range": f"{start}-{start + len(data) - 1}",
        "Content-Type": "application/octet-stream"})


def test_post_then_put(client: TestClient) -> None:
    """spec.md "POST then PUT": 202 with Location, then 201 with a pullable Location."""
    location = _start(client)
    r = client.put(location, params={"digest": sha256(BLOB)}, content=BLOB)
    assert r.status_code == 201
    assert r.headers["Location"] == f"/v2/a/blobs/{sha256(BLOB)}"
    assert client.get(r.headers["Location"]).content == BLOB


def test_single_post(client: TestClient) -> None:
    """spec.md "Single POST": POST with ?digest= and the body answers 201."""
    r = client.post("/v2/a/blobs/uploads/", params={"digest": sha256(BLOB)}, content=BLOB)
    assert r.status_code == 201
    assert client.get(f"/v2/a/blobs/{sha256(BLOB)}").content == BLOB


def test_chunked_upload_with_status_and_ranges(client: TestClient) -> None:
    """spec.md "Pushing a blob in chunks": each PATCH 202 with Range 0-<end>; GET on the
    session is 204 with Range and Location; PUT closes with the last chunk."""
    location = _start(client)
    r = _patch(client, location, 0, BLOB[:3000])
    assert r.status_code == 202 and r.headers["Range"] == "0-2999"
    location = r.headers["Location"]
    r = _patch(client, location, 3000, BLOB[3000:7000])
    assert r.status_code == 202 and r.headers["Range"] == "0-6999"
    status = client.get(location)
    assert status.status_code == 204
    assert status.headers["Range"] == "0-6999" and status.headers["Location"] == location
    r = client.put(location, params={"digest": sha256(BLOB)}, content=BLOB[7000:],
                   headers={"Content-Range": f"7000-{len(BLOB) - 1}"})
    assert r.status_code == 201, r.text
    assert client.get(f"/v2/a/blobs/{sha256(BLOB)}").content == BLOB


def test_patch_without_content_range_appends(client: TestClient) -> None:
    """Docker's streamed PATCH (no Content-Range) appends at the end; PUT with no body closes."""
    location = _start(client)
    r = client.patch(location, content=BLOB)
    assert r.status_code == 202 and r.headers["Range"] == f"0-{len(BLOB) - 1}"
    r = client.put(r.headers["Location"], params={"digest": sha256(BLOB)})
    assert r.status_code == 201


def test_out_of_order_and_overlapping_chunks_are_416(client: TestClient) -> None:
    """spec.md "Pushing a blob in chunks": a chunk not starting at the end is 416; the
    upload is unchanged and can go on."""
    location = _start(client)
    _patch(client, location, 0, BLOB[:1000])
    for start in (500, 2000, 0):
        r = _patch(client, location, start, BLOB[start:start + 100])
        assert r.status_code == 416, start
        assert error_codes(r) == ["BLOB_UPLOAD_INVALID"]
    assert client.get(location).headers["Range"] == "0-999"
    r = client.put(location, params={"digest": sha256(BLOB)}, content=BLOB[1000:],
                   headers={"Content-Range": "500-9999"})
    assert r.status_code == 416
    _patch(client, location, 1000, BLOB[1000:])
    assert client.put(location, params={"digest": sha256(BLOB)}).status_code == 201


def test_range_length_mismatch_is_refused_and_nothing_partial_kept(client: TestClient) -> None:
    """spec.md "Pushing a blob in chunks": Content-Range must match the body (SIZE_INVALID);
    the bad chunk is dropped whole."""
    location = _start(client)
    _patch(client, location, 0, BLOB[:100])
    r = client.patch(location, content=BLOB[100:150], headers={"Content-Range": "100-299"})
    assert r.status_code == 400 and error_codes(r) == ["SIZE_INVALID"]
    assert client.get(location).headers["Range"] == "0-99"
    r = client.patch(location, content=b"x", headers={"Content-Range": "100-zz"})
    assert r.status_code == 416


def test_wrong_digest_stores_nothing(client: TestClient) -> None:
    """spec.md "Pushing blobs": content not matching ?digest= is DIGEST_INVALID and is
    not stored anywhere."""
    location = _start(client)
    r = client.put(location, params={"digest": sha256(b"something else")}, content=BLOB)
    assert r.status_code == 400 and error_codes(r) == ["DIGEST_INVALID"]
    assert client.head(f"/v2/a/blobs/{sha256(BLOB)}").status_code == 404
    assert client.head(f"/v2/a/blobs/{sha256(b'something else')}").status_code == 404
    r = client.post("/v2/a/blobs/uploads/", params={"digest": sha256(b"x")}, content=BLOB)
    assert r.status_code == 400 and error_codes(r) == ["DIGEST_INVALID"]


def test_put_needs_a_digest(client: TestClient) -> None:
    """spec.md "Pushing a blob in chunks": the closing PUT MUST include ?digest=."""
    location = _start(client)
    r = client.put(location, content=BLOB)
    assert r.status_code == 400 and error_codes(r) == ["DIGEST_INVALID"]


def test_sha512_upload(client: TestClient) -> None:
    """spec.md "Pushing a blob in chunks": ?digest-algorithm=sha512."""
    digest = "sha512:" + hashlib.sha512(BLOB).hexdigest()
    r = client.post("/v2/a/blobs/uploads/", params={"digest-algorithm": "sha512"})
    assert r.status_code == 202
    r = client.put(r.headers["Location"], params={"digest": digest}, content=BLOB)
    assert r.status_code == 201, r.text
    assert client.get(f"/v2/a/blobs/{digest}").content == BLOB


def test_cancel_and_unknown_sessions(client: TestClient) -> None:
    """spec.md "Cancel a blob upload": DELETE is 204; afterwards, and for sessions that never
    were, every session call is 404 BLOB_UPLOAD_UNKNOWN."""
    location = _start(client)
    assert client.delete(location).status_code == 204
    unknown = "/v2/a/blobs/uploads/" + "0" * 32
    for url in (location, unknown, "/v2/a/blobs/uploads/not-a-session",
                "/v2/a/blobs/uploads/.sweep.lock"):
        for method in ("GET", "PATCH", "PUT", "DELETE"):
            r = client.request(method, url, params={"digest": sha256(b"")}, content=b"x")
            assert r.status_code == 404, (method, url, r.text)
            assert error_codes(r) == ["BLOB_UPLOAD_UNKNOWN"]
    # An encoded traversal decodes to a path no route takes: 404, nothing touched.
    r = client.request("PATCH", "/v2/a/blobs/uploads/..%2F..%2Fmeta.sqlite3", content=b"x")
    assert r.status_code == 404


def test_session_belongs_to_its_repository(client: TestClient) -> None:
    """A session started in one repository cannot be used through another's URL."""
    location = _start(client, "a")
    other = location.replace("/v2/a/", "/v2/b/")
    assert client.get(other).status_code == 404
    r = client.put(other, params={"digest": sha256(BLOB)}, content=BLOB)
    assert r.status_code == 404
    assert client.head(f"/v2/b/blobs/{sha256(BLOB)}").status_code == 404


def test_mount_from_another_repository(client: TestClient) -> None:
    """spec.md "Mounting a blob": 201 when the blob is in `from`; else a 202 upload session."""
    digest = push_blob(client, "src", BLOB)
    r = client.post("/v2/dst/blobs/uploads/", params={"mount": digest, "from": "src"})
    assert r.status_code == 201
    assert r.headers["Location"] == f"/v2/dst/blobs/{digest}"
    assert client.get(f"/v2/dst/blobs/{digest}").content == BLOB
    r = client.post("/v2/dst2/blobs/uploads/", params={"mount": digest, "from": "nowhere"})
    assert r.status_code == 202
    assert "/blobs/uploads/" in r.headers["Location"]
    assert client.head(f"/v2/dst2/blobs/{digest}").status_code == 404


def test_upload_survives_a_restart(registry_root: Path) -> None:
    """Issue "Storage": an upload session survives a server restart; the hash resumes by
    re-reading the partial upload."""
    with make_client(registry_root) as first:
        location = _start(first)
        _patch(first, location, 0, BLOB[:4000])
    with make_client(registry_root) as second:
        assert second.get(location).headers["Range"] == "0-3999"
        _patch(second, location, 4000, BLOB[4000:])
        r = second.put(location, params={"digest": sha256(BLOB)})
        assert r.status_code == 201
        assert second.get(f"/v2/a/blobs/{sha256(BLOB)}").content == BLOB


def test_blob_is_stored_once_across_repositories(client: TestClient,
                                                 registry_root: Path) -> None:
    """Issue "Storage": the same blob pushed to two repositories is one file."""
    push_blob(client, "a", BLOB)
    push_blob(client, "b/c", BLOB)
    files = [p for p in (registry_root / "blobs").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [hashlib.sha256(BLOB).hexdigest()]
    assert list((registry_root / "uploads").iterdir()) == []
