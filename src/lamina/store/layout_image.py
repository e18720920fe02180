"""An image in an OCI image layout (a directory, or a tar of one), read where it lies.

image-spec image-layout.md: ``oci-layout`` names the version, ``index.json``
lists the images, every blob is ``blobs/<alg>/<hex>``. Each manifest
``index.json`` names (for an index, the child for this host's platform, as the
store picks it) is described with its exact bytes; nothing is copied. A
layer's file listing is made by reading its blob once (kept for the image's
life, so a command asking again does not read it again), and the blob's
digest and its diff ID are checked as it is read, as loading it would check them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO, cast

from lamina.errors import DigestMismatch, InvalidManifest
from lamina.layers.compression import decompress_errors, open_reader
from lamina.layers.digest_stream import HashingReader
from lamina.layers.layerindex import LayerIndex
from lamina.layers.tarindex import index_stream
from lamina.oci import mediatype
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Index, Manifest, parse_manifest
from lamina.oci.platform_choice import choose_present
from lamina.store.bundle import Bundle, BundleError
from lamina.store.image import Layer, StoredImage
from lamina.store.oci_layout import blob_path, is_oci_layout, layout_names
from lamina.store.store import host_os_arch

_MANIFEST_LIMIT = 4 * 1024 * 1024


def read_layer(raw: BinaryIO, compression: str, diff_id: Digest, what: str, *,
               expected: Digest | None = None) -> tuple[Digest, int, LayerIndex]:
    """(digest, size) of the blob ``raw`` and the index of its tar, from one read to the end;
    refused when its digest is not ``expected``, its files do not hash to ``diff_id`` (the
    config's) or it is not valid ``compression`` data, as loading refuses it."""
    # a plain blob whose digest is its diff ID (docker save's layers): one hash checks both
    one_hash = compression == "none" and expected == diff_id
    reader = HashingReader(raw, expected.algorithm if expected else "sha256")
    plain = open_reader(cast(BinaryIO, reader), compression)
    try:
        tar = None if one_hash else HashingReader(plain, diff_id.algorithm)
        index = index_stream(cast(BinaryIO, plain if tar is None else tar), "none", what=what)
    except decompress_errors() as exc:
        raise DigestMismatch(f"{what}: not valid {compression} data: {exc}") from exc
    finally:
        plain.close()
    if expected is not None and reader.digest() != expected:
        raise DigestMismatch(f"{what}: blob {expected} hashes to {reader.digest()}")
    files = reader.digest() if tar is None else tar.digest()
    if files != diff_id:
        raise DigestMismatch(f"{what}: its files hash to {files}, not the config's"
                             f" diff ID {diff_id}")
    return reader.digest(), reader.size, index


def verified_index(open_blob: Callable[[Digest], BinaryIO], layer: Layer,
                   what: str) -> LayerIndex:
    """Index ``layer`` from its blob, read once to the end; refuse it if its digest, or the
    digest of its uncompressed tar (the config's diff ID), is wrong."""
    compression = mediatype.layer_compression(layer.descriptor.media_type)
    with open_blob(layer.digest) as raw:
        return read_layer(raw, compression, layer.diff_id, what, expected=layer.digest)[2]


@dataclass(frozen=True)
class LayoutImage:
    """One image of an OCI layout."""

    bundle: Bundle
    manifest: Manifest
    config: ImageConfig
    layers: tuple[Layer, ...]
    tags: tuple[str, ...] = field(default=())
    _listings: dict[int, LayerIndex] = field(default_factory=dict, compare=False, repr=False)

    @property
    def image(self) -> StoredImage:
        """The image as loading it would store it (the same manifest and config)."""
        return StoredImage(manifest=self.manifest, config=self.config, layers=self.layers,
                           tags=self.tags)

    def open_blob(self, digest: Digest) -> BinaryIO:
        return self.bundle.open(blob_path(digest))

    def open_layer(self, index: int) -> BinaryIO:
        return self.open_blob(self.layers[index].digest)

    def layer_index(self, index: int, *, hash_contents: bool = True) -> LayerIndex:
        """The listing of layer ``index`` (read once; its files always hashed)."""
        del hash_contents  # the blob is read whole anyway (compressed): hashing is cheap
        listing = self._listings.get(index)
        if listing is None:
            listing = self._listings[index] = verified_index(
                self.open_blob, self.layers[index], f"{self.bundle.path}: layer {index}")
        return listing

    def hash_rows(self, index: int, listing: LayerIndex, rows: Iterable[int]) -> None:
        """Nothing to do: ``layer_index`` hashed every file."""


def _read(bundle: Bundle, desc: Descriptor) -> bytes:
    raw = bundle.read(blob_path(desc.digest), limit=_MANIFEST_LIMIT)
    desc.digest.verify(raw)
    return raw


def _manifest(bundle: Bundle, desc: Descriptor) -> Manifest:
    parsed = parse_manifest(_read(bundle, desc), desc.media_type)
    if isinstance(parsed, Index):
        chosen = choose_present(parsed, host_os_arch(),
                                lambda digest: bundle.exists(blob_path(digest)))
        return _manifest(bundle, chosen)
    return parsed


def layout_images(bundle: Bundle, default_registry: str) -> list[LayoutImage]:
    """Every image the layout's ``index.json`` names, in its order."""
    if not is_oci_layout(bundle):
        raise BundleError(f"{bundle.path} is not an OCI image layout (no oci-layout/index.json)")
    top = parse_manifest(bundle.read("index.json"), mediatype.OCI_INDEX)
    if not isinstance(top, Index):
        raise InvalidManifest(f"{bundle.path}: index.json is not an image index")
    out: list[LayoutImage] = []
    for desc in top.manifests:
        if desc.media_type not in mediatype.MANIFESTS:
            continue
        manifest = _manifest(bundle, desc)
        config = ImageConfig.parse(_read(bundle, manifest.config))
        if len(config.diff_ids) != len(manifest.layers):
            raise InvalidManifest(f"{bundle.path}: manifest {manifest.digest} lists"
                                  f" {len(manifest.layers)} layers, its config"
                                  f" {len(config.diff_ids)} diff IDs")
        layers = tuple(Layer(d, diff_id, d.size)
                       for d, diff_id in zip(manifest.layers, config.diff_ids, strict=True))
        tags = tuple(str(ref.with_tag(ref.tag or "latest"))
                     for ref in layout_names(desc, default_registry))
        out.append(LayoutImage(bundle, manifest, config, layers, tags))
    return out
