"""`lamina copy`: registry to registry (streamed or mounted), --all indexes, OCI layouts, archives.

Spec: image-spec image-index.md (an index and its manifests copied byte for
byte keep their digests), image-layout.md (OCI layouts), distribution-spec
"Mounting a blob from another repository".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lamina.cli.store import open_store
from lamina.oci import mediatype
from lamina.store.image import StoredImage
from tests.client.images import layer_tar, make_image, make_index
from tests.client.registries import Distribution, start_distribution
from tests.tools import lamina, require_tool, run


@pytest.fixture
def second_registry(tmp_path: Path) -> Iterator[Distribution]:
    reg = start_distribution(tmp_path / "second-registry")
    yield reg
    reg.stop()


@pytest.fixture
def multi(registry: Distribution) -> StoredImage:
    """A two-platform image pushed as demo/multi:1."""
    name = f"{registry.host}/demo/multi:1"
    image = make_index(open_store(), name, {
        "linux/amd64": [layer_tar("amd", 20_000), layer_tar("shared", 5_000, b"s" * 16)],
        "linux/arm64": [layer_tar("arm", 20_000)],
    })
    result = lamina("push", "-q", name)
    assert result.exit_code == 0, result.stderr
    return image


def _manifest(host: str, repo: str, reference: str) -> httpx.Response:
    return httpx.get(f"http://{host}/v2/{repo}/manifests/{reference}",
                     headers={"Accept": f"{mediatype.OCI_INDEX}, {mediatype.OCI_MANIFEST}"})


def _copy(*args: str) -> dict[str, object]:
    result = lamina("copy", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


@pytest.mark.integration
def test_copy_all_between_registries_keeps_the_index(registry: Distribution,
                                                     second_registry: Distribution,
                                                     multi: StoredImage) -> None:
    """--all copies the index and every manifest it names, byte for byte."""
    assert multi.index is not None
    doc = _copy("--all", f"docker://{registry.host}/demo/multi:1",
                f"docker://{second_registry.host}/mirror/multi:1")
    assert doc["digest"] == str(multi.index.digest)
    assert doc["copied"] == 5  # two configs, three layers, streamed
    got = _manifest(second_registry.host, "mirror/multi", "1")
    assert got.content == multi.index.raw
    for child in multi.index.manifests:
        assert _manifest(second_registry.host, "mirror/multi", str(child.digest)).status_code == 200


@pytest.mark.integration
def test_copy_one_platform_and_mount_within_a_registry(registry: Distribution,
                                                       multi: StoredImage) -> None:
    """Without --all, the chosen platform's manifest is copied; same registry mounts blobs."""
    assert multi.index is not None
    arm = next(d for d in multi.index.manifests
               if d.platform is not None and d.platform.architecture == "arm64")
    doc = _copy("--platform", "linux/arm64", f"{registry.host}/demo/multi:1",
                f"{registry.host}/other/arm:1")
    assert doc["digest"] == str(arm.digest)
    assert doc["mounted"] == 2 and doc["copied"] == 0
    assert _manifest(registry.host, "other/arm", "1").status_code == 200


@pytest.mark.integration
def test_copy_to_oci_layout_and_back(registry: Distribution, multi: StoredImage,
                                     tmp_path: Path) -> None:
    """registry -> oci:DIR:TAG -> registry keeps every digest; skopeo reads the layout."""
    assert multi.index is not None
    layout = tmp_path / "layout"
    _copy("--all", f"{registry.host}/demo/multi:1", f"oci:{layout}:v1")
    skopeo = require_tool("skopeo")
    raw = run([skopeo, "inspect", "--raw", f"oci:{layout}:v1"]).stdout
    assert raw == multi.index.raw
    single = make_image(open_store(), f"{registry.host}/demo/single:1", [layer_tar("s", 100)])
    assert lamina("push", "-q", f"{registry.host}/demo/single:1").exit_code == 0
    _copy(f"{registry.host}/demo/single:1", f"oci:{layout}:v2")
    assert run([skopeo, "inspect", "--raw", f"oci:{layout}:v2"]).stdout == single.manifest.raw
    assert run([skopeo, "inspect", "--raw", f"oci:{layout}:v1"]).stdout == raw  # kept
    doc = _copy("--all", f"oci:{layout}:v1", f"{registry.host}/from-layout/multi:v1")
    assert doc["digest"] == str(multi.index.digest)
    assert _manifest(registry.host, "from-layout/multi", "v1").content == multi.index.raw


@pytest.mark.integration
def test_copy_docker_archive_to_registry_and_back(registry: Distribution, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """docker-archive:PATH works both ways; the image ID (config digest) survives."""
    name = f"{registry.host}/demo/app:1"
    image = make_image(open_store(), name, [layer_tar("a", 10_000)])
    assert lamina("push", "-q", name).exit_code == 0
    archive = tmp_path / "app.tar"
    _copy(name, f"docker-archive:{archive}")
    _copy(f"docker-archive:{archive}", f"{registry.host}/demo/from-archive:1")
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "puller"))
    pulled = lamina("pull", "--format", "json", f"{registry.host}/demo/from-archive:1")
    assert pulled.exit_code == 0, pulled.stderr
    assert json.loads(pulled.stdout)["id"] == str(image.id)


def test_copy_rejects_file_to_file_and_bad_locations(tmp_path: Path) -> None:
    result = lamina("copy", f"oci:{tmp_path}/a", f"docker-archive:{tmp_path}/b.tar")
    assert result.exit_code == 1
    assert "one side must be a registry" in result.stderr
    missing = lamina("copy", f"oci:{tmp_path}/nothing:v1", "127.0.0.1:1/x/y:1")
    assert missing.exit_code == 1
    assert "does not exist" in missing.stderr
