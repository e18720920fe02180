"""Strict manifest checks (issue 18): descriptors must describe what the repository
holds, descriptors are of the right kind for the manifest's media type, and an index's
children cannot be deleted from under it. Cites image-spec manifest.md / image-index.md
and distribution-spec spec.md "Pushing Manifests" and "Deleting Manifests"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from lamina.oci import mediatype
from tests.registry.helpers import (
    error_codes,
    make_client,
    push_blob,
    push_image,
    sha256,
)
from tests.tools import lamina

CONFIG = b'{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}'
LAYER = bytes(range(256)) * 4  # 1,024 bytes


def _manifest(config: dict[str, Any], layers: list[dict[str, Any]],
              media_type: str = mediatype.OCI_MANIFEST, **extra: Any) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": media_type, "config": config,
                       "layers": layers, **extra}).encode()


def _desc(media_type: str, data: bytes, size: int | None = None) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256(data),
            "size": len(data) if size is None else size}


def _put(client: TestClient, ref: str, body: bytes, media_type: str = mediatype.OCI_MANIFEST,
         repo: str = "a") -> Any:
    return client.put(f"/v2/{repo}/manifests/{ref}", content=body,
                      headers={"Content-Type": media_type})


def _blobs(client: TestClient) -> None:
    push_blob(client, "a", CONFIG)
    push_blob(client, "a", LAYER)


def test_descriptor_sizes_must_equal_stored_sizes(client: TestClient) -> None:
    """image-spec descriptor.md "size": the exact byte count of the content; a wrong one
    makes clients fail or hang, so it is MANIFEST_INVALID naming both sizes."""
    _blobs(client)
    for layer_size in (0, 1023, 1025, 2**62):
        body = _manifest(_desc(mediatype.OCI_CONFIG, CONFIG),
                         [_desc(mediatype.OCI_LAYER_GZIP, LAYER, layer_size)])
        r = _put(client, "v1", body)
        assert r.status_code == 400, (layer_size, r.text)
        assert error_codes(r) == ["MANIFEST_INVALID"]
        assert r.json()["errors"][0]["detail"] == {"digest": sha256(LAYER), "size": layer_size,
                                                   "stored": 1024}
    body = _manifest(_desc(mediatype.OCI_CONFIG, CONFIG, 1), [])
    assert error_codes(_put(client, "v1", body)) == ["MANIFEST_INVALID"]
    assert client.get("/v2/a/manifests/v1").status_code == 404  # nothing refused is visible
    good = _manifest(_desc(mediatype.OCI_CONFIG, CONFIG), [_desc(mediatype.OCI_LAYER_GZIP, LAYER)])
    assert _put(client, "v1", good).status_code == 201


def test_media_types_must_fit_the_manifest(client: TestClient) -> None:
    """A manifest's config and layers are blobs, never manifests; a Docker schema 2
    manifest carries Docker's config; OCI artifacts may use any other media type."""
    _blobs(client)
    config, layer = _desc(mediatype.OCI_CONFIG, CONFIG), _desc(mediatype.OCI_LAYER_GZIP, LAYER)
    wrong = [
        (_manifest(config, [_desc(mediatype.OCI_MANIFEST, LAYER)]), mediatype.OCI_MANIFEST),
        (_manifest(_desc(mediatype.OCI_INDEX, CONFIG), [layer]), mediatype.OCI_MANIFEST),
        (_manifest(config, [_desc(mediatype.DOCKER_LAYER_GZIP, LAYER)],
                   mediatype.DOCKER_MANIFEST), mediatype.DOCKER_MANIFEST),
    ]
    for body, media_type in wrong:
        r = _put(client, "v1", body, media_type)
        assert r.status_code == 400, r.text
        assert error_codes(r) == ["MANIFEST_INVALID"]
    # What docker, podman and skopeo push, and an OCI artifact with its own types.
    docker = _manifest(_desc(mediatype.DOCKER_CONFIG, CONFIG),
                       [_desc(mediatype.DOCKER_LAYER_GZIP, LAYER)], mediatype.DOCKER_MANIFEST)
    assert _put(client, "docker", docker, mediatype.DOCKER_MANIFEST).status_code == 201
    artifact = _manifest(_desc("application/vnd.example.config+json", CONFIG),
                         [_desc("application/vnd.example.data", LAYER)],
                         artifactType="application/vnd.example")
    assert _put(client, "artifact", artifact).status_code == 201


