"""The image a build step starts from and the one it leaves: config, history, layers.

Every step is committed as an image of its own (config + manifest in the store,
marked intermediate, parent = the previous step's image), as docker's classic
builder does; that is what ``history`` walks and what the cache points at.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lamina.build import runconfig
from lamina.oci import mediatype
from lamina.oci.descriptor import Descriptor, Platform
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest, parse_manifest
from lamina.store.image import Layer
from lamina.store.index import LayerRecord
from lamina.store.store import Store, host_os_arch


def timestamp(epoch: int | None) -> str:
    """RFC 3339 with nanoseconds in UTC, as docker writes ``created``."""
    if epoch is not None:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ns = time.time_ns()
    seconds, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{frac:09d}".rstrip("0")
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


@dataclass
class ImageState:
    """An image during a build: its ID ("" for scratch), full config document and layers."""

    image_id: str
    manifest_digest: str
    doc: dict[str, Any]
    layers: list[Layer] = field(default_factory=list)

    @classmethod
    def scratch(cls, platform: Platform | None = None) -> ImageState:
        platform = platform or host_os_arch()
        doc: dict[str, Any] = {"architecture": platform.architecture, "os": platform.os,
                               "config": {}, "rootfs": {"type": "layers", "diff_ids": []},
                               "history": []}
        if platform.variant:
            doc["variant"] = platform.variant
        return cls("", "", doc, [])

    @classmethod
    def load(cls, store: Store, manifest_digest: str) -> ImageState:
        manifest = parse_manifest(store.blobs.read_bytes(Digest.parse(manifest_digest)))
        if not isinstance(manifest, Manifest):
            raise TypeError(f"{manifest_digest} is not an image manifest")
        raw = store.blobs.read_bytes(manifest.config.digest)
        doc = json.loads(raw)
        diff_ids = [Digest.parse(d) for d in doc.get("rootfs", {}).get("diff_ids", [])]
        data = store.meta.read()
        layers = []
        for desc, diff_id in zip(manifest.layers, diff_ids, strict=True):
            record = data.layer(str(diff_id))
            layers.append(Layer(desc, diff_id, record.size if record else desc.size))
        return cls(str(manifest.config.digest), manifest_digest, doc, layers)

    @property
    def config(self) -> dict[str, Any]:
        value = self.doc.get("config")
        return dict(value) if isinstance(value, dict) else {}

    @property
    def short_id(self) -> str:
        return self.image_id.removeprefix("sha256:")[:12]


@dataclass(frozen=True)
class NewLayer:
    descriptor: Descriptor
    diff_id: Digest
    tar_size: int
    size: int


def commit(store: Store, parent: ImageState, config: dict[str, Any], created_by: str, *,
           layer: NewLayer | None, epoch: int | None, author: str | None = None,
           empty_layer: bool | None = None) -> ImageState:
    """Write the child image of ``parent`` (config blob, manifest) into the store."""
    doc = copy.deepcopy(parent.doc)
    created = timestamp(epoch)
    config = dict(config)
    config["Image"] = parent.image_id
    doc["config"] = runconfig.to_doc(config)
    doc.pop("container_config", None)
    doc.pop("container", None)
    doc.pop("docker_version", None)
    doc["created"] = created
    if author is not None:
        doc["author"] = author
    entry: dict[str, Any] = {"created": created, "created_by": created_by}
    if author or doc.get("author"):
        entry["author"] = author or doc["author"]
    is_empty = layer is None if empty_layer is None else empty_layer
    if is_empty:
        entry["empty_layer"] = True
    doc.setdefault("history", []).append(entry)
    layers = list(parent.layers)
    if layer is not None:
        doc.setdefault("rootfs", {"type": "layers", "diff_ids": []})
        doc["rootfs"]["diff_ids"] = [*doc["rootfs"].get("diff_ids", []), str(layer.diff_id)]
        layers.append(Layer(layer.descriptor, layer.diff_id, layer.size))
    ordered: dict[str, Any] = {k: doc[k] for k in ("architecture", "author", "config", "created", "history",
                                   "os", "os.version", "os.features", "variant", "rootfs")
               if k in doc}
    ordered.update({k: v for k, v in doc.items() if k not in ordered})
    raw = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode()
    with store.writing():
        config_digest = store.blobs.put_bytes(raw)
        manifest = Manifest.build(
            Descriptor(mediatype.OCI_CONFIG, config_digest, len(raw)),
            [lay.descriptor for lay in layers])
        records = {}
        if layer is not None:
            records[layer.diff_id] = LayerRecord(str(layer.descriptor.digest), layer.tar_size,
                                                 layer.size)
        parent_id = Digest.parse(parent.image_id) if parent.image_id else None
        store.add_image(manifest.raw, parent=parent_id, intermediate=True,
                        layer_records=records)
    return ImageState(str(config_digest), str(manifest.digest), ordered, layers)
