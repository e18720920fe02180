"""A store's tags and images, read without opening the Store.

For a caller that must answer before the store is imported: a build replay
checks that the tags and images a recorded build depended on are unchanged,
and importing the Store would cost more than the whole replay.
"""

from __future__ import annotations

from lamina.store.folder import StoreFolder
from lamina.store.index import Index


class StoreRefs(StoreFolder):
    """The store at ``home``: where its features keep state, and what its index names."""

    def tags(self) -> dict[str, str]:
        """Canonical ``registry/repository:tag`` -> manifest digest."""
        return dict(Index(self.home).read().tags)

    def images(self) -> frozenset[str]:
        """The manifest digests of the images the store holds."""
        return frozenset(Index(self.home).read().images)
