"""Quotas per namespace in bytes, counted with dedup: a blob shared by repositories,
manifests or tags of the namespace counts once. A push that would exceed the quota
is refused with 403 DENIED (detail reason "quota") and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from lamina.oci import mediatype
from lamina.registry.auth.admin import Administration
from tests.registry.auth.helpers import ADMIN_ACTOR
from tests.registry.helpers import error_codes, image_manifest, make_client, push_blob

LAYER = b"L" * 4000
CONFIG = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": []}}).encode()


@pytest.fixture
def client(access_root: Path, administration: Administration) -> Iterator[TestClient]:
    administration.set_rules(ADMIN_ACTOR, "team", quota_bytes=6000)
    with make_client(access_root) as c:
        yield c


def _push(client: TestClient, repo: str, tag: str, layers: list[bytes]) -> int:
    for blob in (CONFIG, *layers):
        push_blob(client, repo, blob)
    body = image_manifest(CONFIG, layers)
    return client.put(f"/v2/{repo}/manifests/{tag}", content=body,
                      headers={"Content-Type": mediatype.OCI_MANIFEST}).status_code


def test_shared_layers_count_once(client: TestClient) -> None:
    assert _push(client, "team/a", "v1", [LAYER]) == 201
    # Another repository and another tag with the same layer add only a manifest.
    assert _push(client, "team/b", "v1", [LAYER]) == 201
    assert _push(client, "team/a", "v2", [LAYER]) == 201


def test_exceeding_the_quota_is_denied(client: TestClient) -> None:
    assert _push(client, "team/a", "v1", [LAYER]) == 201
    big = b"B" * 3000
    for blob in (CONFIG, big):
        push_blob(client, "team/a", blob)
    r = client.put("/v2/team/a/manifests/v2", content=image_manifest(CONFIG, [LAYER, big]),
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code == 403 and error_codes(r) == ["DENIED"]
    error = r.json()["errors"][0]
    assert error["message"].startswith("quota exceeded: namespace team holds")
    assert error["detail"]["reason"] == "quota" and error["detail"]["quota"] == 6000
    assert client.get("/v2/team/a/tags/list").json()["tags"] == ["v1"]
    # Other namespaces have no quota.
    assert _push(client, "own/a", "v1", [LAYER, big]) == 201


def test_a_full_namespace_takes_no_more_uploads(client: TestClient,
                                                 administration: Administration) -> None:
    """Once the namespace holds its quota, even starting a blob upload is DENIED."""
    assert _push(client, "team/a", "v1", [LAYER]) == 201
    administration.set_rules(ADMIN_ACTOR, "team", quota_bytes=4000)
    r = client.post("/v2/team/a/blobs/uploads/")
    assert r.status_code == 403 and error_codes(r) == ["DENIED"]
    assert r.json()["errors"][0]["detail"]["reason"] == "quota"
    assert client.post("/v2/own/a/blobs/uploads/").status_code == 202
    # The same content again (every blob already held) is still a valid push.
    assert client.put("/v2/team/a/manifests/v1-again", content=image_manifest(CONFIG, [LAYER]),
                      headers={"Content-Type": mediatype.OCI_MANIFEST}).status_code == 201
