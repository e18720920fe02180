"""Making an image out of another: append layers, set config and history, write the manifest.

Modelled on go-containerregistry's ``pkg/v1/mutate``: a ``Draft`` starts from an
image (or from nothing), layers are appended with their history entries, the
config document is edited in place, and ``commit`` writes the config blob and
the manifest into the store and records the image. Every image Lamina makes —
a build step, a squash, a slimmed image, gzip layers before a push — is written
here, so the config is serialised one way (compact JSON, keys in the order the
document holds them, UTF-8) and manifests are written under the store's writing
lock with the records of the layers they add.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from typing import Any

from lamina.errors import InvalidManifest, LaminaError, NotFound
from lamina.layers.layerindex import LayerIndex
from lamina.layers.tarindex import TarIndexer
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor, Platform
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest, parse_manifest
from lamina.store.image import Layer, StoredImage
from lamina.store.index import LayerRecord
from lamina.store.layer_index import save_index
from lamina.store.store import Store


class IndexTap:
    """The layer index (layers/tarindex.py) of a layer made as its tar is written.

    Pass it as the ``observe`` of the writer (layers.write.write_layer, or a
    HashingWriter around the compressor): it is fed the uncompressed tar, so the
    file listing costs no second read of the blob. ``commit`` stores it beside
    the layer; a layer whose tar the indexer refuses gets its index on first use.
    """

    def __init__(self) -> None:
        self._indexer: TarIndexer | None = TarIndexer()

    def __call__(self, data: bytes | bytearray | memoryview) -> None:
        if self._indexer is None:
            return
        try:
            self._indexer.feed(memoryview(data) if isinstance(data, bytearray) else data)
        except LaminaError:
            self._indexer = None

    def finish(self) -> LayerIndex | None:
        if self._indexer is None:
            return None
        try:
            return self._indexer.finish()
        except LaminaError:
            return None
        finally:
            self._indexer = None


@dataclass(frozen=True)
class NewLayer:
    """A layer blob just written into the store, with what its record keeps."""

    descriptor: Descriptor
    diff_id: Digest
    tar_size: int  # bytes of the uncompressed tar
    size: int  # what its files take (Docker's layer size)
    # its file listing, when made as it was written (IndexTap); commit keeps it
    index: LayerIndex | None = field(default=None, compare=False, repr=False)

    @property
    def layer(self) -> Layer:
        return Layer(self.descriptor, self.diff_id, self.size)

    @property
    def record(self) -> LayerRecord:
        return LayerRecord(str(self.descriptor.digest), self.tar_size, self.size)


@dataclass
class Draft:
    """An image being made: its config document (edited in place) and its layers.

    ``config`` is written in its own key order, so a caller that wants Docker's
    order arranges the document before ``commit``.
    """

    config: dict[str, Any]
    layers: list[Layer] = field(default_factory=list)
    added: list[NewLayer] = field(default_factory=list)
    manifest_type: str = mediatype.OCI_MANIFEST
    config_type: str = mediatype.OCI_CONFIG

    @classmethod
    def from_image(cls, image: StoredImage, keep: int | None = None, *,
                   same_media_types: bool = False) -> Draft:
        """A copy of ``image``'s config and its bottom ``keep`` layers (all by default).

        ``same_media_types`` keeps a Docker image Docker-typed (manifest, config and
        the gzip layers appended); otherwise the result is an OCI image.
        """
        draft = cls(copy.deepcopy(image.config.doc), list(image.layers[:keep]))
        if same_media_types and image.manifest.media_type == mediatype.DOCKER_MANIFEST:
            draft.manifest_type, draft.config_type = (mediatype.DOCKER_MANIFEST,
                                                      mediatype.DOCKER_CONFIG)
        if keep is not None and keep < len(image.layers):
            draft._set_diff_ids()
        return draft

    def append(self, layer: NewLayer | None, history: dict[str, Any] | None) -> None:
        """Add a layer (None for a step that changed no files) and its history entry."""
        if layer is not None:
            self.layers.append(layer.layer)
            self.added.append(layer)
            self._set_diff_ids()
        if history is not None:
            self.config.setdefault("history", []).append(history)

    def _set_diff_ids(self) -> None:
        rootfs = self.config.get("rootfs")
        if not isinstance(rootfs, dict):
            rootfs = self.config["rootfs"] = {"type": "layers", "diff_ids": []}
        rootfs["diff_ids"] = [str(layer.diff_id) for layer in self.layers]

    def config_bytes(self) -> bytes:
        return json.dumps(self.config, separators=(",", ":"), ensure_ascii=False).encode()


def commit(store: Store, draft: Draft, *, tags: list[Any] | None = None,
           parent: Digest | None = None, intermediate: bool = False) -> StoredImage:
    """Write ``draft``'s config and manifest into the store; the image as stored.

    ``tags`` are references (oci.reference.Reference); ``parent`` and
    ``intermediate`` are what a build step records (see Store.add_image).
    """
    raw = draft.config_bytes()
    with store.writing():
        for new in draft.added:
            if new.index is not None:
                save_index(store, new.diff_id, new.index)
        config_digest = store.blobs.put_bytes(raw)
        manifest = Manifest.build(Descriptor(draft.config_type, config_digest, len(raw)),
                                  [layer.descriptor for layer in draft.layers],
                                  media_type=draft.manifest_type)
        return store.add_image(manifest.raw, tags=tags, parent=parent,
                               intermediate=intermediate,
                               layer_records={new.diff_id: new.record for new in draft.added})


def discard_layer(store: Store, layer: NewLayer) -> None:
    """Remove a layer blob written for an image that will not be made (unless an image in
    the store uses the same blob)."""
    for image in store.images(all_images=True):
        if any(held.digest == layer.descriptor.digest for held in image.layers):
            return
    store.blobs.delete(layer.descriptor.digest)


def commit_index(store: Store, manifests: list[tuple[Digest, Platform]], *,
                 tags: list[Any] | None = None) -> StoredImage:
    """An OCI image index (image-spec image-index.md) of stored manifests, one per platform,
    recorded and tagged; the image as stored (its ``top_digest`` is the index)."""
    entries = []
    for digest, platform in manifests:
        raw = store.blobs.read_bytes(digest)
        entries.append({"mediaType": json.loads(raw).get("mediaType", mediatype.OCI_MANIFEST),
                        "digest": str(digest), "size": len(raw),
                        "platform": platform.to_dict()})
    raw_index = json.dumps({"schemaVersion": 2, "mediaType": mediatype.OCI_INDEX,
                            "manifests": entries}, indent=2).encode()
    with store.writing():
        return store.add_image(raw_index, tags=tags)


def replace_layers(store: Store, image: StoredImage, layers: list[Descriptor]) -> StoredImage:
    """``image`` with other blobs of the same layers (gzip for plain), in its place.

    One image, one ID: the image ID is the config digest, so a second manifest
    of the same config must not become a second image. The old manifest's
    record, tags and repo digests move to the new one, and the old record goes.
    """
    manifest = Manifest.build(image.manifest.config, layers, image.manifest.media_type,
                              dict(image.manifest.annotations) or None)
    return replace_manifest(store, image, manifest.raw)


def replace_manifest(store: Store, image: StoredImage, manifest_bytes: bytes) -> StoredImage:
    """Put ``manifest_bytes`` (of ``image``'s config) in ``image``'s place in the store."""
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
