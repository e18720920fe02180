"""An image: the ``Image`` protocol every source implements, and the image as the store holds it.

``Image`` is go-containerregistry's ``v1.Image`` in small: the manifest and the
config (each with the exact bytes it was read from, ``.raw``), the layers (blob
descriptor with diff ID), a layer's blob as the source keeps it, and a layer's
file listing. The adapters: the local store (store/store_image.py), a
``docker save`` archive read in place (store/archive_image.py), an OCI layout
read in place (store/layout_image.py), a registry read without pulling
(client/remote_image.py), and the Docker engine or Podman (client/engine_image.py,
streamed into a scratch store).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, Protocol

from lamina.errors import NotFound
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Index, Manifest

if TYPE_CHECKING:
    from lamina.layers.layerindex import LayerIndex


@dataclass(frozen=True)
class Layer:
    """One layer: its blob as stored, and the digest of its uncompressed tar."""

    descriptor: Descriptor
    diff_id: Digest
    size: int  # uncompressed bytes, as docker reports layer sizes

    @property
    def digest(self) -> Digest:
        return self.descriptor.digest


@dataclass(frozen=True)
class StoredImage:
    manifest: Manifest
    config: ImageConfig
    layers: tuple[Layer, ...]
    tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    added: float = 0.0
    parent: str = ""
    index: Index | None = field(default=None, compare=False)

    @property
    def id(self) -> Digest:
        """The IMAGE ID users see: the config digest, as Docker shows it."""
        return self.config.digest

    @property
    def manifest_digest(self) -> Digest:
        return self.manifest.digest

    @property
    def top_digest(self) -> Digest:
        """What a tag points to: the index when the image came as one, else the manifest."""
        return self.index.digest if self.index is not None else self.manifest.digest

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)


class Image(Protocol):
    """An image wherever it lies; read-only."""

    @property
    def manifest(self) -> Manifest: ...

    @property
    def config(self) -> ImageConfig: ...

    @property
    def layers(self) -> tuple[Layer, ...]: ...

    def open_blob(self, digest: Digest) -> BinaryIO:
        """A layer's blob, as the source keeps it (compressed or not, per its media type)."""
        ...

    def layer_index(self, index: int) -> LayerIndex:
        """The file listing of layer ``index`` (bottom first)."""
        ...


class StoredImageView:
    """``manifest``, ``config`` and ``layers`` of the Image protocol, for an adapter whose
    image is described by a StoredImage (``image``)."""

    image: StoredImage

    @property
    def manifest(self) -> Manifest:
        return self.image.manifest

    @property
    def config(self) -> ImageConfig:
        return self.image.config

    @property
    def layers(self) -> tuple[Layer, ...]:
        return self.image.layers


def layer_by_digest(image: Image, digest: Digest) -> Layer:
    for layer in image.layers:
        if layer.digest == digest:
            return layer
    raise NotFound(f"the image has no layer blob {digest}")


def layer_by_diff_id(image: Image, diff_id: Digest) -> Layer:
    for layer in image.layers:
        if layer.diff_id == diff_id:
            return layer
    raise NotFound(f"the image has no layer with diff ID {diff_id}")
