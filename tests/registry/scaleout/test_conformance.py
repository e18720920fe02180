"""The OCI conformance suite's checks (distribution-spec v1.1.1 ``conformance/``: pull,
push, content discovery, content management), ported as requests of our own, against the
embedded default and against two replicas on Ceph RGW + PostgreSQL behind nginx.

Each test makes the suite's requests and expects its status codes and headers; the
docstrings cite spec.md's section and endpoint ids (end-1 ... end-13). Over nginx,
consecutive requests of one test land on different replicas (round robin).
"""

from __future__ import annotations

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
    """spec.md "Mounting a blob from another repository" (end-11 POST ``?mount=&from=``): a
    blob the source holds is mounted, 201 with a Location; without ``from`` or for a blob
    the source lacks, the registry opens an ordinary session instead, 202."""
    digest = push_blob(client, f"{repo}-source", b"blob to mount")
    uploads = f"/v2/{repo}/blobs/uploads/"
    assert client.post(uploads, params={"mount": digest}).status_code == 202
    r = client.post(uploads, params={"mount": ABSENT, "from": f"{repo}-source"})
    assert r.status_code == 202 and r.headers["Location"]
    r = client.post(uploads, params={"mount": digest, "from": f"{repo}-source"})
    assert r.status_code == 201 and r.headers["Location"]
    assert client.get(f"/v2/{repo}/blobs/{digest}").content == b"blob to mount"


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


# --- Content discovery -----------------------------------------------------------------


def test_tags_list_with_n_and_last(client: httpx.Client, repo: str) -> None:
    """spec.md "Listing Tags" (end-8a GET /v2/<name>/tags/list, end-8b with ``n`` and
    ``last``): 200 with every tag; ``n`` limits the list to n; ``last`` starts after the
    given tag."""
    for i in range(4):
        push_image(client, repo, f"test{i}")
    r = client.get(f"/v2/{repo}/tags/list")
    assert r.status_code == 200
    assert r.json() == {"name": repo, "tags": ["test0", "test1", "test2", "test3"]}
    r = client.get(f"/v2/{repo}/tags/list", params={"n": 2})
    assert r.status_code == 200
    first = r.json()["tags"]
    assert len(first) == 2
    r = client.get(f"/v2/{repo}/tags/list", params={"n": 2, "last": first[-1]})
    assert r.status_code == 200
    rest = r.json()["tags"]
    assert len(rest) <= 2 and first[-1] not in rest
    assert first + rest == ["test0", "test1", "test2", "test3"]


ARTIFACT_A = "application/vnd.conformance.a"
ARTIFACT_B = "application/vnd.conformance.b"
ANNOTATION = "org.opencontainers.conformance.test"
EMPTY_JSON = b"{}"


def put_referrer(client: httpx.Client, repo: str, doc: dict[str, Any], subject: str,
                 media_type: str = mediatype.OCI_MANIFEST) -> str:
    """PUT by digest (end-7); the answer names the subject in OCI-Subject."""
    body = json.dumps({"schemaVersion": 2, "mediaType": media_type, **doc}).encode()
    r = client.put(f"/v2/{repo}/manifests/{sha256(body)}", content=body,
                   headers={"Content-Type": media_type})
    assert r.status_code == 201, r.text
    assert r.headers["OCI-Subject"] == subject
    return sha256(body)


