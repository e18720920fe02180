"""Quota arithmetic: the bytes a namespace holds, each blob and manifest counted once
however many repositories, manifests or tags share it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from lamina.oci.digest import Digest


def added_bytes(held: dict[Digest, int], new: Iterable[tuple[Digest, int | None]],
                size_of: Callable[[Digest], int | None]) -> int:
    """What storing ``new`` (digest, size or None to look up) adds to ``held``."""
    seen: set[Digest] = set()
    total = 0
    for digest, size in new:
        if digest in held or digest in seen:
            continue
        seen.add(digest)
        total += size if size is not None else (size_of(digest) or 0)
    return total
