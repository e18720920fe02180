"""An image as the local store holds it: manifest, config and layers, with its names."""

from __future__ import annotations

from dataclasses import dataclass, field

from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Index, Manifest


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
