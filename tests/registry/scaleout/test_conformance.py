"""The OCI conformance suite's checks (distribution-spec v1.1.1 ``conformance/``), ported
as requests of our own, against the embedded default and against two replicas on Ceph RGW
+ PostgreSQL behind nginx: pull and push here, content discovery and content management in
test_conformance_discovery.py.

Each test makes the suite's requests and expects its status codes and headers; the
docstrings cite spec.md's section and endpoint ids (end-1 ... end-13). Over nginx,
consecutive requests of one test land on different replicas (round robin).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lamina.oci import mediatype
from tests.registry.helpers import (
    RegistryServer,
    descriptor,
    error_codes,
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
# The suite's manifests indent with tabs (Go's MarshalIndent).
TAB = "\t"
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


def suite_manifest(client: httpx.Client, repo: str, config: bytes, layers: list[bytes],
                   media_type: bool = True) -> bytes:
    """The suite's image manifest, its blobs pushed first: the config descriptor carries
    the config in ``data`` and a field no spec defines (``newUnspecifiedField``), which a
    registry must keep (image-spec "Extensibility"); without ``media_type`` the manifest has
    no mediaType field, like the suite's manifest with no layers."""
    for blob in (config, *layers):
        push_blob(client, repo, blob)
    config_descriptor = {**descriptor(mediatype.OCI_CONFIG, config),
                         "data": base64.b64encode(config).decode(),
                         "newUnspecifiedField": base64.b64encode(b"hello world").decode()}
    doc: dict[str, Any] = {"schemaVersion": 2, "config": config_descriptor,
                           "layers": [descriptor(mediatype.OCI_LAYER_GZIP, b) for b in layers]}
    if media_type:
        doc = {"schemaVersion": 2, "mediaType": mediatype.OCI_MANIFEST, **doc}
    return json.dumps(doc, indent=TAB).encode()


