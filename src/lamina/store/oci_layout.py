"""OCI image layouts (image-spec image-layout.md): read from a directory or tar, write either.

Blobs are copied byte for byte, so every digest — manifest, config, layers —
survives a round trip. Names come from the ``io.containerd.image.name``
annotation (a full reference, as Docker and containerd write it) or
``org.opencontainers.image.ref.name`` (a tag, or a full reference).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from lamina.errors import InvalidManifest, LaminaError
from lamina.oci import mediatype
from lamina.oci.config import ImageConfig
from lamina.oci.descriptor import Descriptor
from lamina.oci.digest import Digest
from lamina.oci.manifest import Index, Manifest, parse_manifest
from lamina.oci.reference import Reference
from lamina.store.bundle import Bundle, BundleError
from lamina.store.image import StoredImage
from lamina.store.index import LayerRecord
from lamina.store.layer_index import save_index
from lamina.store.store import Store

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
LAYOUT_FILE = {"imageLayoutVersion": "1.0.0"}


def is_oci_layout(bundle: Bundle) -> bool:
    return bundle.exists("oci-layout") and bundle.exists("index.json")


def blob_path(digest: Digest) -> str:
    return f"blobs/{digest.algorithm}/{digest.hex}"


def layout_names(desc: Descriptor, default_registry: str) -> list[Reference]:
    full = desc.annotations.get(CONTAINERD_NAME, "")
    ref_name = desc.annotations.get(REF_NAME, "")
    for candidate in (full, ref_name):
        if candidate and ("/" in candidate or ":" in candidate):
            try:
                ref = Reference.parse(candidate, default_registry)
            except LaminaError:
                continue
            return [ref] if ref.digest is None else []
    return []


def load_oci_layout(store: Store, bundle: Bundle, *, name: str | None = None) -> list[StoredImage]:
    """Load every image the layout's index.json names; ``name`` tags images with bare tags."""
    layout = json.loads(bundle.read("oci-layout"))
    if not isinstance(layout, dict) or layout.get("imageLayoutVersion") != "1.0.0":
        raise BundleError(f"{bundle.path}: unsupported oci-layout {layout!r}")
    top = parse_manifest(bundle.read("index.json"), mediatype.OCI_INDEX)
    if not isinstance(top, Index):
        raise InvalidManifest(f"{bundle.path}: index.json is not an image index")
    loaded = []
    with store.writing():
        for desc in top.manifests:
            if desc.media_type not in mediatype.MANIFESTS:
                continue
            records: dict[Digest, LayerRecord] = {}
            raw = _copy_manifest(store, bundle, desc, records)
            tags = layout_names(desc, store.default_registry)
            bare = desc.annotations.get(REF_NAME, "")
            if not tags and name:
                ref = Reference.parse_loose(name, store.default_registry)
                tags = [ref.with_tag(bare or "latest") if not ref.tag and ref.digest is None
                        else Reference.parse(name, store.default_registry)]
            loaded.append(store.add_image(raw, tags=tags, layer_records=records))
    return loaded


def _copy_manifest(store: Store, bundle: Bundle, desc: Descriptor,
                   records: dict[Digest, LayerRecord]) -> bytes:
    raw = bundle.read(blob_path(desc.digest), limit=4 * 1024 * 1024)
    desc.digest.verify(raw)
    parsed = parse_manifest(raw, desc.media_type)
    if isinstance(parsed, Index):
        for child in parsed.manifests:
            if child.media_type in mediatype.MANIFESTS and bundle.exists(blob_path(child.digest)):
                _copy_manifest(store, bundle, child, records)
    else:
        _copy_image(store, bundle, parsed, records)
    store.blobs.put_bytes(raw, desc.digest)
    return raw


