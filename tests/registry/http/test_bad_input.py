"""Bad input (issue "Bad input"): every malformed request gets a spec error code and a 4xx,
never a 500, and leaves nothing partial in storage (spec.md "Error Codes")."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from lamina.oci import mediatype
from tests.registry.helpers import error_codes, push_blob, push_image, sha256

SPEC_CODES = {"BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
              "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID",
              "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED",
              "TOOMANYREQUESTS"}


def _stored_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in (root / "blobs").rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", [
    "UPPER/case", "a//b", "-lead", "trail-", "%2e%2e", "a/%2e/b", "a b", "a%0Ab", "a%0A",
    "x" * 300, "a/%2e%2e/b", "tab%09", "a_", "é"])
def test_invalid_repository_names(client: TestClient, name: str) -> None:
    """spec.md "Pulling manifests": <name> must match the name regular expression; anything
    else is NAME_INVALID (or a 404 when it cannot even reach a route)."""
    for method, url in (("GET", f"/v2/{name}/manifests/latest"),
                        ("POST", f"/v2/{name}/blobs/uploads/"),
                        ("GET", f"/v2/{name}/tags/list"),
                        ("GET", f"/v2/{name}/blobs/{sha256(b'x')}")):
        r = client.request(method, url)
        assert r.status_code in (400, 404), (method, url, r.status_code)
        assert set(error_codes(r)) <= SPEC_CODES
        if r.status_code == 400:
            assert error_codes(r) == ["NAME_INVALID"]


@pytest.mark.parametrize("reference", ["sha256:zz", "sha256:" + "a" * 63, "md5:" + "a" * 32,
                                       "sha256:" + "A" * 64, ".tag", "-tag", "t" * 129])
def test_invalid_references(client: TestClient, reference: str) -> None:
    """spec.md "Pulling manifests": <reference> is a digest or a tag matching
    [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. A bad digest is 400 DIGEST_INVALID; a tag no push
    could have made is simply not there: 404 MANIFEST_UNKNOWN, as the conformance suite's
    ".INVALID_MANIFEST_NAME" check expects (GET and HEAD)."""
    push_image(client, "a", "v1")
    for method in ("GET", "HEAD"):
        r = client.request(method, f"/v2/a/manifests/{reference}")
        if ":" in reference:
            assert r.status_code == 400
            if method == "GET":
                assert error_codes(r) == ["DIGEST_INVALID"]
        else:
            assert r.status_code == 404
            if method == "GET":
                assert error_codes(r) == ["MANIFEST_UNKNOWN"]
    r = client.get(f"/v2/a/blobs/{reference}")
    assert r.status_code in (400, 404)


@pytest.mark.parametrize("body", [
    b"", b"{", b"[]", b"null", b'{"schemaVersion": 1}', b'{"schemaVersion": 2}',
    b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}',
    b'{"schemaVersion": 2, "config": {"mediaType": 1}, "layers": []}',
    b'{"schemaVersion": 2, "config": {"mediaType": "x", "digest": "sha256:00", "size": 1},'
    b' "layers": []}',
    b'{"schemaVersion": 2, "manifests": "nope"}',
    b"\xff\xfe not utf-8",
    b'{"schemaVersion": 2, "config": {"mediaType": "a", "digest": "sha256:'
    + b"0" * 64 + b'", "size": -1}, "layers": []}',
])
def test_malformed_manifests_are_manifest_invalid(client: TestClient, registry_root: Path,
                                                  body: bytes) -> None:
    """spec.md "Pushing Manifests": a body that is not a valid manifest is MANIFEST_INVALID;
    no manifest, tag or file appears."""
    push_blob(client, "a", b"seed")
    before = _stored_files(registry_root)
    r = client.put("/v2/a/manifests/v1", content=body,
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code == 400, r.text
    assert error_codes(r) == ["MANIFEST_INVALID"]
    assert client.get("/v2/a/manifests/v1").status_code == 404
    assert _stored_files(registry_root) == before


def test_docker_manifest_with_unknown_layer_media_type(client: TestClient) -> None:
    """image-spec / Docker schema 2: layers need a known layer media type."""
    config, layer = b"{}", b"l"
    push_blob(client, "a", config)
    push_blob(client, "a", layer)
    doc = {"schemaVersion": 2, "mediaType": mediatype.DOCKER_MANIFEST,
           "config": {"mediaType": mediatype.DOCKER_CONFIG, "digest": sha256(config), "size": 2},
           "layers": [{"mediaType": "application/x-unknown", "digest": sha256(layer),
                       "size": 1}]}
    r = client.put("/v2/a/manifests/v1", content=json.dumps(doc).encode(),
                   headers={"Content-Type": mediatype.DOCKER_MANIFEST})
    assert r.status_code == 400 and error_codes(r) == ["MANIFEST_INVALID"]


def test_bad_content_length_and_ranges(client: TestClient) -> None:
    """spec.md "Pushing a blob in chunks": wrong Content-Length vs Content-Range is
    SIZE_INVALID; malformed ranges are 416; nothing partial is kept."""
    r = client.post("/v2/a/blobs/uploads/")
    location = r.headers["Location"]
    for headers, status in (({"Content-Range": "0-9", "Content-Length": "5"}, 400),
                            ({"Content-Range": "5-0"}, 416), ({"Content-Range": "abc"}, 416),
                            ({"Content-Range": "-1-3"}, 416)):
        r = client.patch(location, content=b"12345", headers=headers)
        assert r.status_code == status, (headers, r.text)
        assert set(error_codes(r)) <= SPEC_CODES
    assert client.get(location).headers["Range"] == "0-0"
    assert (client.get(location).status_code, client.get(location).text) == (204, "")


def test_bad_query_parameters(client: TestClient) -> None:
    """Bad digests in ?digest=, ?mount= and unsupported ?digest-algorithm= are 400s."""
    for params in ({"digest": "nope"}, {"digest": "sha256:12"}, {"mount": "x", "from": "a"},
                   {"digest-algorithm": "md5"}, {"mount": sha256(b"a"), "from": "BAD"}):
        r = client.post("/v2/a/blobs/uploads/", params=params, content=b"data")
        assert r.status_code == 400, (params, r.text)
        assert set(error_codes(r)) <= SPEC_CODES
    assert client.get("/v2/_catalog").json()["repositories"] == []


def test_random_requests_never_500(client: TestClient, registry_root: Path) -> None:
    """Issue: "No request a client can send produces a 500" — a seeded fuzz over methods,
    paths, headers and bodies."""
    push_image(client, "lib/app", "v1")
    rng = random.Random(1234)
    pieces = ["v2", "lib", "app", "manifests", "blobs", "uploads", "tags", "list", "referrers",
              "_catalog", "v1", sha256(b"x"), "sha256:", "..", ".", "%00", "%ff", "A", "0" * 32,
              "api", "history", "repositories", "", "latest", "%2F"]
    headers_pool = [{"Content-Type": mediatype.OCI_MANIFEST}, {"Content-Range": "0-3"},
                    {"Content-Range": "zz"}, {"Accept": "*/*"}, {"Range": "bytes=5-1"},
                    {"Range": "bytes=-3"}, {"Content-Type": "text/plain"}, {}]
    bodies = [b"", b"{}", b"\x00" * 10, b'{"schemaVersion": 2, "manifests": []}', b"x" * 1000]
    for _ in range(400):
        path = rng.choice(["/v2/", "/api/v1/", "/"]) + "/".join(
            rng.choice(pieces) for _ in range(rng.randint(1, 7)))
        path = "/" + path.lstrip("/")  # "//x" would read as a host
        if rng.random() < 0.3:
            path += "/"
        if rng.random() < 0.3:
            path += "?" + rng.choice(["n=-1", "n=abc", "last=%ff", "digest=sha256:zz",
                                      "mount=&from=", "artifactType=", "n=99999999999999"])
        method = rng.choice(["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"])
        r = client.request(method, path, headers=rng.choice(headers_pool),
                           content=rng.choice(bodies))
        assert r.status_code < 500, (method, path, r.status_code, r.text)
    assert client.get("/v2/lib/app/manifests/v1").status_code in (200, 404)