def put_manifest(client: httpx.Client, repo: str, ref: str, body: bytes) -> httpx.Response:
    """end-7: PUT /v2/<name>/manifests/<reference> with the OCI manifest Content-Type."""
    return client.put(f"/v2/{repo}/manifests/{ref}", content=body,
                      headers={"Content-Type": mediatype.OCI_MANIFEST})


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
    a reference that cannot be a tag is simply not there, 404; two manifests (the suite's
    manifest[0] and [1]) by digest and one by tag are 200 with Docker-Content-Digest (where
    sent) equal to the manifest's digest, GET with the exact bytes and the media type as
    Content-Type."""
    layer = b"suite layer"
    bodies = [suite_manifest(client, repo, f'{{"author": "config {i}"}}'.encode(), [layer])
              for i in range(2)]
    assert put_manifest(client, repo, "tagtest0", bodies[0]).status_code == 201
    assert put_manifest(client, repo, sha256(bodies[1]), bodies[1]).status_code == 201
    accept = {"Accept": mediatype.OCI_MANIFEST}
    for method in ("HEAD", "GET"):
        r = client.request(method, f"/v2/{repo}/manifests/{NONEXISTENT_MANIFEST}")
        assert r.status_code == 404
        for ref, body in ((sha256(bodies[0]), bodies[0]), (sha256(bodies[1]), bodies[1]),
                          ("tagtest0", bodies[0])):
            r = client.request(method, f"/v2/{repo}/manifests/{ref}", headers=accept)
            assert r.status_code == 200
            assert r.headers.get("Docker-Content-Digest", sha256(body)) == sha256(body)
            if method == "GET":
                assert r.content == body
                assert r.headers["Content-Type"] == mediatype.OCI_MANIFEST


def test_error_body_of_a_400_is_the_spec_json(client: httpx.Client, repo: str) -> None:
    """spec.md "Error Codes": a 400 carries ``{"errors": [{"code": ...}]}`` whose code is
    one of the spec's (the suite PUTs "blablabla" at "sha256:totallywrong")."""
    r = put_manifest(client, repo, "sha256:totallywrong", b"blablabla")
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
    """spec.md "Pushing a blob in chunks" (end-5 PATCH with Content-Range, end-13 GET of the
    session, end-6 PUT): a chunk out of order is 416; the first chunk 202 with Range; the
    same chunk again 416; GET of the session (at the POST's Location) 204 with a Location
    and the Range so far; the second chunk 202 with a Location; PUT with ``?digest=`` and
    no body 201 with a Location; the blob is the chunks joined."""
    blob = bytes(range(256)) * 4 + b"odd"
    first, second = blob[:len(blob) // 2 + 1], blob[len(blob) // 2 + 1:]
    ranges = (f"0-{len(first) - 1}", f"{len(first)}-{len(blob) - 1}")
    location = begin_upload(client, repo, **{"Content-Length": "0"})
    r = client.patch(location, content=second, headers={**OCTETS, "Content-Range": ranges[1]})
    assert r.status_code == 416
    location = begin_upload(client, repo, **{"Content-Length": "0"})
    r = client.patch(location, content=first, headers={**OCTETS, "Content-Range": ranges[0]})
    assert r.status_code == 202, r.text
    assert r.headers["Range"] == ranges[0]
    r = client.patch(location, content=first, headers={**OCTETS, "Content-Range": ranges[0]})
    assert r.status_code == 416
    r = client.get(location)
    assert r.status_code == 204
    assert r.headers["Location"] and r.headers["Range"] == ranges[0]
    r = client.patch(r.headers["Location"], content=second,
                     headers={**OCTETS, "Content-Range": ranges[1]})
    assert r.status_code == 202, r.text
    assert r.headers["Location"]
    r = client.put(r.headers["Location"], params={"digest": sha256(blob)},
                   headers={**OCTETS, "Content-Length": "0"})
    assert r.status_code == 201, r.text
    assert r.headers["Location"]
    assert client.get(f"/v2/{repo}/blobs/{sha256(blob)}").content == blob


def test_version_check_and_upload_status(client: httpx.Client, repo: str) -> None:
    """spec.md end-1 (GET /v2/ is 200) and "Pushing a blob in chunks" end-13 (GET of an
    upload session is 204 with its Location and the Range received so far)."""
    assert client.get("/v2/").status_code == 200
    location = begin_upload(client, repo)
    r = client.patch(location, content=b"0123456789", headers=OCTETS)
    assert r.status_code == 202
    r = client.get(r.headers["Location"])
    assert r.status_code == 204
    assert r.headers["Location"] and r.headers["Range"] == "0-9"


def test_cross_repository_mount(client: httpx.Client, repo: str) -> None:
    """spec.md "Mounting a blob from another repository" (end-11 POST ``?mount=&from=``):
    without ``from`` the registry opens a session, 202 with a Location; a blob the source
    holds is mounted, 201 with Location /v2/<name>/blobs/<digest>, and GET there is 200; a
    blob the source lacks falls back to a session under /v2/<name>/blobs/uploads/."""
    source, target = repo, f"{repo}-crossmount"
    digest = push_blob(client, source, b"blob to mount")
    uploads = f"/v2/{target}/blobs/uploads/"
    r = client.post(uploads, params={"mount": ABSENT})
    assert r.status_code == 202 and r.headers["Location"]
    r = client.post(uploads, params={"mount": digest, "from": source})
    assert r.status_code == 201
    assert httpx.URL(r.headers["Location"]).path == f"/v2/{target}/blobs/{digest}"
    r = client.get(r.headers["Location"])
    assert r.status_code == 200 and r.content == b"blob to mount"
    r = client.post(uploads, params={"mount": ABSENT, "from": source})
    assert r.status_code == 202
    assert httpx.URL(r.headers["Location"]).path.startswith(uploads)


def test_manifest_upload(client: httpx.Client, repo: str) -> None:
    """spec.md "Pushing Manifests" (end-7): a nonexistent manifest is 404; the suite's
    manifest PUT under four tags is 201 with a Location each time; a manifest with no
    layers (and no mediaType field, the Content-Type says what it is) is 201 with a
    Location; GET by digest with Accept (end-3) is 200 with the same bytes."""
    assert client.get(f"/v2/{repo}/manifests/{NONEXISTENT_MANIFEST}").status_code == 404
    body = suite_manifest(client, repo, b'{"author": "push"}', [b"manifest upload layer"])
    for i in range(4):
        r = put_manifest(client, repo, f"test{i}", body)
        assert r.status_code == 201, r.text
        assert r.headers["Location"]
    empty = suite_manifest(client, repo, b'{"author": "push"}', [], media_type=False)
    r = put_manifest(client, repo, "emptylayer", empty)
    assert r.status_code == 201, r.text
    assert r.headers["Location"]
    for doc in (body, empty):
        r = client.get(f"/v2/{repo}/manifests/{sha256(doc)}",
                       headers={"Accept": mediatype.OCI_MANIFEST})
        assert r.status_code == 200 and r.content == doc


def test_push_teardown_deletes_answer_2xx(client: httpx.Client, repo: str) -> None:
    """The suite's push teardown: DELETE of the pushed manifest (end-9) and of a blob
    (end-10) answer 2xx."""
    digest, _ = push_image(client, repo, "v1")
    blob = push_blob(client, repo, b"teardown blob")
    assert 200 <= client.delete(f"/v2/{repo}/blobs/{blob}").status_code < 300
    assert 200 <= client.delete(f"/v2/{repo}/manifests/{digest}").status_code < 300
