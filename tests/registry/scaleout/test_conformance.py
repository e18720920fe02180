"""The OCI conformance suite's checks (distribution-spec v1.1.1 ``conformance/``: pull,
push, content discovery, content management), ported as requests of our own, against the
embedded default and against two replicas on Ceph RGW + PostgreSQL behind nginx.

Each test makes the suite's requests and expects its status codes and headers; the
docstrings cite spec.md's section and endpoint ids (end-1 ... end-13). Over nginx,
consecutive requests of one test land on different replicas (round robin).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from lamina.oci import mediatype
from tests.registry.helpers import (
    RegistryServer,
    error_codes,
    image_manifest,
    push_blob,
    push_image,
    sha256,
)
from tests.registry.scaleout.helpers import Deployment

pytestmark = pytest.mark.integration  # Ceph RGW, PostgreSQL and nginx

# The suite's "dummyDigest": well-formed, never pushed.
ABSENT = "sha256:" + "d" * 64
# The suite's "nonexistentManifest": a reference no push can have made.
NONEXISTENT_MANIFEST = ".INVALID_MANIFEST_NAME"
OCTETS = {"Content-Type": "application/octet-stream"}
# spec.md "Error Codes": code-1 ... code-14.
SPEC_ERROR_CODES = {
    "BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID",
    "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED",
    "TOOMANYREQUESTS"}


@pytest.fixture
def client(any_deployment: RegistryServer | Deployment) -> Iterator[httpx.Client]:
    with any_deployment.client() as c:
        yield c


@pytest.fixture
def repo() -> str:
    return f"conformance/{uuid.uuid4().hex[:10]}"


def begin_upload(client: httpx.Client, repo: str, **headers: str) -> str:
    """end-4a: POST opens a session: 202 with its Location."""
    r = client.post(f"/v2/{repo}/blobs/uploads/", headers=headers)
    assert r.status_code == 202, r.text
    assert r.headers["Location"]
    return r.headers["Location"]


# --- Pull ------------------------------------------------------------------------------


def test_pull_blobs(client: httpx.Client, repo: str) -> None:
    """spec.md "Pulling blobs" (end-2: HEAD and GET /v2/<name>/blobs/<digest>): an absent
    blob is 404; a present one 200, HEAD with its Content-Length and, where sent, a
    Docker-Content-Digest equal to the digest."""
    data = b"conformance config blob"
    digest = push_blob(client, repo, data)
    for method in ("HEAD", "GET"):
        assert client.request(method, f"/v2/{repo}/blobs/{ABSENT}").status_code == 404
    r = client.head(f"/v2/{repo}/blobs/{digest}")
    assert r.status_code == 200
    assert r.headers["Content-Length"] == str(len(data))
    assert r.headers.get("Docker-Content-Digest", digest) == digest
    r = client.get(f"/v2/{repo}/blobs/{digest}")
    assert r.status_code == 200 and r.content == data


def test_pull_manifests(client: httpx.Client, repo: str) -> None:
    """spec.md "Pulling manifests" (end-3: HEAD and GET /v2/<name>/manifests/<reference>):
    a reference that cannot be a tag is simply not there, 404; by digest and by tag 200 with
    Docker-Content-Digest (where sent) equal to the manifest's digest, GET with its bytes
    and its media type as Content-Type."""
    digest, body = push_image(client, repo, "tagtest0")
    accept = {"Accept": mediatype.OCI_MANIFEST}
    for method in ("HEAD", "GET"):
        r = client.request(method, f"/v2/{repo}/manifests/{NONEXISTENT_MANIFEST}")
        assert r.status_code == 404
        for ref in (digest, "tagtest0"):
            r = client.request(method, f"/v2/{repo}/manifests/{ref}", headers=accept)
            assert r.status_code == 200
            assert r.headers.get("Docker-Content-Digest", digest) == digest
            if method == "GET":
                assert r.content == body
                assert r.headers["Content-Type"] == mediatype.OCI_MANIFEST


def test_error_body_of_a_400_is_the_spec_json(client: httpx.Client, repo: str) -> None:
    """spec.md "Error Codes": a 400 carries ``{"errors": [{"code": ...}]}`` whose code is
    one of the spec's (the suite PUTs an invalid manifest at "sha256:totallywrong")."""
    r = client.put(f"/v2/{repo}/manifests/sha256:totallywrong", content=b'{"schemaVersion": 2}',
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code in (400, 404)
    if r.status_code == 400:
        assert error_codes(r) and error_codes(r)[0] in SPEC_ERROR_CODES


# --- Push ------------------------------------------------------------------------------


def test_streamed_upload(client: httpx.Client, repo: str) -> None:
    """spec.md "Pushing a blob in chunks" streamed (end-5 PATCH without Content-Range, then
    end-6 PUT with ``?digest=`` and no body): 202, then 201 with a Location."""
    data = b"streamed blob A" * 100
    location = begin_upload(client, repo)
    r = client.patch(location, content=data, headers=OCTETS)
    assert r.status_code == 202, r.text
    assert r.headers["Location"]
    assert r.headers["Range"] == f"0-{len(data) - 1}"
    r = client.put(r.headers["Location"], params={"digest": sha256(data)},
                   headers={**OCTETS, "Content-Length": "0"})
    assert r.status_code == 201, r.text
    assert r.headers["Location"]
    assert client.get(f"/v2/{repo}/blobs/{sha256(data)}").content == data


def test_monolithic_uploads(client: httpx.Client, repo: str) -> None:
    """spec.md "Pushing a blob monolithically": absent blob 404 first; single POST with
    ``?digest=`` and the body (end-4b) is 201 with a Location; POST (end-4a) then PUT with
    the body (end-6) is 201 with a Location; GET of either (end-2) is 200."""
    one, two = b"monolithic single post", b"monolithic post then put"
    assert client.get(f"/v2/{repo}/blobs/{sha256(one)}").status_code == 404
    r = client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": sha256(one)}, content=one,
                    headers=OCTETS)
    assert r.status_code == 201, r.text
    assert r.headers["Location"]
    location = begin_upload(client, repo)
    r = client.put(location, params={"digest": sha256(two)}, content=two, headers=OCTETS)
    assert r.status_code == 201, r.text
    assert r.headers["Location"]
    for data in (one, two):
        r = client.get(f"/v2/{repo}/blobs/{sha256(data)}")
        assert r.status_code == 200 and r.content == data


