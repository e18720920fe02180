"""Layers extracted once into the store, to be stacked as OverlayFS lower dirs.

``<home>/layers/<alg>/<hex>/`` holds one layer, keyed by diff ID, with its
whiteouts written as OverlayFS markers. Extraction goes to a temporary dir
that is renamed into place, so a half-extracted layer is never used, and two
processes extracting the same layer both end with one complete copy.

A compressed layer's copy also serves readers of a few members (the package
databases an sbom reads): ``read_extracted`` reads them from the copy, where
the blob would have to be inflated up to them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from lamina.oci import mediatype
from lamina.oci.digest import Digest
from lamina.store.image import Layer, StoredImage
from lamina.store.store import Store

if TYPE_CHECKING:
    from lamina.layers.layerindex import LayerIndex


def _copy_dir(store: Store, diff_id: Digest) -> Path:
    return store.home / "layers" / diff_id.algorithm / diff_id.hex


def extracted_layer(store: Store, layer: Layer) -> Path:
    """The directory holding ``layer`` alone, extracting it on first use (needs root)."""
    import shutil  # the writers' modules load only when a layer is extracted
    import tempfile

    from lamina.layers.apply import apply_layer

    target = _copy_dir(store, layer.diff_id)
    base = target.parent
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
    target = _copy_dir(store, diff_id)
    target.parent.mkdir(parents=True, exist_ok=True)
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


def read_extracted(store: Store, diff_id: Digest, listing: LayerIndex,
                   rows: Iterable[int]) -> list[bytes] | None:
    """The bytes of these regular-file rows of ``listing`` read from the layer's extracted
    copy; None when there is none or it does not hold them as listed (a size differs, a
    path is not a plain file or lies below a symlink): then read the blob."""
    copy = _copy_dir(store, diff_id)
    if not copy.is_dir():
        return None
    root = os.path.realpath(copy)
    out: list[bytes] = []
    for row in rows:
        path = os.path.join(root, listing.paths[row])
        if os.path.realpath(os.path.dirname(path)) != os.path.dirname(path):
            return None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size != listing.sizes[row]:
                return None
            out.append(fh.read())
    return out
