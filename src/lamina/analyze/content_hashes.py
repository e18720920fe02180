"""Which files' content hashes an analysis reads: only files that may equal another.

Analysis compares contents in two places: duplicates (one content under
several paths) and a path's versions in two layers (modified or not). Equal
contents have equal sizes, and versions whose sizes differ differ anyway, so
only the regular files whose size another regular file of the image also
has need a hash (empty files need none: their digest is known). On the
60,000-file benchmark image that is 49,000 files, 118 MB of 434 MB.

An archive's listing read in place also keeps each file's first and last 16
bytes (LayerIndex.ends): equal contents have equal ends, so a file whose size
and ends no other file has is unlike every other file, and is not hashed
either. On the bench image that leaves 4,600 files (39 MB) of the 49,000 to
hash; BLAKE3 runs at ~1 GB/s on small files, so hashing all of them was ~40%
of the analysis.

A file left unhashed gets no digest (""): its content is unlike any other
file's, which tree.py's comparison of versions knows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import compress
from typing import Protocol

from lamina.layers.layerindex import LayerIndex


class ContentReader(Protocol):
    """Hashes layer files for listings left unhashed (an image read in place)."""

    def hash_rows(self, index: int, listing: LayerIndex, rows: Iterable[int]) -> None: ...


def rows_to_hash(listings: Sequence[LayerIndex]) -> list[list[int]]:
    """Per layer, the rows (regular files; only they have sizes) whose size another file
    of the image shares: the only ones that may equal another file."""
    counts: Counter[int] = Counter()
    for listing in listings:
        counts.update(listing.sizes)  # (counted in C; the loops below run in C too)
    shared = {size for size, count in counts.items() if count > 1 and size}
    return [list(compress(range(len(listing.sizes)), map(shared.__contains__, listing.sizes)))
            if not listing.hashed else [] for listing in listings]


def rows_alike(listings: Sequence[LayerIndex]) -> list[list[int]]:
    """Of ``rows_to_hash``, the rows whose size and ends another file shares (all of a
    listing that kept no ends)."""
    wanted = rows_to_hash(listings)
    more_than_once = (1).__lt__
    # Ends first (bytes keys, cheap to count), then (size, ends) of the few rows left.
    # Every loop runs in C: this is per file of the image.
    by_ends: Counter[bytes] = Counter()
    for listing, rows in zip(listings, wanted, strict=True):
        if listing.ends:
            by_ends.update(map(listing.ends.__getitem__, rows))
    left = [list(compress(rows, map(more_than_once, map(by_ends.__getitem__,
                                                        map(listing.ends.__getitem__, rows)))))
            if listing.ends else rows for listing, rows in zip(listings, wanted, strict=True)]
    keys = [list(zip(map(listing.sizes.__getitem__, rows), map(listing.ends.__getitem__, rows),
                     strict=True))
            if listing.ends else [] for listing, rows in zip(listings, left, strict=True)]
    by_both: Counter[tuple[int, bytes]] = Counter()
    for layer in keys:
        by_both.update(layer)
    return [list(compress(rows, map(more_than_once, map(by_both.__getitem__, layer))))
            if listing.ends else rows
            for listing, rows, layer in zip(listings, left, keys, strict=True)]


def hash_needed(listings: Sequence[LayerIndex], contents: ContentReader) -> None:
    """Hash, in listings left unhashed, the files whose content analysis compares."""
    for layer, rows in enumerate(rows_alike(listings)):
        if rows:
            contents.hash_rows(layer, listings[layer], rows)
