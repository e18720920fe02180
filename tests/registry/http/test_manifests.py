"""Manifests: spec.md "Pulling manifests", "Pushing Manifests", "Pushing Manifests with
Subject", "Deleting Manifests", "Deleting tags" (end-3, end-7, end-9)."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from lamina.oci import mediatype
from tests.registry.helpers import (
    descriptor,
    error_codes,
    image_manifest,
    make_client,
    push_blob,
    push_image,
    sha256,
)


def _blobs_pushed(client: TestClient, layer: bytes) -> bytes:
    """An image manifest of ``{}`` and ``layer``, both pushed to repository a."""
    config = b"{}"
    push_blob(client, "a", config)
    push_blob(client, "a", layer)
    return image_manifest(config, [layer])

def test_get_and_head_by_tag_and_digest(client: TestClient) -> None:
    """spec.md "Pulling manifests" and "Checking if content exists": 200, exact bytes,
    Docker-Content-Digest, Content-Type as pushed, Content-Length on HEAD."""
    digest, body = push_image(client, "lib/app", "v1")
    for ref in ("v1", digest):
        r = client.get(f"/v2/lib/app/manifests/{ref}")
        assert r.status_code == 200
        assert r.content == body
        assert r.headers["Docker-Content-Digest"] == digest
        assert r.headers["Content-Type"] == mediatype.OCI_MANIFEST
        h = client.head(f"/v2/lib/app/manifests/{ref}")
        assert h.status_code == 200
        assert h.headers["Content-Length"] == str(len(body))
        assert h.headers["Docker-Content-Digest"] == digest
        assert h.content == b""


def test_put_answers_201_with_location_and_digest(client: TestClient) -> None:
    """spec.md "Pushing Manifests": 201, Location, Docker-Content-Digest equal to the bytes'."""
    body = _blobs_pushed(client, b"layer")
    r = client.put("/v2/a/manifests/latest", content=body,
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code == 201
    assert r.headers["Docker-Content-Digest"] == sha256(body)
    assert r.headers["Location"] == f"/v2/a/manifests/{sha256(body)}"


def test_put_by_digest_with_tag_parameters(client: TestClient) -> None:
    """spec.md "Pushing Manifests" end-7b: ?tag= creates tags, listed in OCI-Tag."""
    body = _blobs_pushed(client, b"x")
    r = client.put(f"/v2/a/manifests/{sha256(body)}?tag=1.0&tag=latest", content=body,
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code == 201
    assert r.headers["OCI-Tag"] == "1.0, latest"
    assert client.get("/v2/a/tags/list").json()["tags"] == ["1.0", "latest"]


def test_unknown_manifest_and_unknown_repository_are_404(client: TestClient) -> None:
    """spec.md "Pulling manifests": not found is 404 (MANIFEST_UNKNOWN / NAME_UNKNOWN)."""
    push_image(client, "a", "v1")
    r = client.get("/v2/a/manifests/nope")
    assert r.status_code == 404 and error_codes(r) == ["MANIFEST_UNKNOWN"]
    r = client.get("/v2/missing/manifests/v1")
    assert r.status_code == 404 and error_codes(r) == ["NAME_UNKNOWN"]
    r = client.head("/v2/a/manifests/" + sha256(b"nothing"))
    assert r.status_code == 404


def test_manifest_referencing_unknown_blob_is_refused(client: TestClient,
                                                     registry_root: Path) -> None:
    """spec.md "Push": descriptors naming absent blobs give MANIFEST_BLOB_UNKNOWN; nothing
    is stored."""
    config = b"{}"
    push_blob(client, "a", config)
    body = image_manifest(config, [b"never pushed"])
    files_before = sorted(p for p in (registry_root / "blobs").rglob("*") if p.is_file())
    r = client.put("/v2/a/manifests/v1", content=body,
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code == 400
    assert error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]
    assert sha256(b"never pushed") in json.dumps(r.json())
    assert client.get("/v2/a/manifests/v1").status_code == 404
    assert sorted(p for p in (registry_root / "blobs").rglob("*") if p.is_file()) == files_before


def test_blob_of_another_repository_does_not_count(client: TestClient) -> None:
    """A repository sees only blobs linked to it (issue: storage), even though stored once."""
    config, layer = b"{}", b"shared"
    push_blob(client, "a", config)
    push_blob(client, "a", layer)
    push_blob(client, "b", config)
    r = client.put("/v2/b/manifests/v1", content=image_manifest(config, [layer]),
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]


def test_index_needs_its_children(client: TestClient) -> None:
    """spec.md "Push": an index naming a manifest not in the repository is refused with
    MANIFEST_BLOB_UNKNOWN; after the child is pushed the index is accepted."""
    child_digest, child = push_image(client, "multi", child_ref := "tmp")
    index = {"schemaVersion": 2, "mediaType": mediatype.OCI_INDEX, "manifests": [
        {**descriptor(mediatype.OCI_MANIFEST, child),
         "platform": {"os": "linux", "architecture": "amd64"}},
        {**descriptor(mediatype.OCI_MANIFEST, b"absent"),
         "platform": {"os": "linux", "architecture": "arm64"}}]}
    body = json.dumps(index).encode()
    r = client.put("/v2/multi/manifests/latest", content=body,
                   headers={"Content-Type": mediatype.OCI_INDEX})
    assert r.status_code == 400 and error_codes(r) == ["MANIFEST_BLOB_UNKNOWN"]
    index["manifests"] = index["manifests"][:1]
    body = json.dumps(index).encode()
    r = client.put("/v2/multi/manifests/latest", content=body,
                   headers={"Content-Type": mediatype.OCI_INDEX})
    assert r.status_code == 201, r.text
    got = client.get("/v2/multi/manifests/latest")
    assert got.headers["Content-Type"] == mediatype.OCI_INDEX
    assert got.content == body
    assert child_ref and child_digest


def test_digest_in_url_must_match_body(client: TestClient) -> None:
    """spec.md "Pushing Manifests": PUT by digest with other bytes is DIGEST_INVALID."""
    body = _blobs_pushed(client, b"l")
    r = client.put(f"/v2/a/manifests/{sha256(b'other')}", content=body,
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code == 400 and error_codes(r) == ["DIGEST_INVALID"]
    assert client.get(f"/v2/a/manifests/{sha256(body)}").status_code == 404


def test_content_type_must_agree_with_media_type(client: TestClient) -> None:
    """spec.md "Pushing Manifests": Content-Type is the manifest's mediaType; a mismatch or
    an unknown type is MANIFEST_INVALID."""
    body = _blobs_pushed(client, b"l")
    for content_type in (mediatype.DOCKER_MANIFEST, "application/vnd.example.unknown+json",
                         mediatype.DOCKER_MANIFEST_V1_SIGNED):
        r = client.put("/v2/a/manifests/v1", content=body, headers={"Content-Type": content_type})
        assert r.status_code == 400, content_type
        assert error_codes(r) == ["MANIFEST_INVALID"]
    # Parameters on Content-Type are ignored (spec: registry SHOULD ignore them).
    r = client.put("/v2/a/manifests/v1", content=body,
                   headers={"Content-Type": mediatype.OCI_MANIFEST + "; charset=utf-8"})
    assert r.status_code == 201


def test_accept_negotiation(client: TestClient) -> None:
    """content-negotiation.md: a client listing only Docker types is not handed an OCI
    manifest; a client accepting it, or anything, is."""
    push_image(client, "a", "v1")
    r = client.get("/v2/a/manifests/v1", headers={"Accept": mediatype.DOCKER_MANIFEST})
    assert r.status_code == 404 and error_codes(r) == ["MANIFEST_UNKNOWN"]
    both = f"{mediatype.DOCKER_MANIFEST}, {mediatype.OCI_MANIFEST};q=0.9"
    assert client.get("/v2/a/manifests/v1", headers={"Accept": both}).status_code == 200
    assert client.get("/v2/a/manifests/v1", headers={"Accept": "*/*"}).status_code == 200


def test_subject_gets_oci_subject_header_even_when_subject_is_absent(
        client: TestClient) -> None:
    """spec.md "Pushing Manifests with Subject": OCI-Subject on PUT; the subject need not
    exist yet ("Push": MUST initially accept)."""
    missing_subject = {"mediaType": mediatype.OCI_MANIFEST, "digest": sha256(b"later"),
                       "size": 5}
    config, layer = b"{}", b"sig"
    push_blob(client, "a", config)
    push_blob(client, "a", layer)
    body = image_manifest(config, [layer], subject=missing_subject,
                          artifactType="application/vnd.example.sig")
    r = client.put(f"/v2/a/manifests/{sha256(body)}", content=body,
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code == 201, r.text
    assert r.headers["OCI-Subject"] == sha256(b"later")


def test_delete_by_tag_then_by_digest(client: TestClient) -> None:
    """spec.md "Deleting tags" and "Deleting Manifests": 202, then 404 by tag and digest."""
    digest, _ = push_image(client, "a", "v1")
    client.put("/v2/a/manifests/v2", content=client.get(f"/v2/a/manifests/{digest}").content,
               headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert client.delete("/v2/a/manifests/v1").status_code == 202
    assert client.get("/v2/a/manifests/v1").status_code == 404
    assert client.get("/v2/a/manifests/v2").status_code == 200
    assert client.delete(f"/v2/a/manifests/{digest}").status_code == 202
    assert client.get(f"/v2/a/manifests/{digest}").status_code == 404
    assert client.get("/v2/a/manifests/v2").status_code == 404
    r = client.delete(f"/v2/a/manifests/{digest}")
    assert r.status_code == 404 and error_codes(r) == ["MANIFEST_UNKNOWN"]


def test_delete_disabled_answers_405(tmp_path: Path) -> None:
    """spec.md "Deleting Manifests"/"Deleting Blobs": disabled deletion is 405; nothing goes."""
    with make_client(tmp_path / "r", delete_enabled=False) as c:
        digest, _ = push_image(c, "a", "v1")
        for url in ("/v2/a/manifests/v1", f"/v2/a/manifests/{digest}",
                    f"/v2/a/blobs/{sha256(b'{}')}"):
            r = c.delete(url)
            assert r.status_code == 405 and error_codes(r) == ["UNSUPPORTED"]
        assert c.get("/v2/a/manifests/v1").status_code == 200


def test_oversized_manifest_is_413(client: TestClient) -> None:
    """spec.md "Pushing Manifests": over the limit (4 MiB) answers 413."""
    body = b'{"schemaVersion": 2, "pad": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    r = client.put("/v2/a/manifests/v1", content=body,
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code == 413
    assert error_codes(r) == ["MANIFEST_INVALID"]
    assert client.get("/v2/a/manifests/v1").status_code == 404
