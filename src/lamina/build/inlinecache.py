"""``--cache-to type=inline``: the build cache carried in the result image's own config.

BuildKit writes its cache metadata into the exported image config under
``moby.buildkit.cache.v0``: base64 of a JSON ``CacheConfig`` whose ``layers`` are
the image's layer blobs (each with the index of its parent layer, -1 for none)
and whose ``records`` are cache keys, each naming the layer its result ends at
and linking to the record it was built on (``inputs``). Only the steps the
image itself is made of can be described that way, so inline cache is always
``mode=min``.

Lamina writes the same structure with its own keys (the sha256 of the step's
key, so the field stays a digest) and adds, per record, what it needs to
rebuild the step's intermediate image from the final one: that image's config
with ``history`` and ``rootfs.diff_ids`` replaced by their lengths (both are
prefixes of the final image's) and its ID, which the rebuilt config must hash
to. A build given ``--cache-from type=registry,ref=IMAGE`` rebuilds a hit's
image from there and downloads only the layers it lacks.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from lamina.build.cachebackends import CacheBackend
from lamina.build.image import ImageState
from lamina.errors import LaminaError
from lamina.oci.digest import Digest
from lamina.oci.manifest import Manifest
from lamina.store import mutate
from lamina.store.image import Layer
from lamina.store.mutate import Draft
from lamina.store.store import Store

CACHE_FIELD = "moby.buildkit.cache.v0"
_LAMINA = "lamina.image"  # our addition to a CacheRecord; BuildKit's decoder ignores it


class InlineCacheError(LaminaError):
    """An image's inline cache that cannot be read."""


def record_digest(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _encode_config(doc: dict[str, Any]) -> bytes:
    # The bytes commit() writes, so a rebuilt config hashes to the step's image ID.
    return Draft(doc).config_bytes()


def _skeleton(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "history":
            out[key] = len(value or [])
        elif key == "rootfs" and isinstance(value, dict):
            out[key] = {**value, "diff_ids": len(value.get("diff_ids") or [])}
        else:
            out[key] = value
    return out


def _flesh(skeleton: dict[str, Any], final: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in skeleton.items():
        if key == "history":
            out[key] = list((final.get("history") or [])[:value])
        elif key == "rootfs" and isinstance(value, dict):
            diff_ids = (final.get("rootfs") or {}).get("diff_ids") or []
            out[key] = {**value, "diff_ids": list(diff_ids[:value["diff_ids"]])}
        else:
            out[key] = value
    return out


def _is_prefix(step: dict[str, Any], final: dict[str, Any]) -> bool:
    history, full = step.get("history") or [], final.get("history") or []
    diff_ids = (step.get("rootfs") or {}).get("diff_ids") or []
    all_ids = (final.get("rootfs") or {}).get("diff_ids") or []
    return history == full[:len(history)] and diff_ids == all_ids[:len(diff_ids)]


def embed(store: Store, final: ImageState, steps: dict[str, str]) -> ImageState:
    """``final`` with the records of ``steps`` (key -> manifest digest) it is made of, in its
    config: a new image, the one the build tags and pushes."""
    layers = [{"blob": str(lay.descriptor.digest), "parent": i - 1,
               "annotations": {"mediaType": lay.descriptor.media_type,
                               "diffID": str(lay.diff_id), "size": lay.descriptor.size}}
              for i, lay in enumerate(final.layers)]
    chain: list[tuple[int, str, ImageState]] = []
    for key, digest in steps.items():
        step = ImageState.load(store, digest)
        if _is_prefix(step.doc, final.doc):
            chain.append((len(step.doc.get("history") or []), key, step))
    chain.sort(key=lambda item: item[0])
    records: list[dict[str, Any]] = []
    for _length, key, step in chain:
        record: dict[str, Any] = {"digest": record_digest(key)}
        if step.layers:
            record["layers"] = [{"layer": len(step.layers) - 1}]
        if records:
            record["inputs"] = [[{"selector": "", "link": len(records) - 1}]]
        record[_LAMINA] = {"id": step.image_id, "config": _skeleton(step.doc)}
        records.append(record)
    cache = json.dumps({"layers": layers, "records": records}, separators=(",", ":"))
    doc = {k: v for k, v in final.doc.items() if k != CACHE_FIELD}
    doc[CACHE_FIELD] = base64.b64encode(cache.encode()).decode()
    stored = mutate.commit(store, Draft(doc, list(final.layers)))
    return ImageState(str(stored.id), str(stored.manifest_digest), doc, list(final.layers))


@dataclass
class InlineCache:
    """The records an image's config carries, and the image to rebuild hits from."""

    store: Store
    backend: CacheBackend
    manifest: Manifest
    doc: dict[str, Any]
    records: dict[str, dict[str, Any]]

    @classmethod
    def read(cls, store: Store, backend: CacheBackend, manifest: Manifest,
             doc: dict[str, Any]) -> InlineCache:
        try:
            cache = json.loads(base64.b64decode(doc[CACHE_FIELD], validate=True))
            records = {str(r["digest"]): r for r in cache.get("records") or []
                       if isinstance(r, dict) and isinstance(r.get(_LAMINA), dict)}
        except (ValueError, TypeError, KeyError) as exc:
            raise InlineCacheError(f"--cache-from {backend.where}: its {CACHE_FIELD} is not "
                                   f"a cache config: {exc}") from exc
        return cls(store, backend, manifest, doc, records)

    def fetch(self, key: str) -> str | None:
        """The manifest digest of ``key``'s image, rebuilt in the store; None: a miss."""
        record = self.records.get(record_digest(key))
        if record is None:
            return None
        lamina = record[_LAMINA]
        skeleton = lamina.get("config")
        if not isinstance(skeleton, dict):
            return None
        doc = _flesh(skeleton, self.doc)
        raw = _encode_config(doc)
        if str(Digest.of(raw)) != lamina.get("id"):
            return None  # not the image the key was made for: run the step
        diff_ids = [Digest.parse(d) for d in (doc.get("rootfs") or {}).get("diff_ids") or []]
        layers = [Layer(desc, diff_id, desc.size)
                  for desc, diff_id in zip(self.manifest.layers, diff_ids, strict=False)]
        with self.store.writing():  # from the first blob until the image references them
            for layer in layers:
                self.backend.fetch_blob(layer.descriptor, self.store)
            stored = mutate.commit(self.store, Draft(doc, layers), intermediate=True)
        return str(stored.manifest_digest)
