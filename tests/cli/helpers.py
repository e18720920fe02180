"""A busybox image put straight into a store, from Debian's busybox-static (no docker)."""

from __future__ import annotations

import io
import json

from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.manifest import Manifest
from lamina.oci.reference import Reference
from lamina.store.image import StoredImage
from lamina.store.ingest import ingest_layer
from lamina.store.store import Store, host_os_arch
from tests.base_images import busybox_rootfs_tar

_ROOTFS: list[bytes] = []


def add_busybox(store: Store, tags: list[str]) -> StoredImage:
    """One busybox image named by ``tags``, runnable with runc (Cmd sh)."""
    if not _ROOTFS:
        _ROOTFS.append(busybox_rootfs_tar())
    with store.writing():
        got = ingest_layer(store.blobs, io.BytesIO(_ROOTFS[0]))
        host = host_os_arch()
        raw = json.dumps({
            "architecture": host.architecture, "os": "linux",
            "created": "2024-01-01T00:00:00Z",
            "config": {"Cmd": ["sh"], "Env": ["PATH=/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [str(got.diff_id)]},
            "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "busybox-static"}],
        }).encode()
        config = store.blobs.put_bytes(raw)
        manifest = Manifest.build(Descriptor(mediatype.OCI_CONFIG, config, len(raw)),
                                  [Descriptor(got.media_type, got.digest, got.size)])
        store.blobs.put_bytes(manifest.raw)
        return store.add_image(manifest.raw, layer_records={got.diff_id: got.record},
                               tags=[Reference.parse(t) for t in tags])
