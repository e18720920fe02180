"""Layers extracted once into the store, to be stacked as OverlayFS lower dirs.

``<home>/layers/<alg>/<hex>/`` holds one layer, keyed by diff ID, with its
whiteouts written as OverlayFS markers. Extraction goes to a temporary dir
that is renamed into place, so a half-extracted layer is never used, and two
processes extracting the same layer both end with one complete copy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from lamina.layers.apply import apply_layer
from lamina.oci import mediatype
from lamina.oci.digest import Digest
from lamina.store.image import Layer, StoredImage
from lamina.store.store import Store


def extracted_layer(store: Store, layer: Layer) -> Path:
    """The directory holding ``layer`` alone, extracting it on first use (needs root)."""
    base = store.home / "layers" / layer.diff_id.algorithm
    target = base / layer.diff_id.hex
    if target.is_dir():
        return target
    store.verify_layer(layer)  # a pulled layer's diff ID is checked before it is trusted by it
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=base, prefix=".extract-"))
    try:
        os.chmod(tmp, 0o755)
        with store.blobs.open(layer.digest) as blob:
            apply_layer(blob, tmp, overlay_whiteouts=True,
                        compression=mediatype.layer_compression(layer.descriptor.media_type))
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():  # lost a race only if the winner's copy is there
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def adopt_extracted(store: Store, diff_id: Digest, tree: Path) -> bool:
    """Keep ``tree`` — the files of layer ``diff_id``, as the layer was written from them —
    as its extracted copy, so the next mount needs no extraction. False when a copy is
    there already (``tree`` is then left where it is, for its owner to remove)."""
    base = store.home / "layers" / diff_id.algorithm
    base.mkdir(parents=True, exist_ok=True)
    target = base / diff_id.hex
    if target.exists():
        return False
    os.chmod(tree, 0o755)
    try:
        os.rename(tree, target)
    except OSError:
        if not target.is_dir():
            raise
        return False  # another writer of the same layer got there first
    return True


def extracted_lowers(store: Store, image: StoredImage) -> list[Path]:
    """Every layer of ``image`` extracted, bottom first (the order OverlayFS helpers take)."""
    with store.writing():
        return [extracted_layer(store, layer) for layer in image.layers]
