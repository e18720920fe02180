"""Where an image to analyse comes from: the local store, a bundle on disk, or a registry.

A ``docker save`` archive given by path is read in place (store/archive_image.py):
each layer is indexed straight from the file, nothing is copied. An OCI layout
(or an archive whose layers are compressed) is loaded into a store in a
temporary directory, so analysing a file never adds images to the user's
store. A name the local store lacks is pulled from its registry, also into a
temporary store.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from lamina.errors import LaminaError, NotFound
from lamina.layers.layerindex import LayerIndex
from lamina.oci.digest import Digest
from lamina.oci.reference import Reference
from lamina.store.image import StoredImage
from lamina.store.layer_index import layer_index
from lamina.store.store import Store

if TYPE_CHECKING:
    from lamina.store.archive_image import ArchiveImage


class ImageSourceError(LaminaError):
    """The image argument names nothing Lamina can read."""


@dataclass(frozen=True)
class OpenedImage:
    store: Store
    image: StoredImage
    name: str
    origin: str  # "store", "archive" or "registry"
    archive: ArchiveImage | None = None  # set when read in place from a docker archive

    def open_layer(self, index: int) -> BinaryIO:
        if self.archive is not None:
            return self.archive.open_layer(index)
        return self.store.blobs.open(self.image.layers[index].digest)

    def open_blob(self, digest: Digest) -> BinaryIO:
        if self.archive is not None:
            return self.archive.open_blob(digest)
        return self.store.blobs.open(digest)

    def layer_index(self, index: int) -> LayerIndex:
        """The file listing of layer ``index``: stored once per layer, made on first use."""
        if self.archive is not None:
            return self.archive.layer_index(index)
        return layer_index(self.store, self.image.layers[index])


def _pick(images: list[StoredImage], path: Path, selector: str) -> int:
    if not images:
        raise ImageSourceError(f"{path} holds no image")
    if selector:
        for number, image in enumerate(images):
            if any(tag == selector or tag.endswith("/" + selector) or
                   tag.rsplit("/", 1)[-1] == selector for tag in image.tags):
                return number
        raise ImageSourceError(f"{path} has no image tagged {selector!r}")
    return 0


def _split_selector(text: str) -> tuple[Path, str]:
    """``bundle.tar`` or ``bundle.tar@name:tag`` (which image of a multi-image bundle)."""
    path = Path(text)
    if path.exists():
        return path, ""
    head, sep, tail = text.rpartition("@")
    if sep and Path(head).exists():
        return Path(head), tail
    return path, ""


@contextlib.contextmanager
def open_image(text: str, store: Store, *, insecure: bool = False) -> Iterator[OpenedImage]:
    """The image ``text`` names, from a bundle path, the local store or a registry."""
    path, selector = _split_selector(text)
    if path.exists():
        # the archive readers only for files: a store image does not load them
        from lamina.store.archive_image import archive_images
        from lamina.store.bundle import Bundle

        bundle = Bundle(path)
        try:
            in_place = archive_images(bundle, store.default_registry)
            if in_place is not None:
                chosen = in_place[_pick([a.image for a in in_place], path, selector)]
                yield OpenedImage(store, chosen.image, text, "archive", chosen)
                return
        finally:
            bundle.close()
        from lamina.store.load import load  # the loaders only when a file is not read in place

        with tempfile.TemporaryDirectory(prefix="lamina-analyze-") as tmp:
            scratch = Store(Path(tmp), store.default_registry)
            images = load(scratch, path)
            yield OpenedImage(scratch, images[_pick(images, path, selector)], text, "archive")
        return
    try:
        image = store.resolve(text)
    except NotFound:
        pass
    else:
        yield OpenedImage(store, image, text, "store")
        return
    with tempfile.TemporaryDirectory(prefix="lamina-analyze-") as tmp:
        scratch = Store(Path(tmp), store.default_registry)
        yield OpenedImage(scratch, _pull(scratch, text, insecure), text, "registry")


def _pull(scratch: Store, text: str, insecure: bool) -> StoredImage:
    try:
        ref = Reference.parse(text, scratch.default_registry)
    except LaminaError as exc:
        raise ImageSourceError(
            f"{text!r} is not a file, not an image in the local store, and not an image"
            f" reference: {exc}") from exc
    from lamina.client.errors import RegistryError
    from lamina.client.pull import pull
    from lamina.client.session import Session

    try:
        with Session(insecure=insecure) as session:
            return pull(scratch, session, ref).image
    except RegistryError as exc:
        raise ImageSourceError(
            f"{text!r} is neither a file nor in the local store, and pulling it failed: {exc}"
        ) from exc


