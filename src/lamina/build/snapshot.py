"""A step's writable view of its parent image, and the layer taken from what it changed.

The parent's layers are OverlayFS lower dirs shared from the store
(``$LAMINA_HOME/layers/<alg>/<hex>/``); each step writes into a fresh upper dir.
The layer is the upper dir written as a tar (overlay whiteouts become OCI
ones); the upper dir itself then becomes the new layer's extracted copy, so the
next step stacks it without extracting anything.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from lamina.build.image import ImageState
from lamina.oci.descriptor import Descriptor
from lamina.store.mutate import IndexTap, NewLayer
from lamina.store.store import Store


@dataclass
class Scratch:
    """Per-step scratch space on the store's filesystem: ``upper/`` and ``work/``."""

    root: Path

    @property
    def upper(self) -> Path:
        return self.root / "upper"

    @property
    def work(self) -> Path:
        return self.root / "work"

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def scratch(store: Store) -> Iterator[Scratch]:
    space = Scratch(Path(tempfile.mkdtemp(dir=store.scratch_root("build"), prefix="step-")))
    space.upper.mkdir(mode=0o755)
    try:
        yield space
    finally:
        space.remove()


def lowers(store: Store, image: ImageState) -> list[Path]:
    """The image's layers as extracted dirs, bottom first (extracting any not yet there)."""
    if not image.layers:
        return []
    from lamina.store.extracted import extracted_layer  # layer extraction: only when needed

    with store.writing():
        return [extracted_layer(store, layer) for layer in image.layers]


@contextmanager
def writable(store: Store, image: ImageState, space: Scratch) -> Iterator[Path]:
    """The merged root filesystem of ``image`` with ``space.upper`` on top, mounted."""
    dirs = lowers(store, image)
    if not dirs:
        yield space.upper  # FROM scratch: nothing below, write straight into the layer
        return
    from lamina.layers import overlay  # loaded only when a step mounts

    merged = space.root / "merged"
    merged.mkdir()
    overlay.mount(dirs, merged, upper=space.upper, work=space.work)
    try:
        yield merged
    finally:
        overlay.umount(merged)


@contextmanager
def readonly(store: Store, image: ImageState) -> Iterator[Path]:
    """The merged root filesystem of ``image``, read-only (COPY --from reads it)."""
    dirs = lowers(store, image)
    if not dirs:
        empty = Path(tempfile.mkdtemp(prefix="lamina-empty-"))
        try:
            yield empty
        finally:
            shutil.rmtree(empty, ignore_errors=True)
        return
    target = Path(tempfile.mkdtemp(dir=store.scratch_root("build"), prefix="ro-"))
    from lamina.layers import overlay

    if len(dirs) == 1:
        try:
            yield dirs[0]
        finally:
            target.rmdir()
        return
    overlay.mount(dirs, target)
    try:
        yield target
    finally:
        overlay.umount(target)
        target.rmdir()


def take_layer(store: Store, upper: Path, *, epoch: int | None, reproducible: bool,
               compression: str = "gzip") -> NewLayer | None:
    """The upper dir as a stored layer blob; None when the step changed nothing."""
    if not any(os.scandir(upper)):
        return None
    from lamina.layers.write import write_layer  # compressors load only when a layer is written
    from lamina.store.extracted import adopt_extracted

    tap = IndexTap()  # the layer's file listing, made in the pass that writes it
    with store.layer_writer() as blob:
        info = write_layer(upper, cast(BinaryIO, blob), compression, overlay_upper=True,
                           epoch=epoch, reproducible=reproducible or epoch is not None,
                           observe=tap)
    size = _content_size(upper)
    layer = NewLayer(Descriptor(info.media_type, info.digest, info.size), info.diff_id,
                     info.uncompressed_size, size, tap.finish())
    adopt_extracted(store, layer.diff_id, upper)  # the upper dir is the layer's files already
    return layer


def _content_size(root: Path) -> int:
    """What the files take (docker's layer size): regular files and symlink targets."""
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*filenames, *dirnames):
            st = os.lstat(os.path.join(dirpath, name))
            if st.st_mode & 0o170000 in (0o100000, 0o120000):
                total += st.st_size
    return total
