"""Gzip for layers the store holds uncompressed (``docker save`` gives plain tars).

Registries and Docker expect gzip layers, so before a push each plain layer is
compressed once, with isal, streaming into a new blob of the store; the layer
record then names the gzip blob, so later pushes reuse it. The image gets a new
manifest that lists the gzip blobs; its config (and so its image ID and
diff_ids) is unchanged, and the new manifest takes the old one's place in the
store (tags, repo digests, record), so one image keeps one ID.
"""

from __future__ import annotations

import shutil
from typing import BinaryIO, Final, cast

from lamina.layers.compression import open_writer
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.store.image import Layer, StoredImage
from lamina.store.mutate import NewLayer, replace_layers
from lamina.store.store import Store

_CHUNK: Final = 1 << 20

_GZIP_TYPE = {
    mediatype.OCI_LAYER: mediatype.OCI_LAYER_GZIP,
    mediatype.OCI_LAYER_NONDIST: mediatype.OCI_LAYER_NONDIST_GZIP,
    mediatype.DOCKER_LAYER: mediatype.DOCKER_LAYER_GZIP,
}


def needs_compression(image: StoredImage) -> bool:
    return any(layer.descriptor.media_type in _GZIP_TYPE for layer in image.layers)


def _gzip_layer(store: Store, layer: Layer) -> Descriptor:
    media_type = _GZIP_TYPE[layer.descriptor.media_type]
    known = store.layer_record(layer.diff_id)
    if known is not None and known.blob != str(layer.digest):
        blob = Digest.parse(known.blob)
        if store.has_blob(blob):
            return Descriptor(media_type, blob, store.blob_size(blob))
    with store.open_blob(layer.digest) as src, store.layer_writer() as out:
        gz = open_writer(cast(BinaryIO, out), "gzip")
        shutil.copyfileobj(src, gz, _CHUNK)
        gz.close()
    assert out.digest is not None
    tar_size = known.tar_size if known is not None else layer.descriptor.size
    gzipped = NewLayer(Descriptor(media_type, out.digest, out.size), layer.diff_id, tar_size,
                       known.size if known is not None else layer.size)
    store.record_layer(layer.diff_id, gzipped.record)
    return gzipped.descriptor


def compress_image(store: Store, image: StoredImage) -> StoredImage:
    """The image with gzip layers (compressing those that are plain), in place of the old."""
    layers = [
        _gzip_layer(store, layer) if layer.descriptor.media_type in _GZIP_TYPE
        else layer.descriptor
        for layer in image.layers
    ]
    return replace_layers(store, image, layers)
