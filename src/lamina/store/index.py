"""The store's small metadata file: images, tags, parents and layer sizes.

One JSON document (``index.json``) updated under an exclusive ``flock`` and
replaced atomically, so a crash never leaves it half-written.

- ``images``: manifest digest -> {"added": unix time, "parent": image ID or absent,
  "intermediate": true for build steps docker would hide}
- ``tags``: canonical ``registry/repository:tag`` -> manifest digest
- ``repo_digests``: canonical ``registry/repository@digest`` entries a pull recorded
- ``layers``: diff ID -> {"blob": blob digest, "tar_size": bytes of the uncompressed tar,
  "size": what its files take (Docker's layer size)}
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LayerRecord:
    blob: str
    tar_size: int
    size: int

    def to_doc(self) -> dict[str, Any]:
        return {"blob": self.blob, "tar_size": self.tar_size, "size": self.size}


@dataclass
class IndexData:
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    repo_digests: dict[str, str] = field(default_factory=dict)
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> IndexData:
        return cls(
            images=dict(doc.get("images", {})),
            tags=dict(doc.get("tags", {})),
            repo_digests=dict(doc.get("repo_digests", {})),
            layers=dict(doc.get("layers", {})),
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "tags": self.tags,
            "repo_digests": self.repo_digests,
            "layers": self.layers,
        }

    def layer(self, diff_id: str) -> LayerRecord | None:
        doc = self.layers.get(diff_id)
        if not isinstance(doc, dict) or "tar_size" not in doc:
            return None
        return LayerRecord(str(doc["blob"]), int(doc["tar_size"]), int(doc["size"]))

    def tags_of(self, manifest_digest: str) -> list[str]:
        return sorted(t for t, d in self.tags.items() if d == manifest_digest)


class Index:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._path = root / "index.json"
        self._lock = root / "index.lock"

    def read(self) -> IndexData:
        try:
            return IndexData.from_doc(json.loads(self._path.read_bytes()))
        except FileNotFoundError:
            return IndexData()

    @contextlib.contextmanager
    def update(self) -> Iterator[IndexData]:
        """Read-modify-write under an exclusive lock; written only if the block succeeds."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self.read()
            yield data
            tmp = self._path.with_suffix(".tmp")
            with tmp.open("w") as fh:
                json.dump(data.to_doc(), fh, indent=1, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._path)