def _copy_image(store: Store, bundle: Bundle, manifest: Manifest,
                records: dict[Digest, LayerRecord]) -> None:
    config_raw = bundle.read(blob_path(manifest.config.digest))
    store.blobs.put_bytes(config_raw, manifest.config.digest)
    config = ImageConfig.parse(config_raw) if manifest.config.media_type in \
        mediatype.IMAGE_CONFIGS else None
    diff_ids: list[Digest | None] = list(config.diff_ids) if config else []
    if len(diff_ids) != len(manifest.layers):
        diff_ids = [None] * len(manifest.layers)
    for layer, diff_id in zip(manifest.layers, diff_ids, strict=True):
        if store.blobs.has(layer.digest) and diff_id is not None and \
                store.layer_record(diff_id) is not None:
            continue
        with bundle.open(blob_path(layer.digest)) as src:
            if layer.media_type in mediatype.LAYERS:
                # (loaded here: reading a file in place asks is_oci_layout, not the gzip
                # and zstd codecs ingesting pulls in, ~5 ms of start-up)
                from lamina.store.ingest import ingest_layer

                got = ingest_layer(store.blobs, src, expected_digest=layer.digest,
                                   expected_diff_id=diff_id,
                                   compression=mediatype.layer_compression(layer.media_type))
                records[got.diff_id] = got.record
                save_index(store, got.diff_id, got.index)
            else:
                store.blobs.put_stream(src, layer.digest)


def _image_blobs(store: Store, top_digest: Digest) -> list[tuple[Digest, int]]:
    """Every blob an image (or index) reaches, each once, manifest first."""
    seen: dict[Digest, int] = {}

    def walk(digest: Digest, media_type: str | None) -> None:
        if digest in seen or not store.blobs.has(digest):
            return
        seen[digest] = store.blobs.size(digest)
        parsed = parse_manifest(store.blobs.read_bytes(digest), media_type)
        if isinstance(parsed, Index):
            for child in parsed.manifests:
                if child.media_type in mediatype.MANIFESTS:
                    walk(child.digest, child.media_type)
        else:
            for ref in parsed.references:
                seen.setdefault(ref.digest, ref.size)

    walk(top_digest, None)
    return list(seen.items())


def _index_entry(store: Store, image: StoredImage, name: str | None) -> dict[str, Any]:
    top = image.index if image.index is not None else image.manifest
    entry: dict[str, Any] = {
        "mediaType": top.media_type,
        "digest": str(top.digest),
        "size": len(top.raw),
    }
    if name:
        ref = Reference.parse(name, store.default_registry)
        entry["annotations"] = {CONTAINERD_NAME: str(ref), REF_NAME: ref.tag}
    return entry


def save_oci_layout(store: Store, images: Iterable[tuple[StoredImage, list[str]]],
                    dest: Path | BinaryIO) -> None:
    """Write an OCI layout: into directory ``dest``, or as a tar to a binary stream."""
    entries: list[dict[str, Any]] = []
    blobs: dict[Digest, int] = {}
    for image, names in images:
        for digest, size in _image_blobs(store, image.top_digest):
            blobs[digest] = size
        for name in names or [None]:  # type: ignore[list-item]
            entries.append(_index_entry(store, image, name))
    index = json.dumps({"schemaVersion": 2, "mediaType": mediatype.OCI_INDEX,
                        "manifests": entries}, indent=2).encode()
    layout = json.dumps(LAYOUT_FILE).encode()
    if isinstance(dest, Path):
        _write_dir(store, dest, blobs, index, layout)
    else:
        _write_tar(store, dest, blobs, index, layout)


def _write_dir(store: Store, dest: Path, blobs: dict[Digest, int], index: bytes,
               layout: bytes) -> None:
    for digest in blobs:
        target = dest / blob_path(digest)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        with store.blobs.open(digest) as src, tmp.open("wb") as out:
            while chunk := src.read(1024 * 1024):
                out.write(chunk)
        os.replace(tmp, target)
    (dest / "oci-layout").write_bytes(layout)
    tmp_index = dest / "index.json.tmp"
    tmp_index.write_bytes(index)
    os.replace(tmp_index, dest / "index.json")


def _write_tar(store: Store, out: BinaryIO, blobs: dict[Digest, int], index: bytes,
               layout: bytes) -> None:
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("oci-layout", layout), ("index.json", index)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        for dirname in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(dirname)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        for digest, _ in sorted(blobs.items()):
            info = tarfile.TarInfo(blob_path(digest))
            info.size = store.blobs.size(digest)
            info.mode = 0o644
            with store.blobs.open(digest) as src:
                tar.addfile(info, src)