def test_referrers(client: httpx.Client, repo: str) -> None:
    """spec.md "Listing Referrers" (end-12a GET /v2/<name>/referrers/<digest>, end-12b with
    ``artifactType``) and "Pushing Manifests with Subject": referrers pushed before and after
    their subject, an index among them, and one whose subject is never pushed. Each answer
    is 200, an OCI index, every entry with the manifest's annotations; an absent subject has
    an empty list, never 404; the filter keeps artifact type A and says so in
    OCI-Filters-Applied."""
    config, layer = b'{"architecture": "amd64", "os": "linux"}', b"referrers subject layer"
    subject_body = image_manifest(config, [layer])
    subject = descriptor(mediatype.OCI_MANIFEST, subject_body)
    missing = descriptor(mediatype.OCI_MANIFEST, b'{"never": "pushed"}')
    blob_a, blob_b = b"referrer blob a", b"referrer blob b"
    empty = descriptor(mediatype.OCI_EMPTY, EMPTY_JSON)
    assert empty["digest"] == ("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c06"
                               "0f61caaff8a")
    for blob in (EMPTY_JSON, blob_a):
        push_blob(client, repo, blob)

    def note(text: str) -> dict[str, Any]:
        return {"annotations": {ANNOTATION: text}}

    def config_artifact(kind: str, blob: bytes, text: str) -> str:
        """The artifact type as the config's media type."""
        return put_referrer(client, repo, {
            "config": descriptor(kind, blob), "layers": [empty], "subject": subject,
            **note(text)}, subject["digest"])

    def layer_artifact(kind: str, blob: bytes, text: str, to: dict[str, Any]) -> str:
        """The artifact type in artifactType, the empty JSON as config."""
        return put_referrer(client, repo, {
            "artifactType": kind, "config": empty, "layers": [descriptor(kind, blob)],
            "subject": to, **note(text)}, to["digest"])

    a_config = config_artifact(ARTIFACT_A, blob_a, "a config")
    a_layer = layer_artifact(ARTIFACT_A, blob_a, "a layer", subject)
    index = put_referrer(client, repo, {
        "artifactType": "application/vnd.conformance.index",
        "manifests": [{"mediaType": mediatype.OCI_MANIFEST, "digest": d,
                       "size": int(client.head(f"/v2/{repo}/manifests/{d}")
                                   .headers["Content-Length"])} for d in (a_config, a_layer)],
        "subject": subject, **note("index")}, subject["digest"], mediatype.OCI_INDEX)
    push_image(client, repo, "tagtest0", [layer], config)
    push_blob(client, repo, blob_b)
    expected = {a_config: "a config", a_layer: "a layer", index: "index",
                config_artifact(ARTIFACT_B, blob_b, "b config"): "b config",
                layer_artifact(ARTIFACT_B, blob_b, "b layer", subject): "b layer"}
    c_layer = layer_artifact(ARTIFACT_B, blob_b, "c layer", missing)

    def referrers(digest: str, **params: str) -> httpx.Response:
        r = client.get(f"/v2/{repo}/referrers/{digest}", params=params)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == mediatype.OCI_INDEX
        return r

    assert referrers(ABSENT).json()["manifests"] == []
    found = referrers(subject["digest"]).json()["manifests"]
    assert {m["digest"]: m["annotations"] for m in found} == {
        d: {ANNOTATION: text} for d, text in expected.items()}
    assert len(found) == 5
    r = referrers(subject["digest"], artifactType=ARTIFACT_A)
    assert r.headers["OCI-Filters-Applied"] == "artifactType"
    assert {m["digest"] for m in r.json()["manifests"]} == {a_config, a_layer}
    assert [m["digest"] for m in referrers(missing["digest"]).json()["manifests"]] == [c_layer]


# --- Content management ----------------------------------------------------------------


def test_delete_tag_then_manifest_then_blob(client: httpx.Client, repo: str) -> None:
    """spec.md "Deleting tags" and "Deleting Manifests" (end-9 DELETE
    /v2/<name>/manifests/<reference>) and "Deleting Blobs" (end-10): DELETE of a tag is 202;
    of the manifest by digest 202; the manifest is then 404 and the tags list no longer
    shows its tags; DELETE of its config blob is 202 and the blob then 404."""
    push_image(client, repo, "keep", [b"another image's layer"])
    config = b'{"architecture": "arm64", "os": "linux"}'
    digest, _ = push_image(client, repo, "tagtest0", config=config)
    push_image(client, repo, "tagtest1", config=config)
    assert len(client.get(f"/v2/{repo}/tags/list").json()["tags"]) == 3
    assert client.delete(f"/v2/{repo}/manifests/tagtest0").status_code == 202
    assert client.get(f"/v2/{repo}/manifests/tagtest0").status_code == 404
    assert client.delete(f"/v2/{repo}/manifests/{digest}").status_code == 202
    assert client.get(f"/v2/{repo}/manifests/{digest}").status_code == 404
    r = client.get(f"/v2/{repo}/tags/list")
    assert r.status_code == 200 and r.json()["tags"] == ["keep"]
    assert client.delete(f"/v2/{repo}/blobs/{sha256(config)}").status_code == 202
    assert client.get(f"/v2/{repo}/blobs/{sha256(config)}").status_code == 404


def test_errors_of_deletes_are_spec_json(client: httpx.Client, repo: str) -> None:
    """spec.md "Deleting Manifests" and "Deleting Blobs": what is not there is 404 with
    MANIFEST_UNKNOWN / BLOB_UNKNOWN."""
    push_image(client, repo, "v1")
    r = client.delete(f"/v2/{repo}/manifests/{ABSENT}")
    assert r.status_code == 404 and error_codes(r) == ["MANIFEST_UNKNOWN"]
    r = client.delete(f"/v2/{repo}/blobs/{ABSENT}")
    assert r.status_code == 404 and error_codes(r) == ["BLOB_UNKNOWN"]
