"""The S3 BlobStore against Ceph RGW: uploads that hop between replicas, S3's 5 MiB part
rule, chunks dropped or cut off, quarantine, and the bucket listing gc and fsck use.

Two ``S3BlobStore`` objects on one bucket stand for two replicas: they share nothing
but the object store, as two processes behind a balancer do.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest

from lamina.oci.digest import Digest
from lamina.registry.settings import RegistrySettings
from lamina.registry.storage.s3 import S3BlobStore
from lamina.registry.storage.s3_segments import MIN_PART, PART_SIZE, SEGMENT
from tests.registry.scaleout.services import Ceph, keys_under, unfinished_uploads

pytestmark = pytest.mark.integration


def _digest(data: bytes) -> Digest:
    return Digest.parse("sha256:" + hashlib.sha256(data).hexdigest())


def _replicas(s3_settings: dict[str, Any]) -> tuple[S3BlobStore, S3BlobStore]:
    settings = RegistrySettings.from_mapping(s3_settings)
    return S3BlobStore(settings), S3BlobStore(settings)


def _append(store: S3BlobStore, session: str, data: bytes) -> None:
    out = store.append_upload(session)
    for start in range(0, len(data), 1 << 20):  # as the upload sink writes: ~1 MiB blocks
        out.write(data[start:start + (1 << 20)])
    out.close()


def test_chunks_on_alternating_replicas_become_one_verified_blob(ceph: Ceph,
                                                                 s3_settings: dict[str, Any]
                                                                 ) -> None:
    """Small chunks (under S3's 5 MiB part minimum) and large ones alternate between two
    replicas; the blob is their concatenation and only the last segment is ever small."""
    one, two = _replicas(s3_settings)
    prefix = s3_settings["s3_prefix"]
    chunks = [os.urandom(1000), os.urandom(2 << 20), os.urandom(PART_SIZE * 2 + 12345),
              os.urandom(10), os.urandom(3 << 20)]
    one.create_upload("sess1")
    for i, chunk in enumerate(chunks):
        store = (one, two)[i % 2]
        before = store.upload_size("sess1")
        _append(store, "sess1", chunk)
        assert (one, two)[(i + 1) % 2].upload_size("sess1") == before + len(chunk)
        segments = [k for k in keys_under(ceph, f"{prefix}uploads/sess1/") if SEGMENT in k]
        sizes = [ceph.client().head_object(Bucket=ceph.bucket, Key=k)["ContentLength"]
                 for k in segments]
        assert all(size >= MIN_PART for size in sizes[:-1]), sizes
    data = b"".join(chunks)
    assert b"".join(two.read_upload("sess1")) == data
    digest = _digest(data)
    two.commit_upload("sess1", digest)
    assert one.read(digest) == data
    info = one.stat(digest)
    assert info is not None and info.size == len(data)
    assert keys_under(ceph, f"{prefix}uploads/") == []
    assert unfinished_uploads(ceph, prefix) == []
    assert b"".join(one.stream(digest, 5, 1004)) == data[5:1005]


def test_dropped_chunk_leaves_the_upload_as_it_was(s3_settings: dict[str, Any]) -> None:
    """A chunk whose length lies is dropped whole (spec.md "Pushing a blob in chunks"),
    also when it had begun to rewrite the small segment before it."""
    one, two = _replicas(s3_settings)
    one.create_upload("s")
    _append(one, "s", b"small head")
    out = two.append_upload("s")
    out.write(os.urandom(PART_SIZE + MIN_PART))  # already sends a part of the merged segment
    out.truncate(len(b"small head"))
    out.close()
    assert one.upload_size("s") == len(b"small head")
    assert b"".join(one.read_upload("s")) == b"small head"


def test_replica_killed_mid_chunk_keeps_previous_size_and_gc_aborts_its_parts(
        ceph: Ceph, s3_settings: dict[str, Any]) -> None:
    """What a replica killed mid-PATCH leaves: the session at its old size (the client
    resumes from GET's Range) and an unfinished multipart upload that the sweep aborts."""
    one, two = _replicas(s3_settings)
    prefix = s3_settings["s3_prefix"]
    one.create_upload("k")
    _append(one, "k", b"x" * 100)
    dying = one.append_upload("k")
    dying.write(os.urandom(PART_SIZE + MIN_PART + 1))  # never closed: the process is gone
    assert unfinished_uploads(ceph, prefix) != []
    assert two.upload_size("k") == 100
    _append(two, "k", b"y" * 50)
    assert b"".join(one.read_upload("k")) == b"x" * 100 + b"y" * 50
    freed = two.sweep_scratch(older_than=float("inf"))
    assert freed >= PART_SIZE
    assert unfinished_uploads(ceph, prefix) == []


def test_listing_quarantine_and_delete(ceph: Ceph, s3_settings: dict[str, Any]) -> None:
    store, _ = _replicas(s3_settings)
    blobs = {_digest(d): d for d in (b"one", b"two", b"three")}
    for digest, data in blobs.items():
        store.put(digest, data)
    assert {i.digest: i.size for i in store.iter_blobs()} == {d: len(v) for d, v in blobs.items()}
    first = next(iter(blobs))
    where = store.quarantine(first, "test")
    assert where is not None and where.startswith(f"s3://{ceph.bucket}/")
    assert store.stat(first) is None
    assert store.quarantine(first, "again") is None
    second = list(blobs)[1]
    assert store.delete(second) and not store.delete(second)
    assert [i.digest for i in store.iter_blobs()] == [list(blobs)[2]]
    with pytest.raises(FileNotFoundError):
        store.open(second)
