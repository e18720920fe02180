"""The build cache: (parent image, step) -> the image that step made.

Keys hash the parent's image ID, the step's history text and the config it ran
with, plus what the step copies (docker's file/dir checksums); values are
manifest digests of intermediate images in the store. The index lives at
``$LAMINA_HOME/build-cache.json``; entries whose image ``lamina prune`` removed
are misses, and are dropped when next looked up.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from lamina.store.json_document import JsonDocument
from lamina.store.store import Store


def cache_key(parent_id: str, created_by: str, config: dict[str, Any], extra: Any = None) -> str:
    text = json.dumps([parent_id, created_by, config, extra], sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class BuildCache:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._doc = JsonDocument(store.state_file("build-cache.json"), indent=0)

    def _read(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._doc.read().items()}

    def get(self, key: str) -> str | None:
        """The manifest digest cached for ``key``, when its image is still in the store."""
        digest = self._read().get(key)
        if digest is None:
            return None
        if self.store.has_image(digest):
            return digest
        with self._doc.update() as data:
            data.pop(key, None)
        return None

    def put(self, key: str, manifest_digest: str) -> None:
        with self._doc.update() as data:
            data[key] = manifest_digest
