"""The seam to ``lamina.scan``: an image's installed packages, keyed for diffing."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from lamina.analyze.diff import PackageKey
from lamina.errors import LaminaError
from lamina.layers.layerindex import LayerIndex
from lamina.oci.digest import Digest
from lamina.store.image import StoredImage


def package_versions(image: StoredImage, open_blob: Callable[[Digest], BinaryIO],
                     index_of: Callable[[int], LayerIndex] | None = None
                     ) -> dict[PackageKey, str] | None:
    """(type, name, arch) -> version of every package the image has; None when unreadable."""
    try:
        from lamina.scan.inventory import inventory_of
    except ImportError:  # scan is optional for analysis
        return None
    try:
        found = inventory_of(image.config, [layer.descriptor for layer in image.layers],
                             open_blob, index_of=index_of)
    except LaminaError:
        return None
    return {(pkg.type, pkg.name, pkg.arch): pkg.version for pkg in found.packages}
