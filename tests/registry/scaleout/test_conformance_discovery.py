"""The OCI conformance suite's content discovery and content management checks
(distribution-spec v1.1.1 ``conformance/03_discovery_test.go``, ``04_management_test.go``)
against both deployments; pull and push are in test_conformance.py, whose fixtures these
tests share."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from lamina.oci import mediatype
from tests.registry.helpers import (
    descriptor,
    error_codes,
    image_manifest,
    push_blob,
    push_image,
    sha256,
)
from tests.registry.scaleout.test_conformance import ABSENT, client, repo

pytestmark = pytest.mark.integration  # Ceph RGW, PostgreSQL and nginx

__all__ = ["client", "repo"]  # the fixtures, used here by name


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
    OCI-Filters-Applied; once the referrers are deleted, the lists are empty."""
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
    b_config = config_artifact(ARTIFACT_B, blob_b, "b config")
    b_layer = layer_artifact(ARTIFACT_B, blob_b, "b layer", subject)
    expected = {a_config: "a config", a_layer: "a layer", index: "index",
                b_config: "b config", b_layer: "b layer"}
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
    # The suite's teardown: the index first (it holds the A manifests), then the rest, the
    # subject among them; each DELETE (end-9) is 202 and the list empties, still 200.
    for digest in (index, a_config, a_layer, subject["digest"], b_config, b_layer, c_layer):
        assert client.delete(f"/v2/{repo}/manifests/{digest}").status_code == 202
    assert referrers(subject["digest"]).json()["manifests"] == []
    assert referrers(missing["digest"]).json()["manifests"] == []


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
