"""Immutable tag rules per namespace: a push that would move a matching tag is refused
with 403 DENIED and a message naming the rule; creating it, re-pushing the same
manifest and mutable tags (latest) still work; matching tags cannot be deleted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from lamina.registry.auth.admin import Administration
from tests.registry.auth.helpers import ADMIN_ACTOR
from tests.registry.helpers import error_codes, image_manifest, make_client, push_image, sha256


@pytest.fixture
def client(access_root: Path, administration: Administration) -> Iterator[TestClient]:
    administration.set_rules(ADMIN_ACTOR, "team", immutable=["v*"])
    with make_client(access_root) as c:
        yield c


def test_moving_an_immutable_tag_is_refused(client: TestClient) -> None:
    first, body = push_image(client, "team/app", "v1.0", layers=[b"one"])
    r = client.put("/v2/team/app/manifests/v1.0", content=image_manifest(b"{}", []),
                   headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert r.status_code == 403 and error_codes(r) == ["DENIED"]
    message = r.json()["errors"][0]["message"]
    assert "tag v1.0 of team/app is immutable (namespace team rule 'v*')" in message
    assert first in message
    assert client.get("/v2/team/app/manifests/v1.0").content == body


def test_same_digest_again_and_mutable_tags_are_fine(client: TestClient) -> None:
    push_image(client, "team/app", "v2", layers=[b"one"])
    push_image(client, "team/app", "v2", layers=[b"one"])  # the same bytes: not a move
    push_image(client, "team/app", "latest", layers=[b"one"])
    push_image(client, "team/app", "latest", layers=[b"two"])
    assert client.get("/v2/team/app/tags/list").json()["tags"] == ["latest", "v2"]


def test_moving_through_the_tag_parameter_is_refused(client: TestClient) -> None:
    """spec.md "Pushing Manifests with tags" (?tag=): the same rule applies."""
    push_image(client, "team/app", "v3", layers=[b"one"])
    other = image_manifest(b"{}", [])
    digest = sha256(other)
    client.post("/v2/team/app/blobs/uploads/", params={"digest": digest}, content=b"")
    r = client.put(f"/v2/team/app/manifests/{digest}", params={"tag": "v3"}, content=other,
                   headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert r.status_code == 403 and error_codes(r) == ["DENIED"]


def test_immutable_tags_cannot_be_deleted(client: TestClient) -> None:
    digest, _ = push_image(client, "team/app", "v4", layers=[b"one"])
    for ref in ("v4", digest):
        r = client.delete(f"/v2/team/app/manifests/{ref}")
        assert r.status_code == 403 and error_codes(r) == ["DENIED"]
    assert client.get("/v2/team/app/manifests/v4").status_code == 200


def test_other_namespaces_are_not_affected(client: TestClient) -> None:
    push_image(client, "own/app", "v1", layers=[b"one"])
    push_image(client, "own/app", "v1", layers=[b"two"])
