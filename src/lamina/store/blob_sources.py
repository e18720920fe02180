"""Where blobs were seen: registry -> repositories per blob, for cross-repository mounts.

A push can mount a blob instead of uploading it when the same registry already
holds it in another repository (distribution-spec "Mounting a blob from another
repository"). Pulls, pushes and copies record here, through the Store
(``record_blob_sources``, ``blob_source_repositories``), in the store's
``blob-sources.json``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

_MAX_REPOS = 8  # enough candidates to mount from; the file stays small


class BlobSources:
    def __init__(self, home: Path) -> None:
        self._path = home / "blob-sources.json"
        self._lock = home / "blob-sources.lock"

    def _read(self) -> dict[str, Any]:
        try:
            doc = json.loads(self._path.read_bytes())
        except (FileNotFoundError, ValueError):
            return {}
        return doc if isinstance(doc, dict) else {}

    @contextlib.contextmanager
    def _update(self) -> Iterator[dict[str, Any]]:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            doc = self._read()
            yield doc
            tmp = self._path.with_suffix(".tmp")
            tmp.write_text(json.dumps(doc, sort_keys=True))
            os.replace(tmp, self._path)

    def record(self, registry: str, repository: str, digests: Iterable[str]) -> None:
        with self._update() as doc:
            for digest in digests:
                repos: list[str] = doc.setdefault(digest, {}).setdefault(registry, [])
                if repository in repos:
                    repos.remove(repository)
                repos.insert(0, repository)
                del repos[_MAX_REPOS:]

    def repositories(self, registry: str, digest: str) -> list[str]:
        entry = self._read().get(digest, {})
        repos = entry.get(registry, []) if isinstance(entry, dict) else []
        return [r for r in repos if isinstance(r, str)]
