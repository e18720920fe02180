"""The build cache: (parent image, step) -> the image that step made.

Keys hash the parent's image ID, the step's history text and the config it ran
with, plus what the step copies (docker's file/dir checksums); values are
manifest digests of intermediate images in the store. The index lives at
``$LAMINA_HOME/build-cache.json``; entries whose image ``lamina prune`` removed
are misses, and are dropped when next looked up.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lamina.store.store import Store


def cache_key(parent_id: str, created_by: str, config: dict[str, Any], extra: Any = None) -> str:
    text = json.dumps([parent_id, created_by, config, extra], sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class BuildCache:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = store.home / "build-cache.json"
        self._lock = store.home / "build-cache.lock"

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_bytes())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, str]]:
        self.store.home.mkdir(parents=True, exist_ok=True)
        with self._lock.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self._read()
            yield data
            tmp = Path(f"{self.path}.tmp")
            tmp.write_text(json.dumps(data, indent=0, sort_keys=True))
            os.replace(tmp, self.path)

    def get(self, key: str) -> str | None:
        """The manifest digest cached for ``key``, when its image is still in the store."""
        digest = self._read().get(key)
        if digest is None:
            return None
        if self.store.has_image(digest):
            return digest
        with self._locked() as data:
            data.pop(key, None)
        return None

    def put(self, key: str, manifest_digest: str) -> None:
        with self._locked() as data:
            data[key] = manifest_digest
