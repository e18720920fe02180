"""A small JSON object kept in one file beside the store, changed under a lock.

What features keep next to the images (the build cache's index, where blobs were
seen for cross-repository mounts) is one JSON object each. Changes take an
exclusive flock and replace the file whole, so a reader without the lock sees the
old or the new object, never half of one. A missing or unreadable file reads as
empty: these are caches that can be rebuilt, unlike the store's own index.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class JsonDocument:
    def __init__(self, path: Path, *, indent: int | None = None) -> None:
        self.path = path
        self._lock = path.with_suffix(".lock")
        self._indent = indent

    def read(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.path.read_bytes())
        except (FileNotFoundError, ValueError):
            return {}
        return doc if isinstance(doc, dict) else {}

    @contextlib.contextmanager
    def update(self) -> Iterator[dict[str, Any]]:
        """The object to change in place; written back when the block ends without error."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            doc = self.read()
            yield doc
            tmp = Path(f"{self.path}.tmp")
            tmp.write_text(json.dumps(doc, indent=self._indent, sort_keys=True))
            os.replace(tmp, self.path)
