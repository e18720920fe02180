"""Content-addressed blob files: each blob stored once, visible only once verified.

Layout: ``<root>/blobs/<algorithm>/<hex>``; writers stream into ``<root>/tmp``,
hash as they go, fsync, check the digest, then rename into place. The rename
is atomic, so concurrent writers of the same blob are safe: whichever lands
last replaces identical bytes.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from lamina.errors import DigestMismatch, NotFound
from lamina.oci.digest import Digest, Hasher

CHUNK = 1024 * 1024
# A blob being written is ``tmp/blob.XXXXXXXX``, locked by its writer (scratch_files.py),
# so the next write removes what a killed one left. Versions before wrote ``blob-XXXXXXXX``
# unlocked: those go once they are older than any write takes.
_SCRATCH = "blob."
_OLD_SCRATCH = "blob-"


class VerifyingReader(io.RawIOBase):
    """Reads a blob file and raises DigestMismatch at EOF when the bytes are wrong."""

    def __init__(self, path: Path, digest: Digest) -> None:
        super().__init__()
        self._file = path.open("rb", buffering=0)
        self._hasher = Hasher(digest.algorithm)
        self._digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._file.readinto(buffer)
        if n:
            self._hasher.update(memoryview(buffer)[:n])
        else:
            actual = self._hasher.digest()
            if actual != self._digest:
                raise DigestMismatch(
                    f"stored blob {self._digest} is corrupt: its content hashes to {actual}"
                )
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._blobs = root / "blobs"
        self._tmp = root / "tmp"

    def path(self, digest: Digest) -> Path:
        return self._blobs / digest.algorithm / digest.hex

    def has(self, digest: Digest) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: Digest) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError as exc:
            raise NotFound(f"blob {digest} is not in the local store") from exc

    def open(self, digest: Digest) -> BinaryIO:
        """A reader that checks the digest when the blob has been read to the end."""
        path = self.path(digest)
        if not path.is_file():
            raise NotFound(f"blob {digest} is not in the local store")
        return cast(BinaryIO, io.BufferedReader(VerifyingReader(path, digest), CHUNK))

    def read_bytes(self, digest: Digest) -> bytes:
        """A small blob (manifest, config) read whole and verified."""
        with self.open(digest) as reader:
            return reader.read()

    def put_bytes(self, data: bytes, expected: Digest | None = None) -> Digest:
        digest = Digest.of(data, expected.algorithm if expected else "sha256")
        if expected is not None and digest != expected:
            raise DigestMismatch(f"content digest {digest} does not match expected {expected}")
        if not self.has(digest):
            with self.writer(expected=digest) as w:
                w.write(data)
        return digest

    def put_stream(self, src: BinaryIO, expected: Digest | None = None) -> tuple[Digest, int]:
        """Copy a stream into the store, verifying it; returns (digest, size)."""
        with self.writer(expected=expected) as w:
            while chunk := src.read(CHUNK):
                w.write(chunk)
        assert w.digest is not None
        return w.digest, w.size

    @contextlib.contextmanager
    def writer(self, expected: Digest | None = None) -> Iterator[BlobWriter]:
        """Write a blob; on exit it is verified and published, or discarded on error."""
        # writers only (tempfile, fcntl): commands that just read start without it
        from lamina.store.scratch_files import scratch_file

        # (and removes what killed writers left)
        fd, tmp_name = scratch_file(self._tmp, _SCRATCH, old_prefix=_OLD_SCRATCH)
        writer = BlobWriter(os.fdopen(fd, "wb"), expected.algorithm if expected else "sha256")
        try:
            yield writer
            writer.file.flush()
            os.fsync(writer.file.fileno())
            actual = writer.hasher.digest()
            if expected is not None and actual != expected:
                raise DigestMismatch(
                    f"content digest {actual} does not match expected {expected}; nothing stored"
                )
            writer.digest = actual
            final = self.path(actual)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, final)  # still locked: no sweep takes it before
        finally:
            writer.file.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)

    def delete(self, digest: Digest) -> int:
        """Remove a blob; returns the bytes freed (0 when it was absent)."""
        path = self.path(digest)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size

    def __iter__(self) -> Iterator[Digest]:
        if not self._blobs.is_dir():
            return
        for algorithm_dir in sorted(self._blobs.iterdir()):
            for path in sorted(algorithm_dir.iterdir()):
                yield Digest(algorithm_dir.name, path.name)


class BlobWriter(io.RawIOBase):
    """The write end handed out by BlobStore.writer: hashes and counts as it writes.

    It is a file object, so compressors and tar writers write straight into it;
    closing it (as some do when they finish) does not close the blob, which
    BlobStore.writer publishes or discards.
    """

    def __init__(self, file: BinaryIO, algorithm: str) -> None:
        super().__init__()
        self.file = file
        self.hasher = Hasher(algorithm)
        self.digest: Digest | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.hasher.update(data)
        self.file.write(data)
        return len(data)

    @property
    def size(self) -> int:
        return self.hasher.size
