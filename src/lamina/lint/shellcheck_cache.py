"""ShellCheck's comments on a script, kept on disk so an unchanged RUN is not checked again.

A pre-commit hook lints the same Dockerfiles over and over with one RUN changed; ShellCheck
is most of the cost. The key is the SHA-256 of everything that decides the answer: the
shellcheck binary (path, size, mtime), its options, the excluded codes and the exact file
given to it (``#!`` line, exported names, body). Entries are small JSON files under
``$LAMINA_HOME/cache/shellcheck``, written atomically; a damaged one is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    from lamina.config import default_home

    return default_home() / "cache" / "shellcheck"


class ShellCheckCache:
    def __init__(self, directory: Path, binary: str, excluded: tuple[int, ...],
                 options: tuple[str, ...] = ()) -> None:
        self.directory = directory
        try:
            stat = os.stat(binary)
            identity = f"{binary}\0{stat.st_size}\0{stat.st_mtime_ns}"
        except OSError:
            identity = binary
        self._salt = (f"{identity}\0{' '.join(options)}\0{','.join(map(str, excluded))}\0"
                      .encode())

    def _path(self, content: str) -> Path:
        digest = hashlib.sha256(self._salt + content.encode()).hexdigest()
        return self.directory / digest[:2] / f"{digest[2:]}.json"

    def get(self, content: str) -> list[dict[str, Any]] | None:
        """The comments stored for ``content`` (as JSON objects); None on a miss."""
        try:
            data = json.loads(self._path(content).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            return None
        return data

    def put(self, content: str, comments: list[dict[str, Any]]) -> None:
        path = self._path(content)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(comments), encoding="utf-8")
            os.replace(partial, path)
        except OSError:
            pass  # a cache that cannot be written only costs the next run time
