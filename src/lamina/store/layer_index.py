"""Layer indexes in the store: ``<home>/layer-index/<alg>/<hex>``, one per diff ID.

An index is written by the pass that brings a layer in (load and pull; see
ingest.py), by the pass that writes a new one (build steps, squash and slim;
mutate.py's IndexTap) and, for layers that came some other way (a store made
by an earlier version), by the first command that needs it: that one read of
the blob also checks its diff ID and records its sizes. A stale or damaged
index is rebuilt the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from lamina.layers.layerindex import LayerIndex, StaleIndex
from lamina.oci import mediatype
from lamina.oci.digest import Digest
from lamina.store.blobs import BlobStore
from lamina.store.image import Layer
from lamina.store.index import LayerRecord

if TYPE_CHECKING:
    from lamina.store.ingest import IngestedLayer

INDEX_DIR: Final = "layer-index"
# Where index files are written before their rename (scratch_files.py): a killed writer's
# file is removed by the next save, and gc leaves the folder alone.
SCRATCH: Final = ".scratch"
# Versions before SCRATCH wrote next to the indexes, as ``.index-XXXXXXXX``; those files
# carry no lock, so only old ones are taken for a dead writer's (scratch_files.OLD_AGE).
_OLD_SCRATCH: Final = ".index-"


class Store(Protocol):
    """What an index needs of the store (store.Store): its folder, blobs and layer records.

    A protocol rather than the class, because the Store measures a layer through
    this module (``verify_layer``): importing it back would tie the two in a circle.
    """

    @property
    def home(self) -> Path: ...

    @property
    def blobs(self) -> BlobStore: ...

    def record_layer(self, diff_id: Digest, record: LayerRecord) -> None: ...


def index_path(home: Path, diff_id: Digest) -> Path:
    return home / INDEX_DIR / diff_id.algorithm / diff_id.hex


def keep_index(home: Path, diff_id: Digest, index: LayerIndex) -> None:
    """Store ``index`` as the listing of ``diff_id``, named so (``stored_index`` checks)."""
    from lamina.store.scratch_files import write_atomically  # writers only: tempfile, fcntl

    scratch = home / INDEX_DIR / SCRATCH
    if not scratch.is_dir():  # once per store: the first save since SCRATCH came in
        _drop_old_scratch(home / INDEX_DIR)
    write_atomically(index_path(home, diff_id), scratch, index.parts(str(diff_id)))


def _drop_old_scratch(root: Path) -> None:
    from lamina.store.scratch_files import drop_if_old

    for path in root.glob(f"*/{_OLD_SCRATCH}*"):
        drop_if_old(path)


def save_index(store: Store, diff_id: Digest, index: LayerIndex | None) -> None:
    """Keep ``index`` for the layer ``diff_id`` (nothing when indexing it failed)."""
    if index is not None:
        keep_index(store.home, diff_id, index)


def stored_index(store: Store, diff_id: Digest) -> LayerIndex | None:
    """The usable index of ``diff_id`` when the store has one: None when there is none, or
    the file is of another version, damaged, unreadable or lists another layer (a copied
    or misplaced file), so that the caller rebuilds it rather than trust it."""
    try:
        return LayerIndex.load(index_path(store.home, diff_id), layer=str(diff_id))
    except (OSError, StaleIndex):
        return None


def measure(store: Store, layer: Layer) -> IngestedLayer:
    """Read a stored layer once: check its diff ID, record its sizes, keep its index."""
    from lamina.store.ingest import measure_layer  # compression code only when reading

    got = measure_layer(store.blobs, layer.digest, expected_diff_id=layer.diff_id,
                        compression=mediatype.layer_compression(layer.descriptor.media_type))
    store.record_layer(layer.diff_id, got.record)
    save_index(store, layer.diff_id, got.index)
    return got


def layer_index(store: Store, layer: Layer) -> LayerIndex:
    """The index of ``layer``, made on first use by one read of its blob."""
    known = stored_index(store, layer.diff_id)
    if known is not None:
        return known
    got = measure(store, layer)
    if got.index is None:
        assert got.index_error is not None
        raise got.index_error
    return got.index