def test_chunked_upload(client: httpx.Client, repo: str) -> None:
    """spec.md "Pushing a blob in chunks" (end-5 PATCH with Content-Range, end-6 PUT with the
    last chunk): a chunk out of order is 416; the first chunk 202; the final chunk sent with
    the PUT and its Content-Range 201 with a Location; the blob is the chunks joined."""
    first, second = b"chunk one " * 50, b"chunk two " * 30
    ranges = (f"0-{len(first) - 1}", f"{len(first)}-{len(first) + len(second) - 1}")
    location = begin_upload(client, repo, **{"Content-Length": "0"})
    r = client.patch(location, content=second, headers={**OCTETS, "Content-Range": ranges[1]})
    assert r.status_code == 416
    location = begin_upload(client, repo, **{"Content-Length": "0"})
    r = client.patch(location, content=first, headers={**OCTETS, "Content-Range": ranges[0]})
    assert r.status_code == 202, r.text
    digest = sha256(first + second)
    r = client.put(r.headers["Location"], params={"digest": digest}, content=second,
                   headers={**OCTETS, "Content-Range": ranges[1]})
    assert r.status_code == 201, r.text
    assert r.headers["Location"]
    assert client.get(f"/v2/{repo}/blobs/{digest}").content == first + second


def test_manifest_upload(client: httpx.Client, repo: str) -> None:
    """spec.md "Pushing Manifests" (end-7 PUT /v2/<name>/manifests/<reference>): a
    nonexistent manifest is 404; the same manifest PUT under four tags is 201 with a
    Location each time; GET by digest with Accept (end-3) is 200."""
    config = b'{"architecture": "amd64", "os": "linux"}'
    layer = b"manifest upload layer"
    for blob in (config, layer):
        push_blob(client, repo, blob)
    assert client.get(f"/v2/{repo}/manifests/{NONEXISTENT_MANIFEST}").status_code == 404
    body = image_manifest(config, [layer])
    for i in range(4):
        r = client.put(f"/v2/{repo}/manifests/test{i}", content=body,
                       headers={"Content-Type": mediatype.OCI_MANIFEST})
        assert r.status_code == 201, r.text
        assert r.headers["Location"]
    r = client.get(f"/v2/{repo}/manifests/{sha256(body)}",
                   headers={"Accept": mediatype.OCI_MANIFEST})
    assert r.status_code == 200 and r.content == body


def test_push_teardown_deletes_answer_2xx(client: httpx.Client, repo: str) -> None:
    """The suite's push teardown: DELETE of the pushed manifest (end-9) and of a blob
    (end-10) answer 2xx."""
    digest, _ = push_image(client, repo, "v1")
    blob = push_blob(client, repo, b"teardown blob")
    assert 200 <= client.delete(f"/v2/{repo}/blobs/{blob}").status_code < 300
    assert 200 <= client.delete(f"/v2/{repo}/manifests/{digest}").status_code < 300
