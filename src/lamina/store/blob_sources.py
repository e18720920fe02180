"""Where blobs were seen: registry -> repositories per blob, for cross-repository mounts.

A push can mount a blob instead of uploading it when the same registry already
holds it in another repository (distribution-spec "Mounting a blob from another
repository"). Pulls, pushes and copies record here, through the Store
(``record_blob_sources``, ``blob_source_repositories``), in the store's
``blob-sources.json``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lamina.store.json_document import JsonDocument

_MAX_REPOS = 8  # enough candidates to mount from; the file stays small


class BlobSources:
    def __init__(self, home: Path) -> None:
        self._doc = JsonDocument(home / "blob-sources.json")

    def record(self, registry: str, repository: str, digests: Iterable[str]) -> None:
        with self._doc.update() as doc:
            for digest in digests:
                repos: list[str] = doc.setdefault(digest, {}).setdefault(registry, [])
                if repository in repos:
                    repos.remove(repository)
                repos.insert(0, repository)
                del repos[_MAX_REPOS:]

    def repositories(self, registry: str, digest: str) -> list[str]:
        entry = self._doc.read().get(digest, {})
        repos = entry.get(registry, []) if isinstance(entry, dict) else []
        return [r for r in repos if isinstance(r, str)]
