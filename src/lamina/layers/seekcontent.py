"""Hashing chosen regular files of a plain layer tar in a file (seekindex.py's listing
gives their offsets), those an analysis compares (analyze/content_hashes.py).

Files that lie close together are read with one pread and hashed from it; a
large file is hashed in pieces.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Final

from blake3 import blake3

from lamina.layers import layerindex
from lamina.layers.layerindex import LayerIndex
from lamina.layers.tarstream import InvalidLayer

_PIECE: Final = 1 << 20  # a large file is hashed this much at a time
_LARGE: Final = 256 * 1024  # a file larger than this is hashed on its own
_GAP: Final = 16 * 1024  # files this close together are read in one piece
_TRUNCATED: Final = "layer tar is truncated: a member's content ends early"


def _pread(fd: int, length: int, at: int) -> bytes:
    data = os.pread(fd, length, at)
    if len(data) < length:
        raise InvalidLayer(_TRUNCATED)
    return data


def _contents(fd: int, start: int, index: LayerIndex, rows: Iterable[int], large: int
              ) -> Iterator[tuple[int, memoryview | None]]:
    """(row, content) of these non-empty regular files in layer order; content is None for
    files over ``large`` bytes (the caller reads those itself). Files that lie close
    together are read with one pread."""
    sizes, offsets = index.sizes, index.offsets
    run: list[int] = []
    run_at = run_end = 0
    for row in sorted(rows, key=offsets.__getitem__):
        size, at = sizes[row], offsets[row]
        if not size:
            continue
        if size > large:
            yield row, None
            continue
        if run and (at - run_end > _GAP or at + size - run_at > _PIECE):
            data = memoryview(_pread(fd, run_end - run_at, start + run_at))
            for member in run:
                rel = offsets[member] - run_at
                yield member, data[rel:rel + sizes[member]]
            run = []
        if not run:
            run_at = at
        run.append(row)
        run_end = at + size
    if run:
        data = memoryview(_pread(fd, run_end - run_at, start + run_at))
        for member in run:
            rel = offsets[member] - run_at
            yield member, data[rel:rel + sizes[member]]


def _hash(fd: int, at: int, length: int) -> bytes:
    hasher = layerindex.content_hasher()
    while length > 0:
        piece = _pread(fd, min(length, _PIECE), at)
        hasher.update(piece)
        at += len(piece)
        length -= len(piece)
    return hasher.digest()


def hash_rows(fd: int, start: int, index: LayerIndex, rows: Iterable[int]) -> None:
    """Fill in the digests of these rows (regular files) of an index ``index_file`` made."""
    digests = index.digests
    if not isinstance(digests, bytearray):
        digests = index.digests = bytearray(digests)
    width = layerindex.DIGEST_BYTES
    sizes, offsets = index.sizes, index.offsets
    for row, content in _contents(fd, start, index, rows, _LARGE):
        digests[row * width:(row + 1) * width] = \
            blake3(content).digest() if content is not None else \
            _hash(fd, start + offsets[row], sizes[row])
