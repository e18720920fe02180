"""Where an image a command reads comes from: a file, the store, an engine, or a registry.

The one entry point for analyze, explore, diff, lint --image, scan, sbom and
slim. Like skopeo, ``docker-daemon:NAME[:TAG]`` reads the local Docker engine
and ``podman:NAME`` (or ``containers-storage:NAME``) Podman's storage; a plain
name that is neither a file nor in the store is looked for in the Docker engine
before its registry, and the command says on stderr where it found it.

An image given as a file is read where it lies, nothing copied: a ``docker
save`` archive (store/archive_image.py: each layer indexed straight from the
file) and an OCI layout, a directory or a tar of one (store/layout_image.py:
each layer's blob read once, its digests checked), also a docker archive
whose layers some tool compressed and Docker 25's archives whose index.json
names no image. Only a file that does not hold together (a config whose diff
IDs do not match its layers) is loaded, into a store in a temporary directory,
so that loading reports it; analysing a file never adds images to the user's
store. A name the local store lacks is pulled from its registry, also into a temporary
store, as is an engine's image (streamed, store/archive_stream.py).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from lamina.client.engine_image import in_docker_engine, load_engine_image, split_transport
from lamina.errors import LaminaError, NotFound
from lamina.layers.layerindex import LayerIndex
from lamina.oci.digest import Digest
from lamina.oci.reference import Reference
from lamina.store.image import StoredImage, StoredImageView
from lamina.store.layer_index import layer_index
from lamina.store.store import Store
from lamina.store.store_image import StoreImage

if TYPE_CHECKING:
    import tempfile


class ImageSourceError(LaminaError):
    """The image argument names nothing Lamina can read."""


class InPlace(Protocol):
    """An image read where it lies (store/archive_image.py, store/layout_image.py)."""

    def open_layer(self, index: int) -> BinaryIO: ...

    def open_blob(self, digest: Digest) -> BinaryIO: ...

    def layer_index(self, index: int, *, hash_contents: bool = True) -> LayerIndex: ...

    def hash_rows(self, index: int, listing: LayerIndex, rows: Iterable[int]) -> None: ...


@dataclass(frozen=True)
class OpenedImage(StoredImageView):
    store: Store
    image: StoredImage
    name: str
    origin: str  # "store", "archive", "docker-daemon", "podman" or "registry"
    archive: InPlace | None = None  # set when read in place from a file

    def open_layer(self, index: int) -> BinaryIO:
        if self.archive is not None:
            return self.archive.open_layer(index)
        return self.store.open_blob(self.image.layers[index].digest)

    def open_blob(self, digest: Digest) -> BinaryIO:
        if self.archive is not None:
            return self.archive.open_blob(digest)
        return self.store.open_blob(digest)

    def layer_index(self, index: int) -> LayerIndex:
        """The file listing of layer ``index``: stored once per layer, made on first use."""
        if self.archive is not None:
            return self.archive.layer_index(index)
        return layer_index(self.store, self.image.layers[index])

    @property
    def partial_listings(self) -> bool:
        """Whether ``layer_listing`` may leave files unhashed (then pass ``contents``)."""
        return self.archive is not None

    @property
    def contents(self) -> OpenedImage | None:
        """What hashes files of ``layer_listing``s left unhashed (analyze_image's
        ``contents``): this image when read in place, else None (all are hashed)."""
        return self if self.archive is not None else None

    def layer_listing(self, index: int) -> LayerIndex:
        """As ``layer_index``, but an archive read in place leaves regular files unhashed
        (``hashed=False``): ``hash_rows`` hashes those the caller needs."""
        if self.archive is not None:
            return self.archive.layer_index(index, hash_contents=False)
        return self.layer_index(index)

    def hash_rows(self, index: int, listing: LayerIndex, rows: Iterable[int]) -> None:
        """Fill in the content hashes of these rows of ``layer_listing(index)``."""
        if self.archive is not None and not listing.hashed:
            self.archive.hash_rows(index, listing, rows)

    def read_members(self, index: int, listing: LayerIndex, rows: list[int]) -> list[bytes]:
        """The bytes of these regular-file rows of layer ``index``'s listing, read by their
        offsets (a store image's compressed layer from its extracted copy when there is one:
        store_image.py)."""
        if self.archive is None:
            return StoreImage(self.store, self.image).read_members(index, listing, rows)
        from lamina.layers.members import read_spans
        from lamina.oci import mediatype

        layer = self.image.layers[index]
        with self.open_blob(layer.digest) as blob:
            return read_spans(blob, mediatype.layer_compression(layer.descriptor.media_type),
                              [(listing.offsets[row], listing.sizes[row]) for row in rows])


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


def _scratch() -> tempfile.TemporaryDirectory[str]:
    """A temporary store's directory, for images that are not in the store or a file."""
    import tempfile  # with shutil and random: not for images read in place or stored

    return tempfile.TemporaryDirectory(prefix="lamina-image-")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@contextlib.contextmanager
