"""One image, read through every ``Image`` adapter (store/image.py), reads the same.

The adapters: the local store, an OCI layout and a ``docker save`` archive read
in place, a registry read without pulling, the Docker engine and Podman. Each
must give the same config (its exact bytes, so the same image ID), the same
layer diff IDs (image-spec config.md ``rootfs.diff_ids``) and the same file
listing per layer. Manifests are the same bytes wherever the same blobs are
kept: the store, the OCI layout (image-layout.md copies blobs byte for byte)
and the registry it was pushed to hold the gzip layers; a docker archive holds
plain tars, so it, and the engines loaded from it, describe those.
"""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path

import pytest

from lamina.client.engine_image import engine_image
from lamina.client.push import push
from lamina.client.remote_image import remote_image
from lamina.client.session import Session
from lamina.layers.layerindex import LayerIndex
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.reference import DOCKER_HUB, Reference
from lamina.store import mutate
from lamina.store.archive_image import archive_images
from lamina.store.bundle import Bundle
from lamina.store.docker_archive import save_docker_archive
from lamina.store.image import Image, StoredImage, layer_by_diff_id, layer_by_digest
from lamina.store.layout_image import layout_images
from lamina.store.mutate import Draft, IndexTap, NewLayer
from lamina.store.oci_layout import save_oci_layout
from lamina.store.store import Store, host_os_arch
from lamina.store.store_image import StoreImage
from tests.client.registries import Distribution
from tests.store.builders import Entry, layer_tar
from tests.tools import require_tool, run

pytestmark = pytest.mark.integration

LAYERS: list[dict[str, Entry]] = [
    {"etc": None, "etc/os-release": b"ID=adapters\n", "bin": None, "bin/tool": b"x" * 3000},
    {"bin/link": "->tool", "data": None, "data/a": b"a" * 700, ".wh.gone": b""},
]


def _made(store: Store, tag: str) -> StoredImage:
    platform = host_os_arch()
    draft = Draft({"architecture": platform.architecture, "os": platform.os,
                   "config": {"Cmd": ["/bin/tool"]},
                   "rootfs": {"type": "layers", "diff_ids": []}, "history": []})
    for number, entries in enumerate(LAYERS):
        tar = layer_tar(entries)
        tap = IndexTap()
        tap(tar)
        with store.layer_writer() as blob:
            blob.write(gzip.compress(tar, mtime=0))
        assert blob.digest is not None
        draft.append(NewLayer(Descriptor(mediatype.OCI_LAYER_GZIP, blob.digest, blob.size),
                              Digest.of(tar), len(tar), 0, tap.finish()),
                     {"created_by": f"layer {number}"})
    return mutate.commit(store, draft, tags=[Reference.parse(tag)])


def _listing(index: LayerIndex) -> tuple[list[str], list[int], list[int]]:
    return list(index.paths), list(index.kinds), list(index.sizes)


@pytest.fixture
def tag() -> str:
    return f"lamina-test/adapters-{uuid.uuid4().hex[:8]}:1"


def test_one_image_reads_the_same_through_every_adapter(
        tmp_path: Path, registry: Distribution, docker: str, tag: str) -> None:
    store = Store(tmp_path / "store")
    image = _made(store, tag)
    adapters: dict[str, Image] = {"store": StoreImage(store, image)}

    save_oci_layout(store, [(image, [tag])], tmp_path / "layout")
    layout = layout_images(Bundle(tmp_path / "layout"), DOCKER_HUB)
    assert len(layout) == 1 and layout[0].tags == (f"docker.io/{tag}",)
    adapters["oci-layout"] = layout[0]

    archive_path = tmp_path / "image.tar"
    with archive_path.open("wb") as out:
        save_docker_archive(store, [(image, [tag])], out)
    archived = archive_images(Bundle(archive_path), DOCKER_HUB)
    assert archived is not None and len(archived) == 1
    adapters["docker-archive"] = archived[0]

    ref = Reference.parse(f"{registry.host}/adapters/demo:1")
    with Session() as session:
        push(store, session, image, ref)
        adapters["registry"] = remote_image(session, ref)
        _compare(image, adapters, tmp_path, docker, archive_path, tag)


def _compare(image: StoredImage, adapters: dict[str, Image], tmp_path: Path, docker: str,
             archive_path: Path, tag: str) -> None:
    run([docker, "load", "-q", "-i", str(archive_path)])
    podman = require_tool("podman")
    loaded = run([podman, "load", "-q", "-i", str(archive_path)]).stdout.decode()
    podman_name = loaded.strip().rpartition("Loaded image: ")[2].strip() or f"localhost/{tag}"
    try:
        adapters["docker-daemon"] = engine_image("docker-daemon", tag, Store(tmp_path / "d"))
        adapters["podman"] = engine_image("podman", podman_name, Store(tmp_path / "p"))
        expected = [_listing(adapters["store"].layer_index(i)) for i in range(len(LAYERS))]
        for name, adapted in adapters.items():
            assert adapted.config.raw == image.config.raw, name
            assert adapted.config.digest == image.id, name
            assert [lay.diff_id for lay in adapted.layers] == \
                [lay.diff_id for lay in image.layers], name
            listings = [_listing(adapted.layer_index(i)) for i in range(len(LAYERS))]
            assert listings == expected, name
            top = adapted.layers[-1]
            assert layer_by_digest(adapted, top.digest) == layer_by_diff_id(adapted, top.diff_id)
            with adapted.open_blob(top.digest) as blob:
                assert blob.read(2) == (b"\x1f\x8b" if top.descriptor.media_type ==
                                        mediatype.OCI_LAYER_GZIP else b"bi")
        gzip_kept = {n: adapters[n].manifest.raw for n in ("store", "oci-layout", "registry")}
        assert set(gzip_kept.values()) == {image.manifest.raw}, gzip_kept
        plain_kept = {n: adapters[n].manifest.raw
                      for n in ("docker-archive", "docker-daemon", "podman")}
        assert len(set(plain_kept.values())) == 1, plain_kept
        assert adapters["docker-archive"].layers[0].descriptor.media_type == mediatype.OCI_LAYER
    finally:
        run([docker, "rmi", tag], check=False)
        run([podman, "rmi", podman_name], check=False)
