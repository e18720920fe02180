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
from collections.abc import Iterator
from dataclasses import dataclass

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
from tests.client.registries import start_distribution
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


@dataclass(frozen=True)
class Adapted:
    image: StoredImage  # as the store made it
    by: dict[str, Image]  # adapter name -> the same image read through it


@pytest.fixture(scope="module")
def adapted(tmp_path_factory: pytest.TempPathFactory, docker: str) -> Iterator[Adapted]:
    """The image made in a store, then saved, pushed and loaded wherever an adapter reads."""
    tmp = tmp_path_factory.mktemp("adapters")
    tag = f"lamina-test/adapters-{uuid.uuid4().hex[:8]}:1"
    store = Store(tmp / "store")
    image = _made(store, tag)
    by: dict[str, Image] = {"store": StoreImage(store, image)}

    save_oci_layout(store, [(image, [tag])], tmp / "layout")
    by["oci-layout"] = layout_images(Bundle(tmp / "layout"), DOCKER_HUB)[0]

    archive = tmp / "image.tar"
    with archive.open("wb") as out:
        save_docker_archive(store, [(image, [tag])], out)
    archived = archive_images(Bundle(archive), DOCKER_HUB)
    assert archived is not None
    by["docker-archive"] = archived[0]

    podman = require_tool("podman")
    registry = start_distribution(tmp / "registry")
    run([docker, "load", "-q", "-i", str(archive)])
    loaded = run([podman, "load", "-q", "-i", str(archive)]).stdout.decode()
    podman_name = loaded.strip().rpartition("Loaded image: ")[2].strip() or f"localhost/{tag}"
    try:
        with Session() as session:
            ref = Reference.parse(f"{registry.host}/adapters/demo:1")
            push(store, session, image, ref)
            by["registry"] = remote_image(session, ref)
            by["docker-daemon"] = engine_image("docker-daemon", tag, Store(tmp / "d"))
            by["podman"] = engine_image("podman", podman_name, Store(tmp / "p"))
            yield Adapted(image, by)
    finally:
        registry.stop()
        run([docker, "rmi", tag], check=False)
        run([podman, "rmi", podman_name], check=False)


ADAPTERS = ("store", "oci-layout", "docker-archive", "registry", "docker-daemon", "podman")


@pytest.mark.parametrize("name", ADAPTERS)
def test_the_adapter_reads_the_same_config_layers_and_listings(adapted: Adapted,
                                                              name: str) -> None:
    image, read = adapted.image, adapted.by[name]
    assert read.config.raw == image.config.raw  # the same bytes: the same image ID
    assert read.config.digest == image.id
    assert [lay.diff_id for lay in read.layers] == [lay.diff_id for lay in image.layers]
    store = adapted.by["store"]
    assert [_listing(read.layer_index(i)) for i in range(len(LAYERS))] == \
        [_listing(store.layer_index(i)) for i in range(len(LAYERS))]
    assert _listing(read.layer_index(0))[0] == ["etc", "etc/os-release", "bin", "bin/tool"]
    top = read.layers[-1]
    assert layer_by_digest(read, top.digest) == layer_by_diff_id(read, top.diff_id) == top
    gzip_layer = top.descriptor.media_type == mediatype.OCI_LAYER_GZIP
    with read.open_blob(top.digest) as blob:
        assert blob.read(2) == (b"\x1f\x8b" if gzip_layer else b"bi")


def test_manifests_are_the_same_bytes_where_the_same_blobs_are_kept(adapted: Adapted) -> None:
    """The store, its OCI layout and the registry keep the gzip blobs: one manifest. A docker
    archive keeps plain tars; it and the engines that loaded it describe those alike."""
    manifests = {name: adapted.by[name].manifest.raw for name in ADAPTERS}
    assert {manifests[n] for n in ("store", "oci-layout", "registry")} == \
        {adapted.image.manifest.raw}
    assert len({manifests[n] for n in ("docker-archive", "docker-daemon", "podman")}) == 1
    assert manifests["docker-archive"] != adapted.image.manifest.raw
    assert all(lay.descriptor.media_type == mediatype.OCI_LAYER
               for lay in adapted.by["docker-archive"].layers)
