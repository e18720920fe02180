"""Content digests: ``algorithm:hex`` strings, verified against exact bytes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

from lamina.errors import DigestMismatch, InvalidDigest

# Lengths of the hex encoding per supported algorithm (image-spec descriptor.md).
_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_ALGORITHM = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$")
_HEX = re.compile(r"^[a-f0-9]+$")


class _Hash(Protocol):
    def update(self, data: bytes | bytearray | memoryview, /) -> None: ...
    def hexdigest(self) -> str: ...


@dataclass(frozen=True, order=True)
class Digest:
    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        algorithm, sep, encoded = text.partition(":")
        if not sep or not algorithm or not encoded:
            raise InvalidDigest(f"invalid digest {text!r}: expected 'algorithm:hex'")
        if not _ALGORITHM.fullmatch(algorithm):
            raise InvalidDigest(f"invalid digest {text!r}: bad algorithm name {algorithm!r}")
        if algorithm not in _HEX_LENGTH:
            raise InvalidDigest(
                f"invalid digest {text!r}: unsupported algorithm {algorithm!r}"
                " (supported: sha256, sha512)"
            )
        if not _HEX.fullmatch(encoded):
            raise InvalidDigest(f"invalid digest {text!r}: encoding must be lowercase hex")
        if len(encoded) != _HEX_LENGTH[algorithm]:
            raise InvalidDigest(
                f"invalid digest {text!r}: {algorithm} needs {_HEX_LENGTH[algorithm]}"
                f" hex characters, got {len(encoded)}"
            )
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def hasher(self) -> Hasher:
        """A fresh hasher of this digest's algorithm, for streaming verification."""
        return Hasher(self.algorithm)

    def verify(self, data: bytes) -> None:
        actual = Digest.of(data, self.algorithm)
        if actual != self:
            raise DigestMismatch(f"content digest {actual} does not match expected {self}")

    @property
    def short(self) -> str:
        """The 12-character form docker prints as IMAGE ID."""
        return self.hex[:12]

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


class Hasher:
    """Hashes a stream as it passes and counts its bytes."""

    def __init__(self, algorithm: str = "sha256") -> None:
        if algorithm not in _HEX_LENGTH:
            raise InvalidDigest(f"unsupported digest algorithm {algorithm!r}")
        self.algorithm = algorithm
        self._hash: _Hash = hashlib.new(algorithm)
        self.size = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._hash.update(data)  # any buffer: no copy of a memoryview
        self.size += len(data)

    def digest(self) -> Digest:
        return Digest(self.algorithm, self._hash.hexdigest())
