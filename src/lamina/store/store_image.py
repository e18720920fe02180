"""The ``Image`` adapter of the local store: an image's blobs and layer indexes where they are kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from lamina.layers.layerindex import LayerIndex
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
