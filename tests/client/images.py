"""Small images made in the tests: gzip layers of random files, stored straight into a Store."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile

from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor, Platform
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest
from lamina.oci.reference import Reference
from lamina.store.image import StoredImage
from lamina.store.ingest import ingest_layer
from lamina.store.store import Store, host_os_arch


def layer_tar(name: str, size: int, seed: bytes | None = None) -> bytes:
    data = (seed or os.urandom(16)) * 1 + os.urandom(size)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def config_bytes(diff_ids: list[Digest], platform: Platform) -> bytes:
    return json.dumps({
        "architecture": platform.architecture, "os": platform.os,
        **({"variant": platform.variant} if platform.variant else {}),
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [str(d) for d in diff_ids]},
        "history": [{"created_by": f"layer {i}"} for i in range(len(diff_ids))],
    }).encode()


def store_manifest(store: Store, tars: list[bytes],
                   platform: Platform | None = None) -> Manifest:
    """Store gzip layers and a config; return the (stored) manifest, untagged."""
    platform = platform or host_os_arch()
    layers = []
    diff_ids = []
    with store.writing():
        for tar in tars:
            got = ingest_layer(store.blobs, io.BytesIO(gzip.compress(tar, mtime=0)))
            layers.append(Descriptor(mediatype.OCI_LAYER_GZIP, got.digest, got.size))
            diff_ids.append(got.diff_id)
            store.record_layer(got.diff_id, got.record)
        config = config_bytes(diff_ids, platform)
        config_digest = store.blobs.put_bytes(config)
        manifest = Manifest.build(Descriptor(mediatype.OCI_CONFIG, config_digest, len(config)),
                                  layers)
        store.blobs.put_bytes(manifest.raw)
    return manifest


def make_image(store: Store, name: str, tars: list[bytes]) -> StoredImage:
    manifest = store_manifest(store, tars)
    return store.add_image(manifest.raw, tags=[Reference.parse(name)])


def make_index(store: Store, name: str, per_platform: dict[str, list[bytes]]) -> StoredImage:
    """A multi-platform image: one manifest per ``os/arch``, an OCI index naming them."""
    entries = []
    for text, tars in per_platform.items():
        platform = Platform.parse(text)
        manifest = store_manifest(store, tars, platform)
        entries.append(Descriptor(manifest.media_type, manifest.digest, len(manifest.raw),
                                  platform=platform).to_dict())
    raw = json.dumps({"schemaVersion": 2, "mediaType": mediatype.OCI_INDEX,
                      "manifests": entries}).encode()
    return store.add_image(raw, tags=[Reference.parse(name)])
