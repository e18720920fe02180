"""The store's own folder, as features reach it: scratch space and their state files, by name.

Features keep temporary work and a little state of their own (the build cache,
container records, cache mounts) beside the store, on its filesystem: a
finished layer is renamed into ``blobs/`` rather than copied, and an overlay
mount's upper and work dirs must share a filesystem. They ask the Store for
those places here instead of composing paths under its folder, so the layout
of the folder (blobs, index, extracted layers) stays the store's own business.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class StoreFolder:
    """The folder half of store.Store: ``<home>`` and the named places under it."""

    def __init__(self, home: Path) -> None:
        self.home = home

    @property
    def location(self) -> str:
        """Where the store is, for messages that tell the user where Lamina looked."""
        return str(self.home)

    def scratch_root(self, purpose: str = "") -> Path:
        """A folder (created) under the store in which a feature makes its temporary dirs.

        A purpose gets a folder of its own (``build`` -> ``build-tmp``), so what a
        crashed run left behind can be told apart; without one, the store's ``tmp``.
        """
        root = self.home / (f"{purpose}-tmp" if purpose else "tmp")
        root.mkdir(parents=True, exist_ok=True)
        return root

    @contextmanager
    def scratch_dir(self, purpose: str) -> Iterator[Path]:
        """A new private, empty folder under the store's ``tmp``, removed when the block ends."""
        import tempfile  # with shutil and random: only commands that need scratch space

        with tempfile.TemporaryDirectory(dir=self.scratch_root(), prefix=f"{purpose}-") as tmp:
            yield Path(tmp)

    def state_file(self, name: str) -> Path:
        """The file ``name`` in which a feature keeps state beside the store (its folder made)."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home / name

    def state_dir(self, name: str) -> Path:
        """The folder ``name`` in which a feature keeps state beside the store (not created)."""
        return self.home / name
