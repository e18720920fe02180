"""The seam to ``lamina.scan``: an image's installed packages, keyed for diffing."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from lamina.analyze.diff import PackageKey
from lamina.analyze.layerscan import LayerScan
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


def may_change_packages(scans: list[LayerScan]) -> bool:
    """Whether these layers can change an image's package list: they write a package
    database or delete something (a whiteout or opaque directory could remove one)."""
    # (the path rules alone: importing the scanner's parsers costs more than this check)
    from lamina.packages.databases import any_database

    return any(scan.whiteouts or scan.opaque or any_database([item.path for item in scan.files])
               for scan in scans)
