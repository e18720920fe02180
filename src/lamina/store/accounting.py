"""What the store reports about its space and its clean-ups."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    stored_bytes: int  # what the blobs take on disk
    logical_bytes: int  # what they would take if every image kept its own copy
    blobs: int
    images: int

    @property
    def saved_bytes(self) -> int:
        return self.logical_bytes - self.stored_bytes


@dataclass(frozen=True)
class Removed:
    untagged: tuple[str, ...]
    deleted_images: tuple[str, ...]
    freed_bytes: int
