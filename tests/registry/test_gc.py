"""``lamina registry gc``: online mark and sweep with a grace period (issue "Operations")."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from lamina.oci import mediatype
from lamina.registry.gc import collect
from lamina.registry.settings import RegistrySettings
from tests.registry.helpers import push_blob, push_image, sha256
from tests.tools import lamina


def _files(root: Path) -> set[str]:
    return {p.name for p in (root / "blobs").rglob("*") if p.is_file()}


def test_gc_removes_only_unreferenced_blobs(client: TestClient, registry_root: Path) -> None:
    """Blobs of a deleted manifest go (and the bytes freed are printed); blobs still
    referenced, also shared ones, stay; pulls keep working."""
    keep_digest, _ = push_image(client, "a", "v1", layers=[b"shared", b"only-a"])
    gone_digest, _ = push_image(client, "b", "v1", layers=[b"shared", b"only-b"])
    assert client.delete(f"/v2/b/manifests/{gone_digest}").status_code == 202
    dry = lamina("registry", "gc", "--root", registry_root, "--grace", "0", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert sha256(b"only-b") in dry.stdout and "would remove" in dry.stdout
    assert sha256(b"only-b").split(":")[1] in _files(registry_root)
    result = lamina("registry", "gc", "--root", registry_root, "--grace", "0", "--format",
                    "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    removed = {b["digest"] for b in report["blobs"]}
    assert sha256(b"only-b") in removed and gone_digest in removed
    assert sha256(b"shared") not in removed and sha256(b"only-a") not in removed
    assert report["freed_bytes"] >= len(b"only-b")
    assert sha256(b"only-b").split(":")[1] not in _files(registry_root)
    assert client.get(f"/v2/a/manifests/{keep_digest}").status_code == 200
    for layer in (b"shared", b"only-a"):
        assert client.get(f"/v2/a/blobs/{sha256(layer)}").content == layer
    assert client.head(f"/v2/b/blobs/{sha256(b'only-b')}").status_code == 404


def test_gc_spares_fresh_blobs_and_running_uploads(client: TestClient,
                                                   registry_root: Path) -> None:
    """Online safety: a blob pushed moments ago (not yet in any manifest) and an upload in
    progress survive gc with the default grace period, and the push then completes."""
    push_blob(client, "a", b"config")
    push_blob(client, "a", b"layer in flight")
    r = client.post("/v2/a/blobs/uploads/")
    location = r.headers["Location"]
    client.patch(location, content=b"half", headers={"Content-Range": "0-3"})
    report = collect(RegistrySettings(root=registry_root))
    assert report.blobs == [] and report.uploads == []
    body = json.dumps({"schemaVersion": 2, "mediaType": mediatype.OCI_MANIFEST,
                       "config": {"mediaType": mediatype.OCI_CONFIG, "digest": sha256(b"config"),
                                  "size": 6},
                       "layers": [{"mediaType": mediatype.OCI_LAYER, "size": 15,
                                   "digest": sha256(b"layer in flight")}]}).encode()
    r = client.put("/v2/a/manifests/v1", content=body,
                   headers={"Content-Type": mediatype.OCI_MANIFEST})
    assert r.status_code == 201
    r = client.put(location, params={"digest": sha256(b"half-done")}, content=b"-done",
                   headers={"Content-Range": "4-8"})
    assert r.status_code == 201


def test_gc_delete_untagged_keeps_referrers_and_index_children(
        client: TestClient, registry_root: Path) -> None:
    """--delete-untagged: a manifest no tag reaches goes; a tagged one's referrers stay."""
    old_digest, _ = push_image(client, "a", "v1", layers=[b"old layer"])
    new_digest, new_body = push_image(client, "a", "v1", layers=[b"new layer"])
    push_blob(client, "a", b"sig")
    push_blob(client, "a", b"{}")
    referrer = json.dumps({
        "schemaVersion": 2, "mediaType": mediatype.OCI_MANIFEST,
        "artifactType": "application/vnd.example.sig",
        "config": {"mediaType": mediatype.OCI_EMPTY, "digest": sha256(b"{}"), "size": 2},
        "layers": [{"mediaType": "application/octet-stream", "digest": sha256(b"sig"),
                    "size": 3}],
        "subject": {"mediaType": mediatype.OCI_MANIFEST, "digest": new_digest,
                    "size": len(new_body)}}).encode()
    assert client.put(f"/v2/a/manifests/{sha256(referrer)}", content=referrer,
                      headers={"Content-Type": mediatype.OCI_MANIFEST}).status_code == 201
    report = collect(RegistrySettings(root=registry_root, gc_grace_seconds=0),
                     delete_untagged=True)
    assert report.manifests == [f"a@{old_digest}"]
    assert sha256(b"old layer") in {str(d) for d, _ in report.blobs}
    assert client.get(f"/v2/a/manifests/{old_digest}").status_code == 404
    assert client.get(f"/v2/a/manifests/{sha256(referrer)}").status_code == 200
    assert client.get(f"/v2/a/blobs/{sha256(b'sig')}").status_code == 200
    assert client.get("/v2/a/manifests/v1").status_code == 200


def test_gc_removes_stale_uploads(client: TestClient, registry_root: Path) -> None:
    """Abandoned upload sessions older than upload_expiry_seconds are removed."""
    location = client.post("/v2/a/blobs/uploads/").headers["Location"]
    client.patch(location, content=b"abandoned")
    report = collect(RegistrySettings(root=registry_root, upload_expiry_seconds=0),
                     now=9e9)
    assert len(report.uploads) == 1
    assert client.get(location).status_code == 404


def test_gc_removes_scratch_of_interrupted_writes(client: TestClient,
                                                  registry_root: Path) -> None:
    """A crash inside a manifest write leaves a scratch file; gc removes it once old."""
    push_image(client, "a", "v1")
    scratch = registry_root / "uploads" / ".put-deadbeef-1-2"
    scratch.write_bytes(b"half a manifest")
    report = collect(RegistrySettings(root=registry_root, gc_grace_seconds=0), now=9e9)
    assert not scratch.exists()
    assert report.freed_bytes >= len(b"half a manifest")
    assert client.get("/v2/a/manifests/v1").status_code == 200
