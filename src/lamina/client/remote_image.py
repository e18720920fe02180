"""An image in a registry, read without pulling it: the registry's ``Image`` adapter.

The manifest (for an index, the child for the wanted platform) and the config
are fetched and checked against their digests (distribution-spec "Pulling
manifests", "Pulling blobs"); layers stay in the registry and are streamed
when read. A layer's file listing is made from one read of its blob, whose
digest is checked as it passes (store/layout_image.py ``verified_index``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from lamina.client.registry_api import Repository
from lamina.client.session import Session
from lamina.errors import InvalidManifest
from lamina.layers.layerindex import LayerIndex
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Platform
from lamina.oci.digest import Digest
from lamina.oci.manifest import Index, Manifest, parse_manifest
from lamina.oci.platform_choice import choose
from lamina.oci.reference import Reference
from lamina.store.image import Layer, layer_by_digest
from lamina.store.layout_image import verified_index
from lamina.store.store import host_os_arch


@dataclass(frozen=True)
class RemoteImage:
    """One image of a registry repository."""

    repo: Repository
    manifest: Manifest
    config: ImageConfig
    layers: tuple[Layer, ...]

    def open_blob(self, digest: Digest) -> BinaryIO:
        return self.repo.open_blob(layer_by_digest(self, digest).descriptor)

    def layer_index(self, index: int) -> LayerIndex:
        where = f"{self.repo.client.registry}/{self.repo.name}"
        return verified_index(self.open_blob, self.layers[index], f"{where}: layer {index}")


def remote_image(session: Session, ref: Reference,
                 platform: Platform | None = None) -> RemoteImage:
    """``ref``'s image in its registry (of an index, the child for ``platform``, by default
    this host's)."""
    repo = Repository(session.client(ref.registry), ref.repository)
    fetched = repo.get_manifest(str(ref.digest) if ref.digest else ref.tag, ref.digest)
    parsed = parse_manifest(fetched.raw, fetched.media_type or None)
    if isinstance(parsed, Index):
        chosen = choose(parsed, platform or host_os_arch())
        child = repo.get_manifest(str(chosen.digest), chosen.digest)
        parsed = parse_manifest(child.raw, child.media_type or None)
        if not isinstance(parsed, Manifest):
            raise InvalidManifest(f"{ref}: an index inside an index is not supported")
    config = ImageConfig.parse(repo.get_blob_bytes(parsed.config))
    if len(config.diff_ids) != len(parsed.layers):
        raise InvalidManifest(f"{ref}: the manifest lists {len(parsed.layers)} layers, its"
                              f" config {len(config.diff_ids)} diff IDs")
    layers = tuple(Layer(desc, diff_id, desc.size)
                   for desc, diff_id in zip(parsed.layers, config.diff_ids, strict=True))
    return RemoteImage(repo, parsed, config, layers)
