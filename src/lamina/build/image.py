"""The image a build step starts from and the one it leaves: config, history, layers.

Every step is committed as an image of its own (config + manifest in the store,
marked intermediate, parent = the previous step's image), as docker's classic
builder does; that is what ``history`` walks and what the cache points at.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lamina.build import runconfig
from lamina.oci.descriptor import Platform
from lamina.oci.digest import Digest
from lamina.store import mutate
from lamina.store.image import Layer
from lamina.store.mutate import Draft, NewLayer
from lamina.store.store import Store, host_os_arch

_DOCKER_ORDER = ("architecture", "author", "config", "created", "history", "os", "os.version",
                 "os.features", "variant", "rootfs")


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
        image = store.image(Digest.parse(manifest_digest))
        return cls(str(image.id), manifest_digest, image.config.doc, list(image.layers))

    @property
    def config(self) -> dict[str, Any]:
        value = self.doc.get("config")
        return dict(value) if isinstance(value, dict) else {}

    @property
    def short_id(self) -> str:
        return self.image_id.removeprefix("sha256:")[:12]


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
    draft = Draft(doc, list(parent.layers))
    draft.append(layer, entry)
    # docker's key order, so a config docker would write byte for byte is written so
    ordered: dict[str, Any] = {k: draft.config[k] for k in _DOCKER_ORDER if k in draft.config}
    ordered.update({k: v for k, v in draft.config.items() if k not in ordered})
    draft.config = ordered
    parent_id = Digest.parse(parent.image_id) if parent.image_id else None
    stored = mutate.commit(store, draft, parent=parent_id, intermediate=True)
    return ImageState(str(stored.id), str(stored.manifest_digest), ordered, draft.layers)
