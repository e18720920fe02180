"""``docker save`` tars: read (classic and OCI-era layouts) and write (what ``docker load`` takes).

A docker archive holds ``manifest.json`` — a list of {Config, RepoTags, Layers}
with paths inside the tar — the config files and uncompressed layer tars. It
has no registry manifest, so loading makes an OCI manifest for the image; that
manifest is a pure function of the config and layers, so loading the same
archive twice gives the same digest.
"""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from lamina.errors import InvalidManifest, LaminaError
from lamina.layers.compression import ZSTD, detect, open_reader
from lamina.oci import mediatype
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest
from lamina.oci.reference import Reference
from lamina.store.bundle import Bundle, BundleError
from lamina.store.image import StoredImage
from lamina.store.index import LayerRecord
from lamina.store.layer_index import save_index
from lamina.store.store import Store


def is_docker_archive(bundle: Bundle) -> bool:
    return bundle.exists("manifest.json")


def archive_entries(bundle: Bundle) -> list[dict[str, Any]]:
    try:
        doc = json.loads(bundle.read("manifest.json"))
    except json.JSONDecodeError as exc:
        raise BundleError(f"{bundle.path}: manifest.json is not valid JSON: {exc}") from exc
    if not isinstance(doc, list) or not all(isinstance(e, dict) for e in doc):
        raise BundleError(f"{bundle.path}: manifest.json must be a list of objects")
    for entry in doc:
        if not isinstance(entry.get("Config"), str) or not isinstance(entry.get("Layers"), list):
            raise BundleError(f"{bundle.path}: manifest.json entry needs Config and Layers")
    return doc


def load_docker_archive(store: Store, bundle: Bundle) -> list[StoredImage]:
    from lamina.store.ingest import ingest_layer  # codecs load only when loading

    loaded = []
    with store.writing():
        for entry in archive_entries(bundle):
            config_bytes = bundle.read(entry["Config"])
            config = ImageConfig.parse(config_bytes)
            config_digest = store.blobs.put_bytes(config_bytes)
            diff_ids = config.diff_ids
            if len(diff_ids) != len(entry["Layers"]):
                raise InvalidManifest(
                    f"{bundle.path}: config has {len(diff_ids)} diff IDs but manifest.json lists"
                    f" {len(entry['Layers'])} layers"
                )
            layers: list[Descriptor] = []
            records: dict[Digest, LayerRecord] = {}
            for path, diff_id in zip(entry["Layers"], diff_ids, strict=True):
                known = store.layer_record(diff_id)
                if known is not None and store.blobs.has(Digest.parse(known.blob)):
                    # Stored once, however many images share it.
                    blob = Digest.parse(known.blob)
                    layers.append(Descriptor(_stored_media_type(store, blob, diff_id), blob,
                                             store.blobs.size(blob)))
                    continue
                with bundle.open(path) as src:
                    got = ingest_layer(store.blobs, src, expected_diff_id=diff_id)
                layers.append(Descriptor(got.media_type, got.digest, got.size))
                records[diff_id] = got.record
                save_index(store, diff_id, got.index)
            config_desc = Descriptor(mediatype.OCI_CONFIG, config_digest, len(config_bytes))
            manifest = Manifest.build(config_desc, layers)
            store.blobs.put_bytes(manifest.raw)
            tags = [Reference.parse(t, store.default_registry) for t in entry.get("RepoTags") or []]
            loaded.append(store.add_image(manifest.raw, tags=tags, layer_records=records))
    return loaded


def _stored_media_type(store: Store, blob: Digest, diff_id: Digest) -> str:
    """The media type of a stored layer blob: plain when it is its own diff ID, else as its
    magic number says (a pulled layer may be zstd as well as gzip)."""
    if blob == diff_id:
        return mediatype.OCI_LAYER
    with store.blobs.open(blob) as fh:
        head = fh.read(4)
    return mediatype.OCI_LAYER_ZSTD if detect(head) == ZSTD else mediatype.OCI_LAYER_GZIP


@contextlib.contextmanager
def open_layer(store: Store, desc: Descriptor) -> Iterator[BinaryIO]:
    """A stored layer as an uncompressed, verified stream."""
    if desc.media_type not in mediatype.LAYERS:
        raise LaminaError(f"blob {desc.digest} has media type {desc.media_type}, not a layer")
    with store.blobs.open(desc.digest) as blob, \
            open_reader(blob, mediatype.layer_compression(desc.media_type)) as plain:
        yield plain


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def save_docker_archive(store: Store, images: Iterable[tuple[StoredImage, list[str]]],
                        out: BinaryIO) -> None:
    """Write the images as a tar ``docker load`` accepts; ``names`` become RepoTags."""
    manifest: list[dict[str, Any]] = []
    repositories: dict[str, dict[str, str]] = {}
    written: set[str] = set()
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for image, names in images:
            config_name = f"{image.id.hex}.json"
            if config_name not in written:
                _add(tar, config_name, image.config.raw)
                written.add(config_name)
            layer_paths = []
            for layer in image.layers:
                path = f"{layer.diff_id.hex}/layer.tar"
                layer_paths.append(path)
                if path in written:
                    continue
                written.add(path)
                dir_info = tarfile.TarInfo(layer.diff_id.hex)
                dir_info.type = tarfile.DIRTYPE
                dir_info.mode = 0o755
                tar.addfile(dir_info)
                _add(tar, f"{layer.diff_id.hex}/VERSION", b"1.0")
                info = tarfile.TarInfo(path)
                info.size = _uncompressed_size(store, layer.descriptor, layer.diff_id)
                info.mode = 0o644
                with open_layer(store, layer.descriptor) as src:
                    tar.addfile(info, src)
            repo_tags = []
            for name in names:
                ref = Reference.parse(name, store.default_registry)
                repo_tags.append(ref.familiar())
                repositories.setdefault(ref.familiar_name, {})[ref.tag] = image.id.hex
            manifest.append({"Config": config_name, "RepoTags": repo_tags or None,
                             "Layers": layer_paths})
        _add(tar, "manifest.json", json.dumps(manifest).encode())
        if repositories:
            _add(tar, "repositories", json.dumps(repositories).encode())


def _uncompressed_size(store: Store, desc: Descriptor, diff_id: Digest) -> int:
    if desc.media_type in mediatype.LAYERS_UNCOMPRESSED:
        return desc.size
    recorded = store.layer_record(diff_id)
    if recorded is not None:
        return recorded.tar_size
    size = 0
    with open_layer(store, desc) as src:
        while chunk := src.read(1024 * 1024):
            size += len(chunk)
    return size
