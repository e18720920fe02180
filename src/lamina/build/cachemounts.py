"""Cache mounts (``RUN --mount=type=cache``): directories kept by the builder between builds.

Dockerfile reference, "RUN --mount=type=cache": the contents persist in the
builder's cache, never in a layer; mounts with the same ``id`` share them across
Dockerfiles; ``--no-cache`` does not clear them. Each cache lives at
``$LAMINA_HOME/cache-mounts/<key>/`` where the key hashes the id (and, with
``from=``, the image the cache starts from, as BuildKit keys it), with one
directory per instance: ``sharing=shared`` and ``locked`` use instance 0 (a
shared or an exclusive ``flock``, so ``locked`` waits for the other builds), and
``private`` takes the first instance nobody holds, making a new one when all are
busy. ``lamina builder du`` and ``prune`` read and clear this directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

SHARING = ("shared", "private", "locked")
RECORD_TYPE = "exec.cachemount"  # BuildKit's record type, as `docker buildx du` shows it


@dataclass(frozen=True)
class CacheRecord:
    """One cache-mount instance: what `lamina builder du` lists."""

    key: str
    instance: int
    id: str
    size: int
    last_used: float
    in_use: bool

    @property
    def record_id(self) -> str:
        return f"{self.key}.{self.instance}"


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


class CacheMounts:
    FOLDER: Final = "cache-mounts"  # under LAMINA_HOME, beside the store

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def key(cache_id: str, base: str | None) -> str:
        text = cache_id if base is None else f"{cache_id}\0{base}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @contextlib.contextmanager
    def acquire(self, cache_id: str, *, sharing: str, base: str | None = None,
                mode: int = 0o755, uid: int = 0, gid: int = 0,
                seed: Callable[[Path], None] | None = None) -> Iterator[Path]:
        """The cache's data directory, held for the ``with`` block as ``sharing`` says.

        A new cache directory gets ``mode``/``uid``/``gid`` and, with ``seed``, its first
        contents (``from=``/``source=``); an existing one keeps what earlier builds left.
        """
        if sharing not in SHARING:
            raise ValueError(f"sharing={sharing}")
        base_dir = self.root / self.key(cache_id, base)
        base_dir.mkdir(parents=True, exist_ok=True)
        (base_dir / "id").write_text(cache_id)
        with self._hold(base_dir, sharing) as instance:
            data = instance / "data"
            if not data.exists():
                _create(instance, data, mode, uid, gid, seed)
            (instance / "used").write_text(str(time.time()))
            yield data

    @contextlib.contextmanager
    def _hold(self, base_dir: Path, sharing: str) -> Iterator[Path]:
        index = 0
        while True:
            instance = base_dir / str(index)
            instance.mkdir(exist_ok=True)
            lock = (instance / "lock").open("a")
            try:
                if sharing == "private":
                    try:
                        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        lock.close()
                        index += 1
                        continue
                else:
                    fcntl.flock(lock, fcntl.LOCK_SH if sharing == "shared" else fcntl.LOCK_EX)
                yield instance
                return
            finally:
                if not lock.closed:
                    lock.close()

    def records(self) -> list[CacheRecord]:
        out: list[CacheRecord] = []
        if not self.root.is_dir():
            return out
        for base_dir in sorted(self.root.iterdir()):
            try:
                cache_id = (base_dir / "id").read_text()
            except OSError:
                continue
            for instance in sorted((p for p in base_dir.iterdir() if p.name.isdigit()),
                                   key=lambda p: int(p.name)):
                if not (instance / "data").exists():
                    continue
                try:
                    used = float((instance / "used").read_text())
                except (OSError, ValueError):
                    used = 0.0
                out.append(CacheRecord(base_dir.name, int(instance.name), cache_id,
                                       _tree_size(instance / "data"), used,
                                       not _free(instance)))
        return out

    def prune(self, keep_storage: int | None = None) -> list[CacheRecord]:
        """Remove cache instances no build holds, least recently used first.

        With ``keep_storage``, stop once what remains takes at most that many bytes.
        """
        records = sorted(self.records(), key=lambda r: r.last_used)
        total = sum(r.size for r in records)
        removed = []
        for record in records:
            if keep_storage is not None and total <= keep_storage:
                break
            instance = self.root / record.key / str(record.instance)
            with (instance / "lock").open("a") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a build is using it
                shutil.rmtree(instance / "data", ignore_errors=True)
                (instance / "used").unlink(missing_ok=True)
            total -= record.size
            removed.append(record)
        return removed


def _create(instance: Path, data: Path, mode: int, uid: int, gid: int,
            seed: Callable[[Path], None] | None) -> None:
    """Make the instance's data directory once. Builds sharing a cache hold it together
    (a shared flock), so two can find it missing at the same moment; without this lock the
    second would replace the first's new directory, and the two would not share it."""
    with (instance / "create.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if data.exists():
            return  # made by the build that held the lock before us
        fresh = instance / "data.new"
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir()
        if seed is not None:
            seed(fresh)
        os.chown(fresh, uid, gid)
        os.chmod(fresh, mode)
        os.rename(fresh, data)  # never a half-seeded cache


def _free(instance: Path) -> bool:
    try:
        with (instance / "lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
    except BlockingIOError:
        return False

