"""spec.md "Listing Tags" (end-8), catalog, and "Listing Referrers" (end-12)."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from lamina.oci import mediatype
from tests.registry.helpers import error_codes, push_blob, push_image, sha256


def _tag_all(client: TestClient, repo: str, tags: list[str]) -> None:
    digest, body = push_image(client, repo, tags[0])
    for tag in tags[1:]:
        r = client.put(f"/v2/{repo}/manifests/{tag}", content=body,
                       headers={"Content-Type": mediatype.OCI_MANIFEST})
        assert r.status_code == 201
    assert digest


def test_tags_list_sorted_and_paginated(client: TestClient) -> None:
    """spec.md "Listing Tags": lexical order; n and last; Link rel="next"; n=0 empty, no Link."""
    _tag_all(client, "a", ["b", "a", "d", "c", "e"])
    r = client.get("/v2/a/tags/list")
    assert r.json() == {"name": "a", "tags": ["a", "b", "c", "d", "e"]}
    assert "Link" not in r.headers
    r = client.get("/v2/a/tags/list?n=2")
    assert r.json()["tags"] == ["a", "b"]
    assert r.headers["Link"] == '</v2/a/tags/list?n=2&last=b>; rel="next"'
    r = client.get("/v2/a/tags/list?n=2&last=b")
    assert r.json()["tags"] == ["c", "d"]
    r = client.get("/v2/a/tags/list?n=2&last=d")
    assert r.json()["tags"] == ["e"] and "Link" not in r.headers
    r = client.get("/v2/a/tags/list?last=c")
    assert r.json()["tags"] == ["d", "e"]
    r = client.get("/v2/a/tags/list?n=0")
    assert r.json()["tags"] == [] and "Link" not in r.headers


def test_tags_list_errors(client: TestClient) -> None:
    """spec.md "Listing Tags" end-8: unknown repository 404; bad n is a 400."""
    assert error_codes(client.get("/v2/nope/tags/list")) == ["NAME_UNKNOWN"]
    _tag_all(client, "a", ["x"])
    for bad in ("-1", "abc", "1.5"):
        assert client.get(f"/v2/a/tags/list?n={bad}").status_code == 400


def test_catalog_paginated(client: TestClient) -> None:
    """Catalog with the same n/last/Link pagination as tags."""
    for repo in ("c", "a/b", "b"):
        push_blob(client, repo, b"x")
    assert client.get("/v2/_catalog").json() == {"repositories": ["a/b", "b", "c"]}
    r = client.get("/v2/_catalog?n=2")
    assert r.json()["repositories"] == ["a/b", "b"]
    assert r.headers["Link"] == '</v2/_catalog?n=2&last=b>; rel="next"'
    assert client.get("/v2/_catalog?n=2&last=b").json()["repositories"] == ["c"]


def test_referrers_with_artifact_type_filter(client: TestClient) -> None:
    """spec.md "Listing Referrers": an index of manifests whose subject is the digest, with
    artifactType (else the config mediaType) and annotations; filtering sets
    OCI-Filters-Applied; no referrers is an empty index, never 404."""
    subject_digest, subject = push_image(client, "app", "v1")
    subject_desc = {"mediaType": mediatype.OCI_MANIFEST, "digest": subject_digest,
                    "size": len(subject)}
    empty = b"{}"
    push_blob(client, "app", empty)
    sbom, sig = b'{"sbom": true}', b"signature"
    push_blob(client, "app", sbom)
    push_blob(client, "app", sig)
    docs = []
    for artifact_type, layer in (("application/vnd.example.sbom", sbom),
                                 ("application/vnd.example.sig", sig)):
        doc = {"schemaVersion": 2, "mediaType": mediatype.OCI_MANIFEST,
               "artifactType": artifact_type,
               "config": {"mediaType": mediatype.OCI_EMPTY, "digest": sha256(empty), "size": 2},
               "layers": [{"mediaType": "application/octet-stream", "digest": sha256(layer),
                           "size": len(layer)}],
               "subject": subject_desc, "annotations": {"org.example.kind": artifact_type}}
        body = json.dumps(doc).encode()
        r = client.put(f"/v2/app/manifests/{sha256(body)}", content=body,
                       headers={"Content-Type": mediatype.OCI_MANIFEST})
        assert r.status_code == 201 and r.headers["OCI-Subject"] == subject_digest
        docs.append(body)
    r = client.get(f"/v2/app/referrers/{subject_digest}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == mediatype.OCI_INDEX
    index = r.json()
    assert index["mediaType"] == mediatype.OCI_INDEX
    assert {m["digest"] for m in index["manifests"]} == {sha256(d) for d in docs}
    assert {m["artifactType"] for m in index["manifests"]} == {
        "application/vnd.example.sbom", "application/vnd.example.sig"}
    assert all(m["annotations"]["org.example.kind"] == m["artifactType"]
               for m in index["manifests"])
    r = client.get(f"/v2/app/referrers/{subject_digest}",
                   params={"artifactType": "application/vnd.example.sig"})
    assert r.headers["OCI-Filters-Applied"] == "artifactType"
    assert [m["digest"] for m in r.json()["manifests"]] == [sha256(docs[1])]
    r = client.get(f"/v2/app/referrers/{sha256(b'no referrers')}")
    assert r.status_code == 200 and r.json()["manifests"] == []
    r = client.get("/v2/app/referrers/sha256:zz")
    assert r.status_code == 400 and error_codes(r) == ["DIGEST_INVALID"]


def test_referrer_without_artifact_type_uses_config_media_type(client: TestClient) -> None:
    """spec.md "Listing Referrers": missing artifactType in an image manifest becomes the
    config descriptor's mediaType."""
    subject_digest, subject = push_image(client, "app", "v1")
    config = b'{"k": 1}'
    push_blob(client, "app", config)
    doc = {"schemaVersion": 2, "mediaType": mediatype.OCI_MANIFEST,
           "config": {"mediaType": "application/vnd.example.config", "digest": sha256(config),
                      "size": len(config)}, "layers": [],
           "subject": {"mediaType": mediatype.OCI_MANIFEST, "digest": subject_digest,
                       "size": len(subject)}}
    body = json.dumps(doc).encode()
    assert client.put(f"/v2/app/manifests/{sha256(body)}", content=body,
                      headers={"Content-Type": mediatype.OCI_MANIFEST}).status_code == 201
    got = client.get(f"/v2/app/referrers/{subject_digest}").json()["manifests"]
    assert got[0]["artifactType"] == "application/vnd.example.config"
