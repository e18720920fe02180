"""Which files' content hashes an analysis reads: only files that share their size.

Analysis compares contents in two places: duplicates (one content under
several paths) and a path's versions in two layers (modified or not). Equal
contents have equal sizes, and versions whose sizes differ differ anyway, so
only the regular files whose size another regular file of the image also
has need a hash. Empty files need none (their digest is known). On the
60,000-file benchmark image that is 118 MB of 434 MB.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from lamina.layers.layerindex import LayerIndex

HashRows = Callable[[int, LayerIndex, list[int]], None]


def rows_to_hash(listings: Sequence[LayerIndex]) -> list[list[int]]:
    """Per layer, the rows (regular files; only they have sizes) analysis needs hashed."""
    counts: Counter[int] = Counter()
    for listing in listings:
        counts.update(size for size in listing.sizes if size)
    shared = {size for size, count in counts.items() if count > 1}
    return [[row for row, size in enumerate(listing.sizes) if size in shared]
            if not listing.hashed else [] for listing in listings]


def hash_needed(listings: Sequence[LayerIndex], hash_rows: HashRows) -> None:
    """Hash, in listings left unhashed, the files whose content analysis compares."""
    for layer, rows in enumerate(rows_to_hash(listings)):
        if rows:
            hash_rows(layer, listings[layer], rows)
