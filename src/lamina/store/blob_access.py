"""The store's blobs as the rest of Lamina reaches them, and the lock that guards writers.

Writers (load, pull, build) hold ``gc.lock`` shared (``writing()``) while they
add blobs that no tag reaches yet; the store's clean-up takes it exclusively,
so it never deletes a blob an unfinished writer is about to reference. A new
layer is written through ``layer_writer()``, which holds it for the write; a
caller holds ``writing()`` itself until an image references what it added
(store/mutate.py does for the images it writes). A pulled layer comes in through
``ingest_layer_stream`` (one pass: digest, diff ID, sizes, index), and where a blob
was seen is recorded beside the blobs (blob_sources.py) for pushes to mount from.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from lamina.oci.digest import Digest
from lamina.store.blob_sources import BlobSources
from lamina.store.blobs import BlobStore, BlobWriter
from lamina.store.folder import StoreFolder
from lamina.store.index import LayerRecord
from lamina.store.layer_index import keep_index


class BlobAccess(StoreFolder):
    """The blob half of store.Store: ``<home>/blobs`` and ``<home>/gc.lock``."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.blobs = BlobStore(home)
        self._sources = BlobSources(home)

    @contextlib.contextmanager
    def _gc_lock(self, kind: int) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / "gc.lock").open("a") as lock:
            fcntl.flock(lock, kind)
            yield

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """Hold while adding blobs that no image references yet."""
        return self._gc_lock(fcntl.LOCK_SH)

    @contextlib.contextmanager
    def layer_writer(self) -> Iterator[BlobWriter]:
        """A new layer blob to write (a file object), under the writing lock.

        When the block ends the blob is fsynced and stored under its digest
        (``writer.digest``, ``writer.size``); on an error nothing is kept.
        """
        with self.writing(), self.blobs.writer() as blob:
            yield blob

    def has_blob(self, digest: Digest) -> bool:
        return self.blobs.has(digest)

    def blob_size(self, digest: Digest) -> int:
        return self.blobs.size(digest)

    def open_blob(self, digest: Digest) -> BinaryIO:
        """A stored blob; its digest is checked when it has been read to the end."""
        return self.blobs.open(digest)

    def open_blob_at(self, digest: Digest, offset: int) -> BinaryIO:
        """A stored blob's file from ``offset`` on, unchecked: for an upload that resumes
        (the registry checks the digest of what it receives)."""
        fh = self.blobs.path(digest).open("rb")
        fh.seek(offset)
        return fh

    def read_blob(self, digest: Digest) -> bytes:
        """A small blob (manifest, config), read whole and checked."""
        return self.blobs.read_bytes(digest)

    def put_blob(self, data: bytes, expected: Digest | None = None) -> Digest:
        """Store a small blob (checked against ``expected``); hold ``writing()``."""
        return self.blobs.put_bytes(data, expected)

    def put_blob_stream(self, src: BinaryIO, expected: Digest | None = None
                        ) -> tuple[Digest, int]:
        """Copy a stream into the store, checked against ``expected``; hold ``writing()``.
        Returns (digest, size)."""
        return self.blobs.put_stream(src, expected)

    def ingest_layer_stream(self, src: BinaryIO, *, digest: Digest, diff_id: Digest,
                            compression: str) -> LayerRecord:
        """Stream a layer in, in one pass: its blob digest and diff ID are checked, its
        sizes measured and its file listing indexed as the bytes arrive; hold ``writing()``.

        Nothing is kept (index included) when either digest does not match. Returns
        the layer's record, for ``add_image(layer_records=...)``.
        """
        from lamina.store.ingest import ingest_layer  # compression code loads on demand

        got = ingest_layer(self.blobs, src, expected_digest=digest, expected_diff_id=diff_id,
                           compression=compression)
        if got.index is not None:
            keep_index(self.home, diff_id, got.index)
        return got.record

    def record_blob_sources(self, registry: str, repository: str,
                            digests: Iterable[Digest]) -> None:
        """Remember that ``registry``/``repository`` holds these blobs (for later mounts)."""
        self._sources.record(registry, repository, [str(d) for d in digests])

    def blob_source_repositories(self, registry: str, digest: Digest) -> list[str]:
        """The repositories of ``registry`` that were seen holding ``digest``, newest first."""
        return self._sources.repositories(registry, str(digest))
