"""The content-addressed blob store: stored once, verified, atomic."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from lamina.errors import DigestMismatch, NotFound
from lamina.oci.digest import Digest
from lamina.store.blobs import BlobStore


def test_put_and_read_back(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    digest = blobs.put_bytes(b"hello")
    assert digest == Digest.of(b"hello")
    assert blobs.has(digest)
    assert blobs.read_bytes(digest) == b"hello"
    assert blobs.size(digest) == 5
    assert list(blobs) == [digest]


def test_wrong_digest_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    wrong = Digest.of(b"something else")
    with pytest.raises(DigestMismatch, match="does not match"):
        blobs.put_stream(io.BytesIO(b"hello"), wrong)
    assert not blobs.has(wrong)
    assert list(blobs) == []
    assert list((tmp_path / "tmp").iterdir()) == []


def test_corrupt_blob_is_detected_on_read(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    digest = blobs.put_bytes(b"original content")
    blobs.path(digest).write_bytes(b"tampered content")
    with pytest.raises(DigestMismatch, match="corrupt"):
        blobs.read_bytes(digest)


def test_missing_blob_names_the_digest(tmp_path: Path) -> None:
    digest = Digest.of(b"absent")
    with pytest.raises(NotFound, match=digest.hex):
        BlobStore(tmp_path).open(digest)


def test_concurrent_writers_of_the_same_blob_are_safe(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    data = b"x" * (3 * 1024 * 1024)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            blobs.put_stream(io.BytesIO(data))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert list(blobs) == [Digest.of(data)]
    assert blobs.read_bytes(Digest.of(data)) == data
    assert list((tmp_path / "tmp").iterdir()) == []
