"""The ``Image`` adapter of the local store: an image's blobs and layer indexes where they are kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from lamina.layers.layerindex import LayerIndex
from lamina.oci import mediatype
from lamina.oci.digest import Digest
from lamina.store.image import StoredImage, StoredImageView
from lamina.store.layer_index import layer_index
from lamina.store.store import Store


@dataclass(frozen=True)
class StoreImage(StoredImageView):
    """``image`` of ``store``, read through the ``Image`` protocol."""

    store: Store
    image: StoredImage

    def open_blob(self, digest: Digest) -> BinaryIO:
        """The blob as stored; its digest is checked when it has been read to the end."""
        return self.store.blobs.open(digest)

    def layer_index(self, index: int) -> LayerIndex:
        """Stored once per layer (at ingest or write), made on first use otherwise."""
        return layer_index(self.store, self.image.layers[index])

    def read_members(self, index: int, listing: LayerIndex, rows: list[int]) -> list[bytes]:
        """The bytes of these regular-file rows of layer ``index``'s listing: from the
        store's extracted copy of a compressed layer when it has one (nothing inflated),
        else by their offsets in the blob (a gzip layer inflated up to the last one)."""
        # (here, not at the top: reading members imports tarfile, which commands that read
        # only the listings, such as diff, should not pay for at start-up)
        from lamina.layers.members import read_spans
        from lamina.store.extracted import read_extracted

        layer = self.image.layers[index]
        compression = mediatype.layer_compression(layer.descriptor.media_type)
        if compression != "none":
            copied = read_extracted(self.store, layer.diff_id, listing, rows)
            if copied is not None:
                return copied
        with self.open_blob(layer.digest) as blob:
            return read_spans(blob, compression,
                              [(listing.offsets[row], listing.sizes[row]) for row in rows])
