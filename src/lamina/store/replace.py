"""Swapping an image's manifest for another of the same config (e.g. gzip layers for plain).

One image, one ID: the image ID is the config digest, so a second manifest of
the same config must not become a second image. The old manifest's record,
tags and repo digests move to the new one, and the old record goes.
"""

from __future__ import annotations

import time

from lamina.errors import InvalidManifest, NotFound
from lamina.oci.manifest import Manifest, parse_manifest
from lamina.store.image import StoredImage
from lamina.store.store import Store


def replace_manifest(store: Store, image: StoredImage, manifest_bytes: bytes) -> StoredImage:
    """Put ``manifest_bytes`` in ``image``'s place in the store; returns the image as stored."""
    new = parse_manifest(manifest_bytes)
    if not isinstance(new, Manifest) or new.config.digest != image.id:
        raise InvalidManifest(f"a replacement manifest for image {image.id.short}"
                              " must name the same config")
    for desc in new.references:
        if not store.blobs.has(desc.digest):
            raise NotFound(f"cannot replace manifest: blob {desc.digest} is not in the store")
    digest = str(store.blobs.put_bytes(manifest_bytes))
    old = str(image.top_digest)
    with store.meta.update() as data:
        entry = data.images.pop(old, None) or {"added": time.time()}
        data.images[digest] = entry
        for tag in data.tags_of(old):
            data.tags[tag] = digest
        for key in [k for k, v in data.repo_digests.items() if v == old]:
            data.repo_digests[key] = digest
    return store.resolve(digest)
