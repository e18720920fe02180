"""Streams that hash and count the bytes passing through them.

Writing a layer chains them around the compressor, so the diff_id (digest of
the uncompressed tar) and the blob digest (of the compressed bytes) come out
of the one pass that writes the blob.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

from lamina.oci.digest import Digest, Hasher


class HashingWriter(io.RawIOBase):
    """Forwards writes to ``dst`` while hashing and counting them.

    ``observe``, when given, sees the same bytes in order (a layer's indexer rides
    on the pass that writes it). Closing it does not close ``dst``.
    """

    def __init__(self, dst: BinaryIO, algorithm: str = "sha256",
                 observe: Callable[[bytes | bytearray | memoryview], object] | None = None
                 ) -> None:
        self._dst = dst
        self._hasher = Hasher(algorithm)
        self._observe = observe

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._hasher.update(data)
        if self._observe is not None:
            self._observe(data)
        self._dst.write(data)
        return len(data)

    def flush(self) -> None:
        self._dst.flush()

    @property
    def size(self) -> int:
        return self._hasher.size

    def digest(self) -> Digest:
        return self._hasher.digest()


class HashingReader(io.RawIOBase):
    """Reads from ``src`` while hashing and counting what was read.

    Closing it does not close ``src``.
    """

    def __init__(self, src: BinaryIO, algorithm: str = "sha256") -> None:
        self._src = src
        self._hasher = Hasher(algorithm)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._src.read(-1 if size is None else size)
        self._hasher.update(data)
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    @property
    def size(self) -> int:
        return self._hasher.size

    def digest(self) -> Digest:
        return self._hasher.digest()
