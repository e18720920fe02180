"""Push against docker-registry: skip existing blobs, cross-repository mounts, chunked uploads.

Spec: distribution-spec spec.md "Pushing blobs" (monolithic POST+PUT, chunked
PATCH with Content-Range, upload status GET and its Range header), "Mounting a
blob from another repository", "Checking if content exists in the registry"
(HEAD), "Pushing Manifests".
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lamina.cli.store import open_store
from lamina.client import registry_api
from lamina.oci import mediatype
from lamina.store.load import load
from tests.client.images import layer_tar, make_image
from tests.client.proxy import FaultyProxy
from tests.client.registries import Distribution
from tests.store.builders import add_image
from tests.tools import lamina, run

# Every test here drives a real tool (docker, runc, dpkg, ...).
pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(registry: Distribution) -> Iterator[FaultyProxy]:
    p = FaultyProxy(registry.port)
    yield p
    p.stop()


def _push_json(name: str) -> dict[str, int]:
    result = lamina("push", "--format", "json", name)
    assert result.exit_code == 0, result.stderr
    doc: dict[str, int] = json.loads(result.stdout)
    return doc


def test_push_skips_blobs_the_registry_has(proxy: FaultyProxy) -> None:
    """HEAD before upload: blobs already in the repository are not uploaded again."""
    base = layer_tar("base", 100_000)
    store = open_store()
    make_image(store, f"{proxy.host}/demo/app:1", [base])
    make_image(store, f"{proxy.host}/demo/app:2", [base, layer_tar("top", 10_000)])
    first = _push_json(f"{proxy.host}/demo/app:1")
    assert (first["pushed"], first["skipped"]) == (2, 0)  # config + layer
    uploads = proxy.count("PUT", "/blobs/uploads/")
    second = _push_json(f"{proxy.host}/demo/app:2")
    assert (second["pushed"], second["skipped"], second["mounted"]) == (2, 1, 0)
    assert proxy.count("PUT", "/blobs/uploads/") - uploads == 2
    again = lamina("push", f"{proxy.host}/demo/app:2")
    assert again.exit_code == 0, again.stderr
    assert f"The push refers to repository [{proxy.host}/demo/app]" in again.stderr
    assert "Layer already exists" in again.stderr
    assert again.stdout.startswith("2: digest: sha256:") and " size: " in again.stdout
    assert proxy.count("PUT", "/blobs/uploads/") - uploads == 2


def test_push_mounts_blobs_from_another_repository(proxy: FaultyProxy) -> None:
    """A blob known in another repository of the registry is mounted, not uploaded."""
    base = layer_tar("base", 100_000)
    store = open_store()
    make_image(store, f"{proxy.host}/team/base:1", [base])
    app = make_image(store, f"{proxy.host}/team/app:1", [base, layer_tar("app", 5_000)])
    _push_json(f"{proxy.host}/team/base:1")
    uploads = proxy.count("PUT", "/blobs/uploads/")
    doc = _push_json(f"{proxy.host}/team/app:1")
    assert doc["mounted"] == 1 and doc["pushed"] == 2
    assert proxy.count("PUT", "/blobs/uploads/") - uploads == 2
    head = httpx.head(f"http://{proxy.host}/v2/team/app/blobs/{app.layers[0].digest}")
    assert head.status_code == 200


def test_chunked_upload_resumes_after_a_cut(registry: Distribution,
                                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A chunked upload cut mid-PATCH continues from the offset the upload status reports."""
    monkeypatch.setattr(registry_api, "MONOLITHIC_LIMIT", 10_000)
    monkeypatch.setattr(registry_api, "UPLOAD_CHUNK", 64 * 1024)
    cutter = FaultyProxy(registry.port, "cut_upload")
    try:
        name = f"{cutter.host}/demo/chunked:1"
        pushed = make_image(open_store(), name, [layer_tar("big", 400_000)])
        result = lamina("push", "-q", name)
        assert result.exit_code == 0, result.stderr
        assert cutter.count("PATCH", "/blobs/uploads/") >= 2
        assert cutter.count("GET", "/blobs/uploads/") >= 1  # upload status after the cut
        monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "puller"))
        pulled = lamina("pull", "--format", "json", f"{registry.host}/demo/chunked:1")
        assert pulled.exit_code == 0, pulled.stderr
        assert json.loads(pulled.stdout)["digest"] == str(pushed.manifest_digest)
    finally:
        cutter.stop()


def test_docker_saved_image_is_pushed_gzip_and_docker_pulls_it(
        registry: Distribution, docker: str, busybox_image: str, tmp_path: Path) -> None:
    """Layers stored uncompressed (docker save) go up gzip; config and diff_ids are kept."""
    archive = tmp_path / "busybox.tar"
    run([docker, "save", "-o", archive, busybox_image])
    store = open_store()
    [loaded] = load(store, archive)
    assert loaded.layers[0].descriptor.media_type == mediatype.OCI_LAYER
    name = f"{registry.host}/lamina-test/busybox:pushed"
    assert lamina("tag", busybox_image, name).exit_code == 0
    result = lamina("push", name)
    assert result.exit_code == 0, result.stderr
    manifest = httpx.get(f"http://{registry.host}/v2/lamina-test/busybox/manifests/pushed",
                         headers={"Accept": mediatype.OCI_MANIFEST}).json()
    assert [layer["mediaType"] for layer in manifest["layers"]] == [mediatype.OCI_LAYER_GZIP]
    assert manifest["config"]["digest"] == str(loaded.id)
    after = open_store().resolve(name)
    assert after.id == loaded.id
    assert after.layers[0].diff_id == loaded.layers[0].diff_id
    run([docker, "pull", name])
    try:
        image_id = run([docker, "image", "inspect", "-f", "{{.Id}}", name]).stdout.decode()
        assert image_id.strip() == str(loaded.id)
    finally:
        run([docker, "rmi", name], check=False)
    with tarfile.open(archive) as tar:
        assert "manifest.json" in tar.getnames()


def test_push_of_plain_layers_keeps_one_image_per_id(registry: Distribution) -> None:
    """After a push gzips plain layers the image keeps one ID and one row (image-spec:
    the image ID is the config digest, so a new manifest of the same config is no new image)."""
    name = f"{registry.host}/demo/plain:1"
    image = add_image(open_store(), [{"bin/app": b"a" * 5000}], tags=[name])
    assert image.layers[0].descriptor.media_type == mediatype.OCI_LAYER
    assert lamina("push", name).exit_code == 0
    assert lamina("images", "-q").stdout.split() == [image.id.short]
    rows = lamina("images").stdout.splitlines()[1:]
    assert len(rows) == 1 and "<none>" not in rows[0]
    for text in (image.id.short, image.id.hex, str(image.id)):
        result = lamina("history", text)
        assert result.exit_code == 0, result.stderr
    pushed = open_store().resolve(name)
    assert pushed.layers[0].descriptor.media_type == mediatype.OCI_LAYER_GZIP
    assert pushed.repo_digests == (f"{registry.host}/demo/plain@{pushed.manifest_digest}",)
    pruned = lamina("prune", "-f")
    assert "Deleted images: 0" in pruned.stdout
