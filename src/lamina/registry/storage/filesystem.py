"""Blobs as files: ``blobs/<algorithm>/<first two hex>/<hex>``, uploads in ``uploads/``,
layer indexes in ``layer-index/<algorithm>/<hex>``.

A blob file appears only by rename of a fully written, fsynced file, so a
reader sees a whole blob or none, even after a crash.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

from lamina.errors import InvalidDigest
from lamina.oci.digest import Digest
from lamina.registry.errors import StorageUnavailable
from lamina.registry.storage.base import BlobInfo, UploadFile

READ_CHUNK = 1024 * 1024
INDEX_DIR = "layer-index"
INDEX_SCRATCH = ".index-"  # an index being written, renamed to its digest when whole
# An index write takes milliseconds: a scratch file this old was left by a writer killed
# mid-write. A fixed age, not gc's grace (which may be 0), so no write in flight loses it.
INDEX_SCRATCH_SECONDS = 3600


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.uploads = root / "uploads"
        self.quarantine_dir = root / "quarantine"
        self.indexes = root / INDEX_DIR
        for path in (self.blobs, self.uploads):
            path.mkdir(parents=True, exist_ok=True)

    def ping(self) -> None:
        if not (self.blobs.is_dir() and os.access(self.uploads, os.W_OK)):
            raise StorageUnavailable(f"blob directory {self.root} is missing or read-only")

    def _path(self, digest: Digest) -> Path:
        return self.blobs / digest.algorithm / digest.hex[:2] / digest.hex

    def _upload_path(self, session: str) -> Path:
        # Session ids are checked (uuid hex) at the HTTP edge; this is the second fence.
        if not session or "/" in session or session.startswith("."):
            raise ValueError(f"bad upload session id {session!r}")
        return self.uploads / session

    def stat(self, digest: Digest) -> BlobInfo | None:
        try:
            st = self._path(digest).stat()
        except FileNotFoundError:
            return None
        return BlobInfo(digest, st.st_size, st.st_mtime)

    def local_path(self, digest: Digest) -> Path | None:
        return self._path(digest)

    def open(self, digest: Digest) -> BinaryIO:
        return self._path(digest).open("rb")

    def stream(self, digest: Digest, first: int, last: int) -> Iterator[bytes]:
        with self._path(digest).open("rb") as fh:
            fh.seek(first)
            left = last - first + 1
            while left > 0 and (block := fh.read(min(READ_CHUNK, left))):
                left -= len(block)
                yield block

    def presign(self, digest: Digest) -> str | None:
        return None

    def read(self, digest: Digest) -> bytes:
        return self._path(digest).read_bytes()

    def _install(self, source: Path, digest: Digest) -> None:
        target = self._path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        _fsync_dir(target.parent)

    def put(self, digest: Digest, data: bytes) -> None:
        if self._path(digest).exists():
            return
        tmp = self.uploads / f".put-{digest.hex}-{os.getpid()}-{time.monotonic_ns()}"
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self._install(tmp, digest)

    def delete(self, digest: Digest) -> bool:
        self.delete_layer_indexes([digest])
        try:
            self._path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def delete_many(self, digests: list[Digest]) -> None:
        for digest in digests:
            self.delete(digest)

    def quarantine(self, digest: Digest, reason: str) -> str | None:
        source = self._path(digest)
        if not source.exists():
            return None
        self.delete_layer_indexes([digest])
        self.quarantine_dir.mkdir(parents=True, exist_ok=True)
        target = self.quarantine_dir / f"{digest.algorithm}-{digest.hex}-{int(time.time())}"
        os.replace(source, target)
        target.with_suffix(".reason").write_text(reason + "\n")
        return str(target)

    # layer indexes (no fan-out: one per layer, far fewer than blobs; the layout of the
    # per-replica indexes before, so those stay valid)

    def _index_path(self, digest: Digest) -> Path:
        return self.indexes / digest.algorithm / digest.hex

    def read_layer_index(self, digest: Digest) -> bytes | None:
        try:
            return self._index_path(digest).read_bytes()
        except FileNotFoundError:
            return None

    def write_layer_index(self, digest: Digest, data: bytes) -> None:
        path = self._index_path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{INDEX_SCRATCH}{digest.hex}-{os.getpid()}-{time.monotonic_ns()}")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)  # readers see the old file, the new one, or none
        finally:
            tmp.unlink(missing_ok=True)

    def delete_layer_indexes(self, digests: list[Digest]) -> None:
        for digest in digests:
            self._index_path(digest).unlink(missing_ok=True)

    def iter_layer_indexes(self) -> Iterator[Digest]:
        if not self.indexes.is_dir():
            return
        for algo_dir in sorted(self.indexes.iterdir()):
            for entry in sorted(algo_dir.iterdir()):
                try:
                    yield Digest.parse(f"{algo_dir.name}:{entry.name}")
                except InvalidDigest:  # a writer's scratch file
                    continue

    def iter_blobs(self) -> Iterator[BlobInfo]:
        if not self.blobs.is_dir():
            return
        for algo_dir in sorted(self.blobs.iterdir()):
            for prefix in sorted(algo_dir.iterdir()):
                for entry in sorted(prefix.iterdir()):
                    try:
                        digest = Digest.parse(f"{algo_dir.name}:{entry.name}")
                        st = entry.stat()
                    except (InvalidDigest, FileNotFoundError):
                        continue
                    yield BlobInfo(digest, st.st_size, st.st_mtime)

    def create_upload(self, session: str) -> None:
        self._upload_path(session).touch(exist_ok=False)

    def upload_size(self, session: str) -> int | None:
        try:
            return self._upload_path(session).stat().st_size
        except FileNotFoundError:
            return None

    def append_upload(self, session: str) -> UploadFile:
        fh = self._upload_path(session).open("r+b")
        fh.seek(0, os.SEEK_END)
        return cast(UploadFile, fh)

    def read_upload(self, session: str) -> Iterator[bytes]:
        with self._upload_path(session).open("rb") as fh:
            while chunk := fh.read(READ_CHUNK):
                yield chunk

    def commit_upload(self, session: str, digest: Digest) -> None:
        path = self._upload_path(session)
        with path.open("rb") as fh:
            os.fsync(fh.fileno())
        if self._path(digest).exists():
            path.unlink()
            return
        self._install(path, digest)

    def delete_upload(self, session: str) -> None:
        self._upload_path(session).unlink(missing_ok=True)

    def iter_uploads(self) -> Iterator[tuple[str, int, float]]:
        for entry in self.uploads.iterdir():
            if entry.name.startswith("."):
                continue  # scratch of put(), see sweep_scratch
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue
            yield entry.name, st.st_size, st.st_mtime

    def sweep_scratch(self, older_than: float) -> int:
        """Scratch of put() before ``older_than``, and of index writes over an hour old
        (one listing of each algorithm's index folder: one entry per layer)."""
        freed = _sweep(self.uploads.glob(".put-*"), older_than)
        if self.indexes.is_dir():
            freed += _sweep(self.indexes.glob(f"*/{INDEX_SCRATCH}*"),
                            min(older_than, time.time() - INDEX_SCRATCH_SECONDS))
        return freed


def _sweep(entries: Iterator[Path], older_than: float) -> int:
    """Remove the files last written before ``older_than``; the bytes they held."""
    freed = 0
    for entry in entries:
        try:
            st = entry.stat()
            if st.st_mtime < older_than:
                entry.unlink()
                freed += st.st_size
        except FileNotFoundError:
            continue
    return freed