def _index(*children: dict[str, Any]) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": mediatype.OCI_INDEX,
                       "manifests": list(children)}).encode()


def test_index_children_must_be_manifests_of_the_repository(client: TestClient) -> None:
    """image-spec image-index.md "manifests": each entry is a manifest. A layer blob as a
    child is MANIFEST_INVALID (by its media type) or MANIFEST_BLOB_UNKNOWN (no manifest
    of that digest); a child's declared type and size must match the stored manifest."""
    digest, body = push_image(client, "a", "v1")
    child = {"mediaType": mediatype.OCI_MANIFEST, "digest": digest, "size": len(body)}
    layer = _desc(mediatype.OCI_LAYER_GZIP, b"layer one a")
    r = _put(client, "i", _index(child, layer), mediatype.OCI_INDEX)
    assert (r.status_code, error_codes(r)) == (400, ["MANIFEST_INVALID"])
    blob_as_manifest = {**layer, "mediaType": mediatype.OCI_MANIFEST}
    r = _put(client, "i", _index(child, blob_as_manifest), mediatype.OCI_INDEX)
    assert (r.status_code, error_codes(r)) == (400, ["MANIFEST_BLOB_UNKNOWN"])
    r = _put(client, "i", _index({**child, "size": len(body) + 1}), mediatype.OCI_INDEX)
    assert (r.status_code, error_codes(r)) == (400, ["MANIFEST_INVALID"])
    r = _put(client, "i", _index({**child, "mediaType": mediatype.DOCKER_MANIFEST}),
             mediatype.OCI_INDEX)
    assert (r.status_code, error_codes(r)) == (400, ["MANIFEST_INVALID"])
    assert client.get("/v2/a/manifests/i").status_code == 404
    assert _put(client, "i", _index(child), mediatype.OCI_INDEX).status_code == 201


def _image_and_index(client: TestClient) -> tuple[str, str]:
    digest, body = push_image(client, "a", "v1")
    index = _index({"mediaType": mediatype.OCI_MANIFEST, "digest": digest, "size": len(body)})
    assert _put(client, "multi", index, mediatype.OCI_INDEX).status_code == 201
    return digest, sha256(index)


def test_deleting_a_listed_manifest_is_409_until_the_index_goes(client: TestClient,
                                                                  registry_root: Path) -> None:
    """spec.md "Deleting Manifests" leaves the rule to the registry; deleting a child
    would leave its index dangling, so it is refused (409, naming the index)."""
    child, index = _image_and_index(client)
    r = client.delete(f"/v2/a/manifests/{child}")
    assert r.status_code == 409, r.text
    assert error_codes(r) == ["DENIED"]
    assert r.json()["errors"][0]["detail"] == {"digest": child, "indexes": [index]}
    assert client.get(f"/v2/a/manifests/{child}").status_code == 200
    assert client.delete(f"/v2/a/manifests/{index}").status_code == 202
    assert client.delete(f"/v2/a/manifests/{child}").status_code == 202
    assert lamina("registry", "fsck", "--root", registry_root).exit_code == 0


def test_delete_referenced_allows_it_with_a_warning_and_fsck_reports_it(
        registry_root: Path) -> None:
    with make_client(registry_root, delete_referenced=True) as client:
        child, index = _image_and_index(client)
        r = client.delete(f"/v2/a/manifests/{child}")
        assert r.status_code == 202
        assert r.headers["Warning"].startswith('299 - "manifest was still listed by index')
        assert index in r.headers["Warning"]
    result = lamina("registry", "fsck", "--root", registry_root, "--format", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [(p["kind"], p["digest"]) for p in problems] == [("dangling", child)]
    assert index in problems[0]["detail"]
