"""OCI layouts (image-spec image-layout.md): naming on load, indexes without the host platform."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor, Platform
from lamina.store.load import load
from lamina.store.oci_layout import save_oci_layout
from lamina.store.store import Store
from tests.store.builders import add_image


def _bare_layout(tmp_path: Path, ref_name: str | None) -> Path:
    store = Store(tmp_path / "src")
    image = add_image(store, [{"f": b"x"}], tags=["app:v1"])
    layout = tmp_path / "layout"
    save_oci_layout(store, [(image, [])], layout)
    index = json.loads((layout / "index.json").read_text())
    if ref_name is not None:
        index["manifests"][0]["annotations"] = {"org.opencontainers.image.ref.name": ref_name}
    (layout / "index.json").write_text(json.dumps(index))
    return layout


@pytest.mark.parametrize(("name", "ref_name", "expected"), [
    ("127.0.0.1:5000/team/app", "v3", "127.0.0.1:5000/team/app:v3"),
    ("127.0.0.1:5000/team/app:v9", "v3", "127.0.0.1:5000/team/app:v9"),
    ("app", None, "docker.io/library/app:latest"),
])
def test_name_option_tags_a_bare_layout(tmp_path: Path, name: str, ref_name: str | None,
                                        expected: str) -> None:
    layout = _bare_layout(tmp_path, ref_name)
    [image] = load(Store(tmp_path / "dst"), layout, name=name)
    assert image.tags == (expected,)


def test_an_index_without_the_host_platform_still_loads(tmp_path: Path) -> None:
    store = Store(tmp_path)
    child = add_image(store, [{"f": b"arm"}])
    index = json.dumps({
        "schemaVersion": 2, "mediaType": mediatype.OCI_INDEX,
        "manifests": [Descriptor(mediatype.OCI_MANIFEST, child.manifest_digest,
                                 len(child.manifest.raw),
                                 platform=Platform("linux", "s390x")).to_dict()],
    }).encode()
    store.blobs.put_bytes(index)
    image = store.add_image(index)
    assert image.manifest_digest == child.manifest_digest
    assert image.index is not None