def _from_engine(transport: str, name: str, store: Store, text: str) -> Iterator[OpenedImage]:
    with _scratch() as tmp:
        scratch = Store(Path(tmp), store.default_registry)
        yield OpenedImage(scratch, load_engine_image(transport, name, scratch), text, transport)


@contextlib.contextmanager
def open_image(text: str, store: Store, *, insecure: bool = False,
               notice: Callable[[str], None] = _stderr) -> Iterator[OpenedImage]:
    """The image ``text`` names: a transport-prefixed engine image, a bundle path, the local
    store, the Docker engine, or a registry, in that order."""
    transport, name = split_transport(text)
    if transport:
        with _from_engine(transport, name, store, text) as opened:
            yield opened
        return
    path, selector = _split_selector(text)
    if path.exists():
        with _from_file(path, selector, text, store) as opened:
            yield opened
        return
    try:
        image = store.resolve(text)
    except NotFound:
        pass
    else:
        yield OpenedImage(store, image, text, "store")
        return
    socket = in_docker_engine(text)
    if socket is not None:
        notice(f"{text}: not in the local store; read from the Docker engine at {socket}")
        with _from_engine("docker-daemon", text, store, text) as opened:
            yield opened
        return
    with _scratch() as tmp:
        scratch = Store(Path(tmp), store.default_registry)
        yield OpenedImage(scratch, _pull(scratch, text, insecure), text, "registry")


@contextlib.contextmanager
def _from_file(path: Path, selector: str, text: str, store: Store) -> Iterator[OpenedImage]:
    # the archive readers only for files: a store image does not load them
    from lamina.store.archive_image import archive_images
    from lamina.store.bundle import Bundle
    from lamina.store.docker_archive import is_docker_archive
    from lamina.store.oci_layout import is_oci_layout

    bundle = Bundle(path)
    try:
        readable: list[tuple[StoredImage, InPlace]] | None = None
        if is_oci_layout(bundle):
            from lamina.store.layout_image import layout_images  # only for a layout

            layouts = layout_images(bundle, store.default_registry)
            # as load reads it: Docker's OCI-era archives name images in manifest.json only
            if any(one.tags for one in layouts) or not is_docker_archive(bundle):
                readable = [(one.image, one) for one in layouts]
        if readable is None and (archived := archive_images(bundle, store.default_registry)):
            readable = [(one.image, one) for one in archived]
        if readable is not None:
            image, chosen = readable[_pick([image for image, _ in readable], path, selector)]
            yield OpenedImage(store, image, text, "archive", chosen)
            return
    finally:
        bundle.close()
    from lamina.store.load import load  # the loaders only when a file is not read in place

    with _scratch() as tmp:
        scratch = Store(Path(tmp), store.default_registry)
        images = load(scratch, path)
        yield OpenedImage(scratch, images[_pick(images, path, selector)], text, "archive")


def _pull(scratch: Store, text: str, insecure: bool) -> StoredImage:
    try:
        ref = Reference.parse(text, scratch.default_registry)
    except LaminaError as exc:
        raise ImageSourceError(
            f"{text!r} is not a file, not an image in the local store or the Docker engine,"
            f" and not an image reference: {exc}") from exc
    from lamina.client.errors import RegistryError
    from lamina.client.pull import pull
    from lamina.client.session import Session

    try:
        with Session(insecure=insecure) as session:
            return pull(scratch, session, ref).image
    except RegistryError as exc:
        raise ImageSourceError(
            f"{text!r} is not a file, not in the local store or the Docker engine,"
            f" and pulling it failed: {exc}"
        ) from exc


