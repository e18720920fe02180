"""An image in a ``docker save`` archive, read where it lies: nothing is copied into a store.

docker-archive layers are uncompressed tars, so each layer's member in the
archive is the layer blob itself (its digest is its diff ID): commands that
only need file listings index it straight from the file, reading headers and
seeking past contents (layers/seekindex.py); contents are hashed only where
a command needs their digests.
A layer some tool compressed (gzip or zstd) has a digest of its own, which the
manifest needs: it is inflated once from its place in the archive, computing
that digest, checking the diff ID and indexing the tar in the same pass, as
loading would; the listing is kept for the image's life.
The image is described as loading it would store it (the same manifest, so
the same IDs and digests), without writing anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from lamina.layers.layerindex import LayerIndex
from lamina.layers.seekcontent import hash_rows
from lamina.layers.seekindex import index_file
from lamina.layers.tarindex import index_stream
from lamina.layers.tarstream import InvalidLayer
from lamina.oci import mediatype
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest
from lamina.oci.reference import Reference
from lamina.store.bundle import Bundle
from lamina.store.docker_archive import archive_entries, is_docker_archive
from lamina.store.image import Layer, StoredImage, StoredImageView

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True)
class ArchiveImage(StoredImageView):
    """One image of an open docker archive, with its layers' paths in the archive."""

    bundle: Bundle
    image: StoredImage
    layer_paths: tuple[str, ...]
    # the listings of compressed layers, made by the pass that gave their digests
    listings: dict[int, LayerIndex] = field(default_factory=dict, compare=False, repr=False)

    def open_layer(self, index: int) -> BinaryIO:
        return self.bundle.open(self.layer_paths[index])

    def open_blob(self, digest: Digest) -> BinaryIO:
        for layer, path in zip(self.image.layers, self.layer_paths, strict=True):
            if layer.digest == digest:
                return self.bundle.open(path)
        raise KeyError(f"{digest} is not a layer of this archive's image")

    def layer_index(self, index: int, *, hash_contents: bool = True) -> LayerIndex:
        """The file listing of layer ``index``, read from the archive (first sight).

        A layer lying as plain bytes in the file is indexed by seeking past
        contents; without ``hash_contents`` its regular files stay unhashed
        (``hashed=False``) until ``hash_rows`` hashes those a caller needs.
        """
        if index in self.listings:
            return self.listings[index]
        span = self.bundle.span(self.layer_paths[index])
        if span is None:  # (a tar compressed as a whole) read through, hashing everything
            with self.open_layer(index) as stream:
                return index_stream(stream, "none", what=f"layer {index}")
        path, start, size = span
        fd = os.open(path, os.O_RDONLY)
        try:
            return index_file(fd, start, size, hash_contents=hash_contents)
        except InvalidLayer as exc:
            raise InvalidLayer(f"layer {index}: {exc}") from exc
        finally:
            os.close(fd)

    def hash_rows(self, index: int, listing: LayerIndex, rows: Iterable[int]) -> None:
        """Hash these regular files of a listing ``layer_index`` left unhashed."""
        span = self.bundle.span(self.layer_paths[index])
        if span is None or listing.hashed or index in self.listings:
            return  # read through: already hashed
        path, start, _ = span
        fd = os.open(path, os.O_RDONLY)
        try:
            hash_rows(fd, start, listing, rows)
        finally:
            os.close(fd)


def _compression(bundle: Bundle, path: str) -> tuple[str, int]:
    """(compression, size) of a layer member."""
    with bundle.open(path) as fh:
        head = fh.read(4)
        size = fh.seek(0, 2)
    return ("gzip" if head.startswith(_GZIP) else "zstd" if head == _ZSTD else "none"), size


def archive_images(bundle: Bundle, default_registry: str) -> list[ArchiveImage] | None:
    """The images of a docker archive (classic, or Docker 25's with an OCI layout beside
    it), or None when it must be loaded instead (its config and layer counts differ:
    loading reports that)."""
    if not is_docker_archive(bundle):
        return None
    out: list[ArchiveImage] = []
    # compressed members already read (images of one archive share layers): descriptor, listing
    read: dict[str, tuple[Descriptor, LayerIndex]] = {}
    for entry in archive_entries(bundle):
        config_bytes = bundle.read(entry["Config"])
        config = ImageConfig.parse(config_bytes)
        if len(config.diff_ids) != len(entry["Layers"]):
            return None  # loading reports the mismatch
        descriptors: list[Descriptor] = []
        listings: dict[int, LayerIndex] = {}
        for number, (path, diff_id) in enumerate(zip(entry["Layers"], config.diff_ids,
                                                     strict=True)):
            if path not in read:
                compression, size = _compression(bundle, path)
                if compression == "none":
                    descriptors.append(Descriptor(mediatype.OCI_LAYER, diff_id, size))
                    continue
                read[path] = _read_compressed(bundle, path, compression, diff_id)
            descriptor, listings[number] = read[path]
            descriptors.append(descriptor)
        config_desc = Descriptor(mediatype.OCI_CONFIG, Digest.of(config_bytes), len(config_bytes))
        manifest = Manifest.build(config_desc, descriptors)
        layers = tuple(Layer(desc, diff_id, desc.size)
                       for desc, diff_id in zip(descriptors, config.diff_ids, strict=True))
        tags = []
        for tag in entry.get("RepoTags") or []:
            ref = Reference.parse(tag, default_registry)
            tags.append(str(ref.with_tag(ref.tag or "latest")))
        image = StoredImage(manifest=manifest, config=config, layers=layers, tags=tuple(tags))
        out.append(ArchiveImage(bundle, image, tuple(entry["Layers"]), listings))
    return out


def _read_compressed(bundle: Bundle, path: str, compression: str,
                     diff_id: Digest) -> tuple[Descriptor, LayerIndex]:
    """A compressed layer member's descriptor (as loading stores it) and listing."""
    from lamina.store.layout_image import read_layer  # its codecs only for such layers

    media_type = mediatype.OCI_LAYER_GZIP if compression == "gzip" else mediatype.OCI_LAYER_ZSTD
    with bundle.open(path) as raw:
        digest, size, listing = read_layer(raw, compression, diff_id,
                                           f"{bundle.path}: layer {path}")
    return Descriptor(media_type, digest, size), listing
