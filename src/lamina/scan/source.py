"""Where the image to scan comes from: the local store, or an archive/layout path.

A ``docker save`` tar or an OCI layout given as a path is loaded into a
temporary store that is removed afterwards, so scanning a file never adds
images to the user's store.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import LaminaError
from lamina.store.image import StoredImage
from lamina.store.load import load
from lamina.store.store import Store


@dataclass(frozen=True)
class ImageSource:
    store: Store
    image: StoredImage
    name: str


@contextmanager
def open_image(text: str, store: Store, scratch: Path | None = None) -> Iterator[ImageSource]:
    path = Path(text)
    if not path.exists():
        yield ImageSource(store, store.resolve(text), text)
        return
    base = scratch or store.home / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix="scan-", dir=base))
    try:
        temporary = Store(temp, store.default_registry)
        images = load(temporary, path)
        if not images:
            raise LaminaError(f"{path} holds no image")
        image = images[0]
        yield ImageSource(temporary, image, image.tags[0] if image.tags else str(path))
    finally:
        shutil.rmtree(temp, ignore_errors=True)
