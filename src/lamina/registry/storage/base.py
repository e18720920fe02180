"""What the registry needs from a place that keeps bytes.

Blobs are content-addressed and immutable; uploads are append-only scratch
files named by session id that become blobs only through ``commit_upload``,
after the caller has verified their digest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from lamina.oci.digest import Digest


@dataclass(frozen=True)
class BlobInfo:
    digest: Digest
    size: int
    mtime: float


class UploadFile(Protocol):
    """An open upload, positioned at its end."""

    def write(self, data: bytes, /) -> int: ...
    def truncate(self, size: int, /) -> int: ...
    def close(self) -> None: ...


class BlobStore(Protocol):
    def ping(self) -> None:
        """Raise StorageUnavailable unless the store answers (readiness checks)."""

    def stat(self, digest: Digest) -> BlobInfo | None: ...

    def local_path(self, digest: Digest) -> Path | None:
        """A file the server can send directly (sendfile); None for remote backends."""

    def open(self, digest: Digest) -> BinaryIO: ...

    def stream(self, digest: Digest, first: int, last: int) -> Iterator[bytes]:
        """Bytes ``first`` to ``last`` (inclusive) of the blob, a block at a time."""

    def presign(self, digest: Digest) -> str | None:
        """A URL a client may GET the blob from directly, for a while; None if unsupported."""

    def read(self, digest: Digest) -> bytes:
        """The whole blob: for small ones only (manifests)."""

    def put(self, digest: Digest, data: bytes) -> None:
        """Store small verified bytes under their digest, atomically."""

    def delete(self, digest: Digest) -> bool:
        """Delete the blob, its layer index first (so no index outlives its blob)."""

    def delete_many(self, digests: list[Digest]) -> None:
        """Delete these blobs and their layer indexes (those already gone are no error):
        gc's batches."""

    def quarantine(self, digest: Digest, reason: str) -> str | None:
        """Move a corrupt blob aside (its layer index is deleted); where it went, None if
        it was already gone."""

    # A layer blob's index (layers/layerindex.py bytes), kept next to the blob so that
    # every replica reads the one made by whichever replica indexed it.
    def read_layer_index(self, digest: Digest) -> bytes | None:
        """The stored index of the blob ``digest``; None when there is none."""

    def write_layer_index(self, digest: Digest, data: bytes) -> None:
        """Store (or replace) the index of the blob ``digest``, atomically."""

    def delete_layer_indexes(self, digests: list[Digest]) -> None:
        """Delete these indexes alone (those already gone are no error)."""

    def iter_layer_indexes(self) -> Iterator[Digest]:
        """The blob digests that have a stored index (gc's check for orphans)."""

    def iter_blobs(self) -> Iterator[BlobInfo]: ...

    def create_upload(self, session: str) -> None: ...

    def upload_size(self, session: str) -> int | None: ...

    def append_upload(self, session: str) -> UploadFile: ...

    def read_upload(self, session: str) -> Iterator[bytes]: ...

    def commit_upload(self, session: str, digest: Digest) -> None:
        """Make the (verified) upload the blob ``digest``: durable, then visible."""

    def delete_upload(self, session: str) -> None: ...

    def iter_uploads(self) -> Iterator[tuple[str, int, float]]:
        """(session, size, mtime) of every upload file."""

    def sweep_scratch(self, older_than: float) -> int:
        """Remove scratch files of writes interrupted before ``older_than``; bytes freed."""
